"""Every handler of every dashboard page state checks the session on the server first: a
forged event without a session gets the login redirect, and the handler body never runs."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import pytest

import maestro_app.ui.pages  # noqa: F401  (defines every page state)
from maestro_app.ui.pages.login import LoginState
from maestro_app.ui.state import AuthState

# Every page's state, found rather than listed so that a new page is covered at once; the
# login page's handlers are the ones that run without a session.
PAGE_STATES = sorted((s for s in AuthState.get_substates() if s is not LoginState), key=lambda s: s.__name__)
# AuthState's own handlers: `require_session` is the check itself, `logout` ends a session.
UNGUARDED = set(AuthState.event_handlers)


class _NoSession:
    """A page state without a valid session: anything beyond the check is a failure."""

    redirect = object()

    async def _has_session(self) -> bool:
        return False

    def _login_redirect(self) -> Any:
        return self.redirect

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the handler ran without a session (it read {name!r})")


def _handlers() -> list[tuple[str, str]]:
    return [
        (state.__name__, name)
        for state in PAGE_STATES
        for name in sorted(state.event_handlers)
        if name not in UNGUARDED and not name.startswith("set_is_hydrated")
    ]


@pytest.mark.parametrize(("state_name", "handler"), _handlers())
def test_handler_redirects_to_login_without_a_session(state_name: str, handler: str) -> None:
    state = next(s for s in PAGE_STATES if s.__name__ == state_name)
    fn = state.event_handlers[handler].fn
    params = list(inspect.signature(fn).parameters)[1:]
    result = asyncio.run(fn(_NoSession(), *(None for _ in params)))
    assert result is _NoSession.redirect
