"""Login page: dashboard admin credentials, throttled per client and username.

Throttle: 5 failed logins for one username from one client address within 60 s refuse
that username to that client until the oldest of them is 60 s old (in process memory, per
worker; see services.admins). Keyed by address too, so nobody can lock an admin out by
failing on purpose from elsewhere. Behind a proxy the address is the proxy's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import reflex as rx
from reflex.event import EventSpec

from maestro_app.services import admins
from maestro_app.services.errors import InvalidCredentials, TooManyAttempts
from maestro_app.ui import routes, styles
from maestro_app.ui.data import call_service, session_secret
from maestro_app.ui.layout import APP_NAME, LOGO_SRC, Page
from maestro_app.ui.state import AuthState

# One throttle for the dashboard in this process, keyed by client address and username.
login_throttle = admins.LoginThrottle(max_failures=5, window_s=60.0)


class LoginState(AuthState):
    error: str = ""
    busy: bool = False

    def _next_page(self) -> str:
        return routes.safe_next_page(self.router.url.query_parameters.get("next"))

    @rx.event
    async def on_open(self) -> EventSpec | None:
        self.error = ""
        self.busy = False
        if await self._has_session():
            return rx.redirect(self._next_page())
        return None

    @rx.event
    async def submit(self, form: dict[str, Any]) -> AsyncIterator[EventSpec | None]:
        username = str(form.get("username", "")).strip()
        password = str(form.get("password", ""))
        if not username or not password:
            self.error = "Enter your username and password."
            return
        self.busy = True
        self.error = ""
        yield None
        try:
            issued = await call_service(
                admins.login,
                username=username,
                password=password,
                secret=session_secret(),
                throttle=login_throttle,
                client=f"dashboard@{self.router.session.client_ip or 'unknown'}",
            )
        except TooManyAttempts as exc:
            self.error = f"Too many failed sign-ins. Try again in {exc.retry_after} s."
            return
        except InvalidCredentials:
            self.error = "Wrong username or password."
            return
        finally:
            self.busy = False
        self._start_session(issued)
        yield rx.redirect(self._next_page())


def login_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.vstack(
                rx.text("Username", as_="label", html_for="username", size="2", weight="medium"),
                rx.input(
                    id="username",
                    name="username",
                    placeholder="admin",
                    auto_complete="username",
                    auto_focus=True,
                    required=True,
                    size="3",
                    width="100%",
                ),
                spacing="1",
                width="100%",
            ),
            rx.vstack(
                rx.text("Password", as_="label", html_for="password", size="2", weight="medium"),
                rx.input(
                    id="password",
                    name="password",
                    type="password",
                    auto_complete="current-password",
                    required=True,
                    size="3",
                    width="100%",
                ),
                spacing="1",
                width="100%",
            ),
            rx.cond(
                LoginState.error != "",
                rx.callout(
                    LoginState.error,
                    icon="triangle-alert",
                    color_scheme="red",
                    role="alert",
                    width="100%",
                    id="login-error",
                ),
            ),
            rx.button("Sign in", type="submit", size="3", width="100%", loading=LoginState.busy),
            spacing="4",
            width="100%",
        ),
        on_submit=LoginState.submit,
        reset_on_submit=False,
        width="100%",
    )


def login_page() -> rx.Component:
    return rx.center(
        rx.card(
            rx.vstack(
                rx.image(src=LOGO_SRC, alt="", width="3rem", height="3rem"),
                rx.heading(APP_NAME, size="6", as_="h1"),
                rx.text("Sign in to the gateway dashboard", color=styles.muted_text_color, size="2"),
                login_form(),
                align="center",
                spacing="4",
                width="100%",
            ),
            size="4",
            width="100%",
            max_width="24rem",
        ),
        rx.box(
            rx.color_mode.button(variant="ghost", color_scheme="gray"),
            position="fixed",
            top="1rem",
            right="1rem",
        ),
        min_height="100dvh",
        padding="1rem",
        background_color=styles.page_bg_color,
    )


page = Page(render=login_page, route=routes.LOGIN, title="Sign in", on_load=(LoginState.on_open,))
