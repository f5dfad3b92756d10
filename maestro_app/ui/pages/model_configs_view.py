"""Model config page: the table of per-prefix rules with a maintenance switch per row, and
the create/edit dialog."""

from __future__ import annotations

import reflex as rx

from maestro_app.ui import routes, styles
from maestro_app.ui.components.forms import form_input, form_text_area, two_columns
from maestro_app.ui.components.listing import (
    delete_confirmation,
    edit_delete_buttons,
    list_editor,
    new_button,
    search_bar,
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
from maestro_app.ui.pages.model_configs import NO_TOOL_SET, ConfigRow, ModelConfigsState

State = ModelConfigsState


def tools_cell(row: rx.Var[ConfigRow]) -> rx.Component:
    own_list = rx.vstack(
        rx.badge(
            "own list · ",
            row.allowed_tools.length(),
            rx.cond(row.allowed_tools.length() == 1, " tool", " tools"),
            color_scheme="amber",
            variant="soft",
        ),
        rx.cond(
            row.allowed_tools.length() > 0,
            rx.text(
                row.allowed_tools.join(", "), size="1", color=styles.muted_text_color, style=styles.code_style
            ),
            rx.text("every tool removed", size="1", color=styles.muted_text_color),
        ),
        rx.cond(
            row.tool_set != "",
            rx.text("tool set ", row.tool_set, " is not used", size="1", color=styles.muted_text_color),
        ),
        spacing="1",
    )
    return rx.match(
        row.tools,
        ("own list", own_list),
        ("tool set", rx.link(rx.badge("tool set · ", row.tool_set, variant="soft"), href=routes.TOOL_SETS)),
        rx.badge("every tool", color_scheme="gray", variant="surface"),
    )


def config_row(row: rx.Var[ConfigRow]) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(
            rx.vstack(
                rx.text(row.prefix, weight="medium", style=styles.code_style, class_name="config-prefix"),
                rx.cond(
                    row.description != "", rx.text(row.description, size="1", color=styles.muted_text_color)
                ),
                spacing="1",
            )
        ),
        rx.table.cell(tools_cell(row), class_name="config-tools", max_width="22rem"),
        rx.table.cell(
            rx.flex(
                rx.foreach(row.params, lambda p: rx.code(p, size="1", variant="soft", color_scheme="gray")),
                wrap="wrap",
                gap="0.25rem",
            ),
            class_name="config-params",
        ),
        rx.table.cell(
            switch_label(
                rx.cond(row.maintenance, "on", "off"),
                checked=row.maintenance,
                on_change=lambda on: State.set_maintenance(row.id, on),
                color_scheme="amber",
                class_name="maintenance-switch",
            )
        ),
        rx.table.cell(
            edit_delete_buttons(
                on_edit=State.open_edit(row.id), on_delete=State.ask_delete(row.id.to_string()), kind="config"
            )
        ),
        id="config-" + row.id.to_string(),
        class_name="config-row",
        align="center",
    )


def configs_card() -> rx.Component:
    return table_card(
        State,
        toolbar=search_bar(State, element_id="config-search", placeholder="Search prefixes", noun="config"),
        headers=("Model prefix", "Tools", "Removed parameters", "Maintenance", ""),
        rows=rx.foreach(State.rows, config_row),
        has_rows=State.rows.length() > 0,
        empty=rx.cond(
            State.search != "",
            empty_state("search-x", "No model config matches this search.", "Search by model prefix."),
            empty_state(
                "sliders-horizontal",
                "No model configs yet.",
                "Requests reach models as clients send them until you add rules here.",
            ),
        ),
    )


# -- dialog ------------------------------------------------------------------------------


def tool_set_select() -> rx.Component:
    return field(
        "Tool set",
        rx.select.root(
            rx.select.trigger(width="100%", aria_label="Tool set"),
            rx.select.content(
                rx.select.item("No tool set", value=NO_TOOL_SET),
                rx.foreach(State.tool_set_names, lambda name: rx.select.item(name, value=name)),
            ),
            name="tool_set",
            default_value=State.form["tool_set"],
        ),
        hint="Removes every tool outside the set from a request.",
    )


def tools_fields() -> rx.Component:
    return rx.vstack(
        tool_set_select(),
        switch_field(
            "Own tool list",
            "When on, this list applies instead of the tool set.",
            checked=State.form_own_list,
            on_change=State.set_form_own_list,
        ),
        rx.cond(
            State.form_own_list,
            form_text_area(
                State.form,
                "allowed_tools",
                "config-allowed-tools",
                "Allowed tools",
                placeholder="Read\nGrep\nBash",
                hint="One per line or comma-separated; case does not matter. Empty: every tool is removed.",
                style=styles.code_style,
            ),
        ),
        spacing="3",
        width="100%",
    )


def config_editor() -> rx.Component:
    return list_editor(
        State,
        two_columns(
            form_input(
                State.form,
                "model_prefix",
                "config-prefix",
                "Model prefix",
                placeholder="qwen2.5-coder",
                required=True,
                hint="The longest prefix of the requested name applies.",
            ),
            form_input(
                State.form, "description", "config-description", "Description", placeholder="optional"
            ),
        ),
        tools_fields(),
        form_input(
            State.form,
            "unsupported_params",
            "config-params",
            "Removed parameters",
            placeholder="frequency_penalty, logit_bias",
            hint="Dropped from requests before they reach the node (also inside Ollama options).",
            style=styles.code_style,
        ),
        switch_field(
            "Maintenance",
            "Requests for these models get 503 model_maintenance.",
            name="maintenance_mode",
            default_checked=State.form_maintenance,
        ),
        creating=State.editing_id == 0,
        noun="config",
        description="Rules for every model whose name starts with the prefix.",
        submit_id="save-config",
        dialog_id="config-editor",
    )


@template(route=routes.MODEL_CONFIG, title="Model config", on_load=State.load)
def model_configs_page() -> rx.Component:
    return rx.fragment(
        page_header(
            "Model config",
            "Per-model rules by name prefix: tools, removed parameters, maintenance.",
            new_button("New config", on_click=State.open_create, element_id="new-config"),
        ),
        configs_card(),
        config_editor(),
        delete_confirmation(
            State,
            title="Delete the config of " + State.pending_delete_label + "?",
            description="Requests for these models are no longer changed by it (a shorter prefix may apply).",
            dialog_id="confirm-delete-config",
        ),
    )


page: Page = model_configs_page
