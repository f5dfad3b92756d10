"""The dashboard frame: sidebar, navbar, and the `template` decorator that makes pages.

    @template(route=routes.DASHBOARD, title="Dashboard", on_load=DashboardState.load)
    def dashboard_page() -> rx.Component: ...

`template` returns a `Page`; the composition root adds every page to the app. Each
dashboard page loads with `AuthState.require_session` first, so it never renders data
for a visitor without a session.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import reflex as rx

from maestro_app.ui import routes, styles
from maestro_app.ui.state import AuthState

APP_NAME = "Model Maestro"
LOGO_SRC = "/maestro-logo.svg"


@dataclass(frozen=True)
class NavItem:
    label: str
    route: str
    icon: str


# Only pages that exist: each later page adds itself here.
NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem("Dashboard", routes.DASHBOARD, "layout-dashboard"),
    NavItem("Status", routes.STATUS, "activity"),
    NavItem("Nodes", routes.NODES, "server"),
    NavItem("Models", routes.MODELS, "boxes"),
    NavItem("Mappings", routes.MAPPINGS, "arrow-right-left"),
    NavItem("Groups", routes.GROUPS, "layers"),
    NavItem("Model config", routes.MODEL_CONFIG, "sliders-horizontal"),
    NavItem("Tool sets", routes.TOOL_SETS, "wrench"),
    NavItem("System prompts", routes.SYSTEM_PROMPTS, "message-square-text"),
    NavItem("Users", routes.USERS, "users"),
    NavItem("Request logs", routes.LOGS, "scroll-text"),
    NavItem("Audit log", routes.AUDIT, "history"),
    NavItem("Settings", routes.SETTINGS, "settings"),
)


@dataclass(frozen=True)
class Page:
    render: Callable[[], rx.Component]
    route: str
    title: str
    on_load: Sequence[Any]

    def add_to(self, app: rx.App) -> None:
        app.add_page(
            self.render,
            route=self.route,
            title=f"{self.title} · {APP_NAME}",
            on_load=list(self.on_load),
        )


def brand(size: str = "1.75rem") -> rx.Component:
    return rx.hstack(
        rx.image(src=LOGO_SRC, alt="", width=size, height=size),
        rx.text(APP_NAME, weight="bold", size="4", trim="both", white_space="nowrap"),
        align="center",
        spacing="2",
    )


def nav_link(item: NavItem) -> rx.Component:
    # A page opened directly has a trailing slash (Reflex answers 307 to `/users/`).
    path = rx.State.router.url.path
    active = (path == item.route) | (path == item.route.rstrip("/") + "/")
    return rx.link(
        rx.hstack(
            rx.icon(item.icon, size=18),
            rx.text(item.label, size="3"),
            align="center",
            spacing="3",
            width="100%",
            padding_x="0.75rem",
            padding_y="0.5rem",
            border_radius=styles.border_radius,
            color=rx.cond(active, styles.accent_text_color, styles.muted_text_color),
            background_color=rx.cond(active, styles.accent_bg_color, "transparent"),
            _hover={
                "background_color": rx.cond(active, styles.accent_bg_color, styles.hover_bg_color),
                "color": styles.text_color,
            },
        ),
        href=item.route,
        underline="none",
        width="100%",
        class_name="nav-link",
        aria_current=rx.cond(active, "page", None),
    )


def account_menu() -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(
            rx.button(
                rx.icon("circle-user", size=18),
                rx.text(AuthState.admin_name, size="2", trim="both"),
                rx.icon("chevron-down", size=14),
                variant="ghost",
                color_scheme="gray",
                id="account-menu",
            ),
        ),
        rx.menu.content(
            rx.menu.item(
                rx.icon("log-out", size=16),
                "Sign out",
                on_click=AuthState.logout,
                id="sign-out",
            ),
        ),
    )


def sidebar() -> rx.Component:
    return rx.box(
        rx.vstack(
            rx.box(brand(), padding="0.5rem 0.75rem 1.25rem"),
            rx.vstack(*(nav_link(item) for item in NAV_ITEMS), spacing="1", width="100%"),
            rx.spacer(),
            rx.separator(),
            rx.hstack(
                account_menu(),
                rx.spacer(),
                rx.color_mode.button(size="2", variant="ghost", color_scheme="gray"),
                align="center",
                width="100%",
            ),
            position="sticky",
            top="0",
            height="100dvh",
            padding="1rem",
        ),
        display=["none", "none", "block"],
        width=styles.sidebar_width,
        min_width=styles.sidebar_width,
        background_color=styles.sidebar_bg_color,
        border_right=styles.border,
    )


def navbar() -> rx.Component:
    """The top bar on narrow screens, where the sidebar is hidden."""
    return rx.hstack(
        brand(size="1.5rem"),
        rx.spacer(),
        rx.menu.root(
            rx.menu.trigger(
                rx.icon_button(rx.icon("menu"), variant="ghost", color_scheme="gray", aria_label="Menu"),
            ),
            rx.menu.content(
                *(rx.menu.item(rx.link(item.label, href=item.route, underline="none")) for item in NAV_ITEMS),
                rx.menu.separator(),
                rx.menu.item("Sign out", on_click=AuthState.logout),
            ),
        ),
        display=["flex", "flex", "none"],
        align="center",
        height=styles.navbar_height,
        padding_x="1rem",
        position="sticky",
        top="0",
        z_index="10",
        background_color=styles.sidebar_bg_color,
        border_bottom=styles.border,
    )


def template(
    *, route: str, title: str, on_load: Any | Sequence[Any] | None = None
) -> Callable[[Callable[[], rx.Component]], Page]:
    extra: list[Any]
    if on_load is None:
        extra = []
    elif isinstance(on_load, Sequence):
        extra = list(on_load)
    else:
        extra = [on_load]

    def decorator(content: Callable[[], rx.Component]) -> Page:
        def render() -> rx.Component:
            return rx.flex(
                sidebar(),
                rx.box(
                    navbar(),
                    rx.vstack(content(), **styles.page_content_style),
                    flex="1",
                    min_width="0",
                ),
                direction="row",
                width="100%",
                min_height="100dvh",
                background_color=styles.page_bg_color,
            )

        render.__name__ = content.__name__
        return Page(render=render, route=route, title=title, on_load=(AuthState.require_session, *extra))

    return decorator
