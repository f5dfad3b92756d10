"""Mappings page: the table, and the create/edit dialog with node scoping, context length
and capabilities."""

from __future__ import annotations

import reflex as rx

from maestro_app.ui import routes, styles
from maestro_app.ui.components.widgets import (
    confirm_dialog,
    empty_state,
    field,
    loading_rows,
    page_header,
    pager,
    switch_field,
)
from maestro_app.ui.layout import Page, template
from maestro_app.ui.pages.mappings import CAPABILITIES, PAGE_SIZE, MappingRow, MappingsState, NodeChoice

REAL_NAMES_LIST = "real-name-options"


def scope_cell(mapping: rx.Var[MappingRow]) -> rx.Component:
    return rx.cond(
        mapping.node_names.length() > 0,
        rx.flex(
            rx.foreach(mapping.node_names, lambda n: rx.badge(n, variant="surface", color_scheme="gray")),
            wrap="wrap",
            gap="0.25rem",
        ),
        rx.badge("all nodes", color_scheme="grass", variant="soft"),
    )


def mapping_row(mapping: rx.Var[MappingRow]) -> rx.Component:
    muted = {"size": "2", "color": styles.muted_text_color}
    return rx.table.row(
        rx.table.row_header_cell(
            rx.vstack(
                rx.hstack(
                    rx.text(mapping.display_name, weight="medium"),
                    rx.cond(~mapping.is_active, rx.badge("inactive", color_scheme="gray", variant="outline")),
                    align="center",
                    spacing="2",
                ),
                rx.cond(
                    mapping.description != "",
                    rx.text(mapping.description, size="1", color=styles.muted_text_color),
                ),
                spacing="1",
            )
        ),
        rx.table.cell(rx.text(mapping.real_name, size="2", style=styles.code_style)),
        rx.table.cell(scope_cell(mapping), class_name="mapping-scope", max_width="16rem"),
        rx.table.cell(rx.text(mapping.context, **muted), class_name="mapping-context"),
        rx.table.cell(
            rx.flex(
                rx.foreach(
                    mapping.capabilities, lambda c: rx.badge(c, variant="surface", color_scheme="iris")
                ),
                wrap="wrap",
                gap="0.25rem",
            ),
            class_name="mapping-capabilities",
        ),
        rx.table.cell(
            rx.hstack(
                rx.icon_button(
                    rx.icon("pencil", size=16),
                    variant="ghost",
                    aria_label="Edit",
                    on_click=MappingsState.open_edit(mapping.id),
                    class_name="edit-mapping",
                ),
                rx.icon_button(
                    rx.icon("trash-2", size=16),
                    variant="ghost",
                    color_scheme="red",
                    aria_label="Delete",
                    on_click=MappingsState.ask_delete(mapping.id),
                    class_name="delete-mapping",
                ),
                spacing="3",
                justify="end",
            )
        ),
        id="mapping-" + mapping.id.to_string(),
        class_name="mapping-row",
        align="center",
    )


def mappings_card() -> rx.Component:
    headers = ("Display name", "Real name", "Nodes", "Context", "Capabilities", "")
    table = rx.table.root(
        rx.table.header(rx.table.row(*(rx.table.column_header_cell(h) for h in headers))),
        rx.table.body(rx.foreach(MappingsState.rows, mapping_row)),
        variant="ghost",
        size="2",
        width="100%",
    )
    empty = rx.cond(
        MappingsState.search != "",
        empty_state("search-x", "No mapping matches this search.", "Search by display or real name."),
        empty_state(
            "arrow-right-left",
            "No mappings yet.",
            "Clients see real model names until you give them display names here.",
        ),
    )
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.input(
                    rx.input.slot(rx.icon("search", size=16)),
                    placeholder="Search mappings",
                    value=MappingsState.search,
                    on_change=MappingsState.set_search,
                    debounce_timeout=300,
                    id="mapping-search",
                    max_width="20rem",
                    width="100%",
                ),
                rx.spacer(),
                rx.text(
                    MappingsState.total,
                    " mappings",
                    size="2",
                    color=styles.muted_text_color,
                    white_space="nowrap",
                ),
                align="center",
                width="100%",
            ),
            rx.cond(
                MappingsState.loaded,
                rx.cond(
                    MappingsState.rows.length() > 0,
                    rx.scroll_area(table, type="hover", scrollbars="horizontal"),
                    empty,
                ),
                loading_rows(),
            ),
            pager(
                offset=MappingsState.offset,
                total=MappingsState.total,
                page_size=PAGE_SIZE,
                on_prev=MappingsState.prev_page,
                on_next=MappingsState.next_page,
            ),
            spacing="3",
            width="100%",
        ),
        **styles.card_style,
    )


# -- dialog ------------------------------------------------------------------------------


def node_choice(node: rx.Var[NodeChoice]) -> rx.Component:
    return rx.text(
        rx.hstack(
            rx.checkbox(
                checked=MappingsState.form_node_ids.contains(node.id),
                on_change=lambda on: MappingsState.toggle_node(node.id, on),
            ),
            rx.text(node.name, size="2"),
            align="center",
            spacing="2",
        ),
        as_="label",
        class_name="node-choice",
    )


