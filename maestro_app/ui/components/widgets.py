"""Small pieces every page uses: headers, empty states, form fields, confirmations."""

from __future__ import annotations

from typing import Any

import reflex as rx

from maestro_app.ui import styles


def page_header(title: str, subtitle: str, *actions: rx.Component) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.heading(title, size="7", as_="h1"),
            rx.text(subtitle, color=styles.muted_text_color),
            spacing="1",
        ),
        rx.spacer(),
        *actions,
        align="center",
        width="100%",
        wrap="wrap",
        spacing="3",
    )


def empty_state(icon: str, title: str, hint: str | rx.Component, **props: Any) -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.icon(icon, size=28, color=styles.muted_text_color),
            rx.text(title, weight="medium"),
            hint
            if isinstance(hint, rx.Component)
            else rx.text(hint, size="2", color=styles.muted_text_color),
            align="center",
            spacing="2",
            text_align="center",
        ),
        **{"padding_y": "2.5rem", "width": "100%", **props},
    )


def loading_rows(n: int = 3) -> rx.Component:
    return rx.vstack(*(rx.skeleton(height="2.5rem", width="100%") for _ in range(n)), width="100%")


def field(label: str, control: rx.Component, *, hint: str = "", html_for: str = "") -> rx.Component:
    return rx.vstack(
        rx.text(label, as_="label", html_for=html_for or None, size="2", weight="medium"),
        control,
        rx.text(hint, size="1", color=styles.muted_text_color) if hint else rx.fragment(),
        spacing="1",
        width="100%",
    )


def switch_field(label: str, hint: str, **switch_props: Any) -> rx.Component:
    """A labelled switch; pass `checked`/`on_change` (state) or `name`/`default_checked` (form)."""
    return rx.text(
        rx.hstack(
            rx.switch(**switch_props),
            rx.vstack(
                rx.text(label, size="2", weight="medium"),
                rx.text(hint, size="1", color=styles.muted_text_color) if hint else rx.fragment(),
                spacing="0",
            ),
            align="start",
            spacing="3",
        ),
        as_="label",
        width="100%",
    )


def confirm_dialog(
    *,
    open_: rx.Var[bool],
    on_open_change: Any,
    on_confirm: Any,
    title: str | rx.Var[str],
    description: rx.Component | str | rx.Var[str],
    confirm_label: str = "Delete",
    color_scheme: str = "red",
    dialog_id: str = "confirm-dialog",
) -> rx.Component:
    """An alert dialog bound to state: `open_` shows it; `on_open_change(False)` runs on
    cancel, Escape, and after `on_confirm` (Radix calls the action's click handler first)."""
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(description, size="2"),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button(
                        confirm_label, color_scheme=color_scheme, on_click=on_confirm, id=f"{dialog_id}-ok"
                    ),
                ),
                justify="end",
                spacing="3",
                margin_top="1rem",
            ),
            id=dialog_id,
            max_width="30rem",
        ),
        open=open_,
        on_open_change=on_open_change,
    )


def copy_button(value: rx.Var[str], *, label: str, button_id: str, message: str = "Copied") -> rx.Component:
    return rx.button(
        rx.icon("copy", size=14),
        label,
        variant="soft",
        on_click=[rx.set_clipboard(value), rx.toast.success(message)],
        id=button_id,
    )


def pager(
    *, offset: rx.Var[int], total: rx.Var[int], page_size: int, on_prev: Any, on_next: Any
) -> rx.Component:
    """ "1–50 of 120" with previous/next buttons; hidden when everything fits on one page."""
    last = rx.cond(offset + page_size < total, offset + page_size, total)
    return rx.cond(
        total > page_size,
        rx.hstack(
            rx.text(offset + 1, "–", last, " of ", total, size="2", color=styles.muted_text_color),
            rx.icon_button(
                rx.icon("chevron-left", size=16),
                variant="soft",
                color_scheme="gray",
                disabled=offset == 0,
                on_click=on_prev,
                aria_label="Previous page",
            ),
            rx.icon_button(
                rx.icon("chevron-right", size=16),
                variant="soft",
                color_scheme="gray",
                disabled=offset + page_size >= total,
                on_click=on_next,
                aria_label="Next page",
            ),
            align="center",
            justify="end",
            spacing="2",
            width="100%",
        ),
    )


def stat_card(
    label: str, value: rx.Var | str, icon: str, color: str, *, hint: rx.Component | None = None, **props: Any
) -> rx.Component:
    """A number with its label and icon; `hint` is a line under it."""
    return rx.card(
        rx.hstack(
            rx.center(
                rx.icon(icon, size=20),
                width="2.5rem",
                height="2.5rem",
                min_width="2.5rem",
                border_radius=styles.border_radius,
                background_color=rx.color(color, 3),
                color=rx.color(color, 11),
            ),
            rx.vstack(
                rx.text(label, size="2", color=styles.muted_text_color),
                rx.heading(value, size="6"),
                hint if hint is not None else rx.fragment(),
                spacing="0",
            ),
            align="center",
            spacing="3",
        ),
        width="100%",
        **props,
    )


def health_badge(node: rx.Var[Any], *, size: str = "2") -> rx.Component:
    """A node's health as a coloured badge; its last error, if any, as the tooltip. `node` is
    any row with `health`, `health_color` and `last_error`."""
    badge = rx.badge(
        rx.icon("circle", size=8, fill="currentColor"),
        node.health,
        color_scheme=node.health_color,
        variant="soft",
        radius="full",
        size=size,
        class_name="health-badge",
    )
    return rx.cond(node.last_error != "", rx.tooltip(badge, content=node.last_error), badge)


def refresh_button(on_click: Any, *, label: str = "Refresh") -> rx.Component:
    return rx.button(rx.icon("refresh-cw", size=16), label, variant="soft", on_click=on_click, id="refresh")


def titled_card(
    title: str, subtitle: rx.Var[str] | str, *children: rx.Component, **props: Any
) -> rx.Component:
    """A card with a heading, a muted line under it, then its content."""
    return rx.card(
        rx.vstack(
            rx.vstack(
                rx.heading(title, size="4"),
                rx.text(subtitle, size="2", color=styles.muted_text_color),
                spacing="1",
            ),
            *children,
            spacing="3",
            width="100%",
        ),
        **{**styles.card_style, **props},
    )
