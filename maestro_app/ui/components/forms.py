"""Form pieces of the editor dialogs: uncontrolled inputs that take their value from a
state dict when the dialog opens, two-column rows that fold on a narrow window, the
Cancel/Save buttons, a labelled checkbox, and the dialog itself."""

from __future__ import annotations

from typing import Any

import reflex as rx

from maestro_app.ui import styles
from maestro_app.ui.components.widgets import field


def form_input(
    form: rx.Var[dict[str, str]], name: str, element_id: str, label: str, *, hint: str = "", **props: Any
) -> rx.Component:
    """An input named `name` whose value at mount is `form[name]`."""
    return field(
        label,
        rx.input(name=name, id=element_id, default_value=form[name], width="100%", **props),
        hint=hint,
        html_for=element_id,
    )


def form_text_area(
    form: rx.Var[dict[str, str]], name: str, element_id: str, label: str, *, hint: str = "", **props: Any
) -> rx.Component:
    props.setdefault("rows", "4")
    return field(
        label,
        rx.text_area(name=name, id=element_id, default_value=form[name], width="100%", **props),
        hint=hint,
        html_for=element_id,
    )


def two_columns(*children: rx.Component) -> rx.Component:
    return rx.grid(*children, columns=rx.breakpoints(initial="1", sm="2"), spacing="3", width="100%")


def dialog_buttons(submit: rx.Var[str] | str, submit_id: str) -> rx.Component:
    return rx.hstack(
        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
        rx.button(submit, type="submit", id=submit_id),
        justify="end",
        spacing="3",
        width="100%",
    )


def check_choice(
    label: rx.Var[str] | str, *, checked: rx.Var[bool], on_change: Any, class_name: str
) -> rx.Component:
    """A checkbox bound to state, with its label (no name: not a form field)."""
    return rx.text(
        rx.hstack(
            rx.checkbox(checked=checked, on_change=on_change),
            rx.text(label, size="2"),
            align="center",
            spacing="2",
        ),
        as_="label",
        class_name=class_name,
    )


def editor_dialog(
    *fields: rx.Component,
    title: rx.Component | rx.Var[str] | str,
    description: str,
    on_submit: Any,
    submit_label: rx.Var[str] | str,
    submit_id: str,
    open_: rx.Var[bool],
    on_open_change: Any,
    dialog_id: str,
    max_width: str = "38rem",
) -> rx.Component:
    """A dialog holding a form of `fields` with Cancel and `submit_label` buttons; the form
    is not reset on submit, so a refused input stays for the admin to correct."""
    form = rx.form(
        rx.vstack(*fields, dialog_buttons(submit_label, submit_id), spacing="4", width="100%"),
        on_submit=on_submit,
        reset_on_submit=False,
        width="100%",
    )
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(title),
            rx.dialog.description(description, size="2", color=styles.muted_text_color, margin_bottom="1rem"),
            form,
            max_width=max_width,
            id=dialog_id,
        ),
        open=open_,
        on_open_change=on_open_change,
    )