def node_scope() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text("Nodes", size="2", weight="medium"),
            rx.spacer(),
            rx.cond(
                MappingsState.form_node_ids.length() > 0,
                rx.button(
                    "All nodes", variant="ghost", size="1", type="button", on_click=MappingsState.all_nodes
                ),
            ),
            width="100%",
            align="center",
        ),
        rx.box(
            rx.cond(
                MappingsState.node_choices.length() > 0,
                rx.flex(
                    rx.foreach(MappingsState.node_choices, node_choice), wrap="wrap", gap="0.5rem 1.25rem"
                ),
                rx.text(
                    "No nodes yet: the mapping applies everywhere.", size="2", color=styles.muted_text_color
                ),
            ),
            max_height="9rem",
            overflow_y="auto",
            width="100%",
            padding="0.5rem 0.75rem",
            border=styles.border,
            border_radius=styles.border_radius,
            id="mapping-nodes",
        ),
        rx.text(
            rx.cond(
                MappingsState.form_node_ids.length() > 0,
                "Only on the checked nodes.",
                "None checked: on every node that has the real model.",
            ),
            size="1",
            color=styles.muted_text_color,
        ),
        spacing="2",
        width="100%",
    )


def capability_choices() -> rx.Component:
    return rx.vstack(
        rx.text("Capabilities", size="2", weight="medium"),
        rx.flex(
            *(
                rx.text(
                    rx.hstack(
                        rx.checkbox(
                            checked=MappingsState.form_capabilities.contains(cap),
                            on_change=lambda on, cap=cap: MappingsState.toggle_capability(cap, on),
                        ),
                        rx.text(cap, size="2"),
                        align="center",
                        spacing="2",
                    ),
                    as_="label",
                    class_name="capability-choice",
                )
                for cap in CAPABILITIES
            ),
            wrap="wrap",
            gap="0.5rem 1.25rem",
        ),
        rx.text(
            "Declared for clients; none checked = what discovery reports.",
            size="1",
            color=styles.muted_text_color,
        ),
        spacing="2",
        width="100%",
    )


def text_input(name: str, label: str, **props: object) -> rx.Component:
    element_id = f"mapping-{name.replace('_', '-')}"
    hint = str(props.pop("hint", ""))
    return field(
        label,
        rx.input(name=name, id=element_id, default_value=MappingsState.form[name], width="100%", **props),
        hint=hint,
        html_for=element_id,
    )


def mapping_editor() -> rx.Component:
    creating = MappingsState.editing_id == 0
    form = rx.form(
        rx.vstack(
            rx.grid(
                text_input(
                    "display_name",
                    "Display name",
                    placeholder="chat-large",
                    required=True,
                    hint="What clients ask for.",
                ),
                text_input(
                    "real_name",
                    "Real name",
                    placeholder="llama3.1:70b",
                    required=True,
                    hint="The model's name on the node.",
                    custom_attrs={"list": REAL_NAMES_LIST},
                    auto_complete="off",
                ),
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="3",
                width="100%",
            ),
            rx.el.datalist(
                rx.foreach(MappingsState.real_names, lambda n: rx.el.option(value=n)),
                id=REAL_NAMES_LIST,
            ),
            node_scope(),
            rx.grid(
                text_input(
                    "context_length",
                    "Context length",
                    placeholder="from the model",
                    hint="Tokens: 32768, 32K, 128k or 1M.",
                ),
                text_input("description", "Description", placeholder="optional"),
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="3",
                width="100%",
            ),
            capability_choices(),
            switch_field(
                "Active",
                "An inactive mapping is kept but not used.",
                checked=MappingsState.form_active,
                on_change=MappingsState.set_form_active,
            ),
            rx.hstack(
                rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                rx.button(rx.cond(creating, "Create mapping", "Save"), type="submit", id="save-mapping"),
                justify="end",
                spacing="3",
                width="100%",
            ),
            spacing="4",
            width="100%",
        ),
        on_submit=MappingsState.save,
        reset_on_submit=False,
        width="100%",
    )
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(creating, "New mapping", "Edit mapping")),
            rx.dialog.description(
                "A name clients use for a model, on every node or only on some.",
                size="2",
                color=styles.muted_text_color,
                margin_bottom="1rem",
            ),
            form,
            max_width="38rem",
            id="mapping-editor",
        ),
        open=MappingsState.editor_open,
        on_open_change=MappingsState.set_editor_open,
    )


@template(route=routes.MAPPINGS, title="Mappings", on_load=MappingsState.load)
def mappings_page() -> rx.Component:
    return rx.fragment(
        page_header(
            "Mappings",
            "Display names for real models, globally or on chosen nodes.",
            rx.button(
                rx.icon("plus", size=16), "New mapping", on_click=MappingsState.open_create, id="new-mapping"
            ),
        ),
        mappings_card(),
        mapping_editor(),
        confirm_dialog(
            open_=MappingsState.delete_open,
            on_open_change=MappingsState.set_delete_open,
            on_confirm=MappingsState.confirm_delete,
            title="Delete mapping " + MappingsState.pending_delete_name + "?",
            description="Clients stop reaching the real model under this display name at once.",
            dialog_id="confirm-delete-mapping",
        ),
    )


page: Page = mappings_page
