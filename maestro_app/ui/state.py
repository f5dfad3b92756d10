"""Dashboard sessions: `AuthState`, the base of every page's state, and the session guard.

A session is the admin session token of `services.admins` (12 hours), kept in a
backend-only state var: names starting with `_` never leave the server. Every page's
`on_load` and every handler of a page state goes through `admin_event`, which verifies
the token on the server (signature, expiry, admin still active) and redirects to the
login page without a good one.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote

import reflex as rx
from reflex.event import EventSpec

from maestro_app.services import admins
from maestro_app.ui import routes
from maestro_app.ui.data import call_service, session_secret

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


class AuthState(rx.State):
    # Shown in the navbar; the session itself is the backend-only token.
    admin_name: str = ""
    _session_token: str = ""
    # Who the last session check found: the actor of audit records written by handlers.
    _actor: str = ""

    async def _has_session(self) -> bool:
        self._actor = ""
        if not self._session_token:
            return False
        check = await call_service(
            admins.verify_admin_session, token=self._session_token, secret=session_secret()
        )
        if check.username is None:
            logger.info(
                "dashboard session of %r ended (%s)",
                self.admin_name,
                "expired" if check.expired else "no longer valid",
            )
            return False
        self._actor = check.username
        return True

    def _start_session(self, issued: admins.AdminSession) -> None:
        self._session_token = issued.token
        self.admin_name = issued.username

    def _end_session(self) -> None:
        self._session_token = ""
        self._actor = ""
        self.admin_name = ""

    def _login_redirect(self) -> EventSpec:
        self._end_session()
        path = self.router.url.path or routes.DASHBOARD
        if path in (routes.DASHBOARD, routes.LOGIN):
            return rx.redirect(routes.LOGIN)
        return rx.redirect(f"{routes.LOGIN}?next={quote(path)}")

    @rx.event
    async def require_session(self) -> EventSpec | None:
        """`on_load` of every dashboard page."""
        if await self._has_session():
            return None
        return self._login_redirect()

    @rx.event
    def logout(self) -> EventSpec:
        if self._session_token:
            logger.info("dashboard logout: %s", self.admin_name)
        self._end_session()
        return rx.redirect(routes.LOGIN)


def admin_event(handler: F) -> F:
    """`rx.event` for handlers that need an admin session: without one they redirect to
    the login page and the handler does not run."""
    if inspect.isasyncgenfunction(handler) or inspect.isgeneratorfunction(handler):
        raise TypeError(f"admin_event does not wrap generators: {handler.__qualname__}")

    @functools.wraps(handler)
    async def guarded(self: AuthState, *args: Any, **kwargs: Any) -> Any:
        if not await self._has_session():
            return self._login_redirect()
        result = handler(self, *args, **kwargs)
        return await result if inspect.isawaitable(result) else result

    return rx.event(guarded)  # type: ignore[return-value]
