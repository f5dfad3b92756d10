"""System prompts page: the table with scope filters and an active switch per row, and the
create/edit dialog whose scope value suggests the names that exist for the chosen scope."""

from __future__ import annotations

import reflex as rx

from maestro_app.ui import routes, styles
from maestro_app.ui.components.forms import form_input, form_text_area, two_columns
from maestro_app.ui.components.listing import (
    count_text,
    delete_confirmation,
    edit_delete_buttons,
    list_editor,
    new_button,
    switch_label,
    table_card,
)
from maestro_app.ui.components.widgets import (
    empty_state,
    field,
    page_header,
    switch_field,
)
from maestro_app.ui.layout import Page, template
from maestro_app.ui.pages.system_prompts import (
    ALL_SCOPES,
    SCOPE_TYPES,
    PromptRow,
    SystemPromptsState,
)

State = SystemPromptsState
SCOPE_VALUES_LIST = "scope-value-options"
SCOPE_COLORS = {"user": "blue", "node": "orange", "group": "violet", "model": "iris", "mapping": "teal"}


def prompt_row(row: rx.Var[PromptRow]) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(
            rx.hstack(
                rx.badge(
                    row.scope_type, color_scheme=rx.match(row.scope_type, *SCOPE_COLORS.items(), "gray")
                ),
                rx.text(
                    row.scope_value, weight="medium", style=styles.code_style, class_name="prompt-scope-value"
                ),
                align="center",
                spacing="2",
                wrap="wrap",
            ),
            class_name="prompt-scope",
        ),
        rx.table.cell(
            rx.text(row.preview, size="2", color=styles.muted_text_color),
            class_name="prompt-preview",
            min_width="14rem",
        ),
        rx.table.cell(rx.text(row.priority, size="2"), class_name="prompt-priority"),
        rx.table.cell(
            switch_label(
                rx.cond(row.is_active, "on", "off"),
                checked=row.is_active,
                on_change=lambda on: State.set_active(row.id, on),
                class_name="prompt-active-switch",
            )
        ),
        rx.table.cell(
            edit_delete_buttons(
                on_edit=State.open_edit(row.id), on_delete=State.ask_delete(row.id.to_string()), kind="prompt"
            )
        ),
        id="prompt-" + row.id.to_string(),
        class_name="prompt-row",
        align="center",
    )


def filters() -> rx.Component:
    return rx.flex(
        rx.select.root(
            rx.select.trigger(aria_label="Scope", min_width="9rem"),
            rx.select.content(
                rx.select.item("All scopes", value=ALL_SCOPES),
                *(rx.select.item(scope, value=scope) for scope in SCOPE_TYPES),
            ),
            value=State.scope_filter,
            on_change=State.set_scope_filter,
        ),
        rx.input(
            rx.input.slot(rx.icon("filter", size=16)),
            placeholder="Exact scope value",
            value=State.search,
            on_change=State.set_search,
            debounce_timeout=300,
            id="prompt-value-filter",
            max_width="18rem",
            width="100%",
        ),
        rx.spacer(),
        count_text(State.total, "prompt"),
        align="center",
        gap="0.75rem",
        wrap="wrap",
        width="100%",
    )


def prompts_card() -> rx.Component:
    return table_card(
        State,
        toolbar=filters(),
        headers=("Scope", "Prompt", "Priority", "Active", ""),
        rows=rx.foreach(State.rows, prompt_row),
        has_rows=State.rows.length() > 0,
        empty=rx.cond(
            (State.scope_filter != ALL_SCOPES) | (State.search != ""),
            empty_state("search-x", "No system prompt matches these filters.", "The value filter is exact."),
            empty_state(
                "message-square-text",
                "No system prompts yet.",
                "Add instructions the gateway puts into requests, by user, node, group, model or mapping.",
            ),
        ),
    )


def scope_fields() -> rx.Component:
    return two_columns(
        rx.vstack(
            field(
                "Scope",
                rx.select.root(
                    rx.select.trigger(width="100%", aria_label="Scope type"),
                    rx.select.content(*(rx.select.item(scope, value=scope) for scope in SCOPE_TYPES)),
                    value=State.form_scope_type,
                    on_change=State.set_form_scope_type,
                ),
            ),
            rx.text(State.scope_hint, size="1", color=styles.muted_text_color),
            spacing="1",
            width="100%",
        ),
        rx.box(
            form_input(
                State.form,
                "scope_value",
                "prompt-scope-value",
                "Scope value",
                required=True,
                custom_attrs={"list": SCOPE_VALUES_LIST},
                auto_complete="off",
                hint="Suggestions are what exists now; any name is accepted.",
            ),
            rx.el.datalist(
                rx.foreach(State.scope_value_options, lambda n: rx.el.option(value=n)),
                id=SCOPE_VALUES_LIST,
            ),
            width="100%",
        ),
    )


def prompt_editor() -> rx.Component:
    return list_editor(
        State,
        scope_fields(),
        form_text_area(
            State.form,
            "prompt",
            "prompt-text",
            "Prompt",
            placeholder="You are a concise assistant. Answer in English.",
            hint="Goes into the first system message (chat) or before the system text (generate).",
            rows="8",
        ),
        two_columns(
            form_input(
                State.form,
                "priority",
                "prompt-priority",
                "Priority",
                input_mode="numeric",
                hint="Higher first when several prompts apply.",
            ),
            rx.box(
                switch_field(
                    "Active",
                    "An inactive prompt is kept but not used.",
                    name="is_active",
                    default_checked=State.form_active,
                ),
                padding_top="1.5rem",
            ),
        ),
        creating=State.editing_id == 0,
        noun="system prompt",
        description="Instructions the gateway adds to requests in this scope.",
        submit_id="save-prompt",
        dialog_id="prompt-editor",
        max_width="42rem",
    )


@template(route=routes.SYSTEM_PROMPTS, title="System prompts", on_load=State.load)
def system_prompts_page() -> rx.Component:
    return rx.fragment(
        page_header(
            "System prompts",
            "Instructions added to requests by user, node, group, model or mapping.",
            new_button("New prompt", on_click=State.open_create, element_id="new-prompt"),
        ),
        prompts_card(),
        prompt_editor(),
        delete_confirmation(
            State,
            title="Delete the system prompt for " + State.pending_delete_label + "?",
            description="Requests in this scope no longer get it.",
            dialog_id="confirm-delete-prompt",
        ),
    )


page: Page = system_prompts_page
