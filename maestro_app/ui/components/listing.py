"""Pieces of the list pages built on `ListPageState`: the search bar with its count, the
pager, the editor dialog and the delete confirmation bound to the mixin's handlers, a row's
edit/delete buttons, and small labelled facts and switches."""

from __future__ import annotations

from typing import Any

import reflex as rx

from maestro_app.ui import styles
from maestro_app.ui.components.forms import editor_dialog
from maestro_app.ui.components.widgets import confirm_dialog, empty_state, loading_rows, pager
from maestro_app.ui.list_state import ListPageState

# The page states are ListPageState subclasses; their class attributes are Vars.
ListState = type[ListPageState]


def search_bar(state: ListState, *, element_id: str, placeholder: str, noun: str) -> rx.Component:
    """A debounced search field (each change is one server event) and "N <noun>s"."""
    return rx.hstack(
        rx.input(
            rx.input.slot(rx.icon("search", size=16)),
            placeholder=placeholder,
            value=state.search,
            on_change=state.set_search,
            debounce_timeout=300,
            id=element_id,
            max_width="20rem",
            width="100%",
        ),
        rx.spacer(),
        count_text(state.total, noun),
        align="center",
        width="100%",
    )


def count_text(total: rx.Var[int], noun: str) -> rx.Component:
    """ "1 group", "3 groups" (`noun` is singular, its plural takes an s)."""
    return rx.text(
        total,
        rx.cond(total == 1, f" {noun}", f" {noun}s"),
        size="2",
        color=styles.muted_text_color,
        white_space="nowrap",
    )


def list_pager(state: ListState) -> rx.Component:
    return pager(
        offset=state.offset,  # type: ignore[arg-type]
        total=state.total,  # type: ignore[arg-type]
        page_size=state.page_size,
        on_prev=state.prev_page,
        on_next=state.next_page,
    )


def card_list(
    state: ListState, *, items: rx.Component, has_items: rx.Var[bool], noun: str, hint: str, icon: str
) -> rx.Component:
    """Cards of a list page, or its empty state: "No <noun> matches this search." while a
    search is typed, else "No <noun> yet." with `hint`."""
    empty = rx.cond(
        state.search != "",
        empty_state("search-x", f"No {noun} matches this search.", "Search by name."),
        empty_state(icon, f"No {noun} yet.", hint),
    )
    return rx.cond(
        state.loaded,
        rx.cond(has_items, items, rx.card(empty, **styles.card_style)),
        loading_rows(3),
    )


def table_card(
    state: ListState,
    *,
    toolbar: rx.Component,
    headers: tuple[str, ...],
    rows: rx.Component,
    has_rows: rx.Var[bool],
    empty: rx.Component,
) -> rx.Component:
    """A card with the toolbar, the table (scrolls sideways on a narrow window) or the empty
    state, and the pager."""
    table = rx.table.root(
        rx.table.header(rx.table.row(*(rx.table.column_header_cell(h) for h in headers))),
        rx.table.body(rows),
        variant="ghost",
        size="2",
        width="100%",
    )
    return rx.card(
        rx.vstack(
            toolbar,
            rx.cond(
                state.loaded,
                rx.cond(has_rows, rx.scroll_area(table, type="hover", scrollbars="horizontal"), empty),
                loading_rows(),
            ),
            list_pager(state),
            spacing="3",
            width="100%",
        ),
        **styles.card_style,
    )


def list_editor(
    state: ListState,
    *fields: rx.Component,
    creating: rx.Var[bool],
    noun: str,
    description: str,
    submit_id: str,
    dialog_id: str,
    on_submit: Any = None,
    max_width: str = "38rem",
) -> rx.Component:
    """The create/edit dialog of a list page ("New <noun>" / "Edit <noun>"), submitting to
    `state.save` unless told otherwise."""
    return editor_dialog(
        *fields,
        title=rx.cond(creating, f"New {noun}", f"Edit {noun}"),
        description=description,
        on_submit=on_submit if on_submit is not None else state.save,  # type: ignore[attr-defined]
        submit_label=rx.cond(creating, f"Create {noun}", "Save"),
        submit_id=submit_id,
        open_=state.editor_open,  # type: ignore[arg-type]
        on_open_change=state.set_editor_open,
        dialog_id=dialog_id,
        max_width=max_width,
    )


def delete_confirmation(
    state: ListState,
    *,
    title: rx.Var[str],
    description: rx.Component | str,
    dialog_id: str,
    confirm_label: str = "Delete",
) -> rx.Component:
    return confirm_dialog(
        open_=state.delete_open,  # type: ignore[arg-type]
        on_open_change=state.set_delete_open,
        on_confirm=state.confirm_delete,
        title=title,
        description=description,
        confirm_label=confirm_label,
        dialog_id=dialog_id,
    )


def new_button(label: str, *, on_click: Any, element_id: str) -> rx.Component:
    return rx.button(rx.icon("plus", size=16), label, on_click=on_click, id=element_id)


def edit_delete_buttons(*, on_edit: Any, on_delete: Any, kind: str) -> rx.Component:
    """Pencil and bin icon buttons with classes `edit-<kind>` and `delete-<kind>`."""
    return rx.hstack(
        rx.icon_button(
            rx.icon("pencil", size=16),
            variant="ghost",
            aria_label="Edit",
            on_click=on_edit,
            class_name=f"edit-{kind}",
        ),
        rx.icon_button(
            rx.icon("trash-2", size=16),
            variant="ghost",
            color_scheme="red",
            aria_label="Delete",
            on_click=on_delete,
            class_name=f"delete-{kind}",
        ),
        spacing="3",
        justify="end",
    )


def switch_label(label: rx.Var[str] | str, **switch_props: Any) -> rx.Component:
    """A small switch bound to state, with a short label after it (rows and cards)."""
    return rx.text(
        rx.hstack(rx.switch(size="1", **switch_props), label, align="center", spacing="2"),
        as_="label",
        size="2",
        white_space="nowrap",
    )


def fact(icon: str, *children: rx.Component | rx.Var | str, **props: Any) -> rx.Component:
    """An icon and a short muted text on one line ("⟳ 2 failover retries")."""
    return rx.hstack(
        rx.icon(icon, size=14),
        rx.text(*children, size="2"),
        align="center",
        spacing="1",
        color=styles.muted_text_color,
        white_space="nowrap",
        **props,
    )
