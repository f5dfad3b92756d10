"""Tool sets page: a card per tool set (presets marked), the create/edit dialog, and the
delete confirmation that says what deleting a preset or a set in use means."""

from __future__ import annotations

import reflex as rx

from maestro_app.ui import routes, styles
from maestro_app.ui.components.forms import form_input, form_text_area
from maestro_app.ui.components.listing import (
    card_list,
    delete_confirmation,
    edit_delete_buttons,
    list_editor,
    list_pager,
    new_button,
    search_bar,
)
from maestro_app.ui.components.widgets import (
    page_header,
    switch_field,
)
from maestro_app.ui.layout import Page, template
from maestro_app.ui.pages.tool_sets import ToolSetCard, ToolSetsState

State = ToolSetsState


def tool_names(card: rx.Var[ToolSetCard]) -> rx.Component:
    return rx.cond(
        card.every_tool,
        rx.text("No filtering: every tool passes.", size="2", color=styles.muted_text_color),
        rx.cond(
            card.tools.length() > 0,
            rx.scroll_area(
                rx.flex(
                    rx.foreach(
                        card.tools, lambda t: rx.code(t, size="1", variant="soft", color_scheme="gray")
                    ),
                    wrap="wrap",
                    gap="0.25rem",
                    padding_right="0.75rem",
                ),
                type="auto",
                scrollbars="vertical",
                max_height="6.5rem",
                class_name="toolset-tools",
            ),
            rx.text("No tool passes: requests lose their tools.", size="2", color=styles.muted_text_color),
        ),
    )


def tool_set_card(card: rx.Var[ToolSetCard]) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.icon("wrench", size=16, color=styles.muted_text_color),
                rx.text(card.name, weight="bold", size="3", class_name="toolset-name"),
                rx.cond(card.is_preset, rx.badge("preset", variant="soft", class_name="preset-badge")),
                rx.badge(
                    rx.cond(card.every_tool, "every tool", card.tools.length().to_string() + " tools"),
                    color_scheme="gray",
                    variant="surface",
                    class_name="toolset-count",
                ),
                rx.spacer(),
                edit_delete_buttons(
                    on_edit=State.open_edit(card.name), on_delete=State.ask_delete(card.name), kind="toolset"
                ),
                align="center",
                spacing="2",
                width="100%",
            ),
            rx.cond(
                card.description != "", rx.text(card.description, size="2", color=styles.muted_text_color)
            ),
            tool_names(card),
            rx.cond(
                card.used_by.length() > 0,
                rx.flex(
                    rx.text("Used by", size="1", color=styles.muted_text_color),
                    rx.foreach(
                        card.used_by,
                        lambda p: rx.link(rx.badge(p, variant="outline"), href=routes.MODEL_CONFIG),
                    ),
                    wrap="wrap",
                    gap="0.25rem",
                    align="center",
                    class_name="toolset-used-by",
                ),
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        id="toolset-" + card.id.to_string(),
        class_name="toolset-card",
    )


def tool_set_list() -> rx.Component:
    return card_list(
        State,
        items=rx.grid(
            rx.foreach(State.cards, tool_set_card),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
        ),
        has_items=State.cards.length() > 0,
        noun="tool set",
        hint="Create a list of tool names here, then name it in a model config.",
        icon="wrench",
    )


def tool_set_editor() -> rx.Component:
    return list_editor(
        State,
        form_input(State.form, "name", "toolset-name", "Name", placeholder="coder-mcp", required=True),
        switch_field(
            "Every tool",
            "No filtering: MCP and custom tools pass too.",
            checked=State.form_every_tool,
            on_change=State.set_form_every_tool,
        ),
        rx.cond(
            ~State.form_every_tool,
            form_text_area(
                State.form,
                "tools",
                "toolset-tools",
                "Tools",
                placeholder="Read\nEdit\nBash\nmcp__github__create_issue",
                hint="Tool names as agents send them, one per line or comma-separated; "
                "case does not matter. Empty: no tool passes.",
                rows="8",
                style=styles.code_style,
            ),
        ),
        form_input(State.form, "description", "toolset-description", "Description", placeholder="optional"),
        rx.cond(
            State.editing_name != "",
            rx.text(
                "Renaming updates the model configs that name this set.",
                size="1",
                color=styles.muted_text_color,
            ),
        ),
        creating=State.editing_name == "",
        noun="tool set",
        description="A named list of tools; a model config that names it removes every other tool.",
        submit_id="save-toolset",
        dialog_id="toolset-editor",
    )


def delete_description() -> rx.Component:
    # Plain text only: the alert dialog's description is a <p>.
    return rx.fragment(
        rx.cond(
            State.pending_delete_used_by.length() > 0,
            "Model config(s) "
            + State.pending_delete_used_by.join(", ")
            + " name this set: it cannot be deleted until they name another one.",
            "Model configs can no longer name it.",
        ),
        rx.cond(
            State.pending_delete_preset,
            " It is a preset: deleting it is final, it does not come back at the next start.",
            "",
        ),
    )


@template(route=routes.TOOL_SETS, title="Tool sets", on_load=State.load)
def tool_sets_page() -> rx.Component:
    return rx.fragment(
        page_header(
            "Tool sets",
            "Named tool lists for model configs. The six presets are ordinary sets: edit or delete them.",
            new_button("New tool set", on_click=State.open_create, element_id="new-toolset"),
        ),
        search_bar(State, element_id="toolset-search", placeholder="Search tool sets", noun="tool set"),
        tool_set_list(),
        list_pager(State),
        tool_set_editor(),
        delete_confirmation(
            State,
            title="Delete tool set " + State.pending_delete_label + "?",
            description=delete_description(),
            dialog_id="confirm-delete-toolset",
        ),
    )


page: Page = tool_sets_page
