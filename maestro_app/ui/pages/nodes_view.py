"""Nodes page: node cards in priority order (drag to reorder), the add/edit dialog, health
history, and the delete confirmation."""

from __future__ import annotations

import reflex as rx

from maestro_app.ui import routes, styles
from maestro_app.ui.components.listing import fact
from maestro_app.ui.components.sortable import sortable_item, sortable_list
from maestro_app.ui.components.ticker import ticker
from maestro_app.ui.components.widgets import (
    confirm_dialog,
    empty_state,
    field,
    health_badge,
    loading_rows,
    page_header,
    switch_field,
)
from maestro_app.ui.layout import Page, template
from maestro_app.ui.pages.nodes import LIVE_REFRESH_MS, HealthEventRow, NodeCard, NodesState

# -- cards ------------------------------------------------------------------------------


def busy(action: str, node: rx.Var[NodeCard]) -> rx.Var[bool]:
    return NodesState.busy == action + ":" + node.sort_id


def node_actions(node: rx.Var[NodeCard]) -> rx.Component:
    return rx.hstack(
        rx.button(
            rx.icon("heart-pulse", size=14),
            "Check",
            variant="soft",
            size="1",
            loading=busy("health", node),
            on_click=[NodesState.mark_busy("health", node.id), NodesState.check_now(node.id)],
            class_name="check-now",
            title="Health-check now",
        ),
        rx.button(
            rx.icon("radar", size=14),
            "Discover",
            variant="soft",
            size="1",
            loading=busy("discover", node),
            on_click=[NodesState.mark_busy("discover", node.id), NodesState.discover_now(node.id)],
            class_name="discover-now",
            title="Discover models now",
        ),
        rx.icon_button(
            rx.icon("pencil", size=14),
            variant="ghost",
            size="1",
            aria_label="Edit",
            on_click=NodesState.open_edit(node.id),
            class_name="edit-node",
        ),
        rx.menu.root(
            rx.menu.trigger(
                rx.icon_button(
                    rx.icon("ellipsis-vertical", size=14),
                    variant="ghost",
                    color_scheme="gray",
                    size="1",
                    aria_label="More actions",
                    class_name="node-menu",
                ),
            ),
            rx.menu.content(
                rx.menu.item(
                    rx.icon("history", size=16), "Health history", on_click=NodesState.open_history(node.id)
                ),
                rx.menu.item(rx.icon("boxes", size=16), "Models", on_click=rx.redirect(node.models_href)),
                rx.menu.separator(),
                rx.menu.item(rx.icon("arrow-up", size=16), "Move up", on_click=NodesState.move(node.id, -1)),
                rx.menu.item(
                    rx.icon("arrow-down", size=16), "Move down", on_click=NodesState.move(node.id, 1)
                ),
                rx.menu.separator(),
                rx.menu.item(
                    rx.icon("trash-2", size=16),
                    "Delete",
                    color_scheme="red",
                    on_click=NodesState.ask_delete(node.id),
                ),
            ),
        ),
        align="center",
        spacing="2",
    )


def node_switches(node: rx.Var[NodeCard]) -> rx.Component:
    return rx.hstack(
        rx.text(
            rx.hstack(
                rx.switch(
                    checked=node.is_active,
                    on_change=lambda _: NodesState.toggle_active(node.id),
                    size="1",
                    class_name="active-switch",
                ),
                "Active",
                align="center",
                spacing="2",
            ),
            as_="label",
            size="2",
        ),
        rx.text(
            rx.hstack(
                rx.switch(
                    checked=node.warmup_enabled,
                    on_change=lambda on: NodesState.set_warmup(node.id, on),
                    size="1",
                    class_name="warmup-switch",
                ),
                "Warmup",
                align="center",
                spacing="2",
            ),
            as_="label",
            size="2",
            title=node.warmup_note,
        ),
        spacing="4",
        align="center",
    )


def node_card(node: rx.Var[NodeCard]) -> rx.Component:
    card = rx.card(
        rx.flex(
            rx.hstack(
                rx.icon("grip-vertical", size=18, color=styles.muted_text_color, flex_shrink="0"),
                rx.vstack(
                    rx.hstack(
                        rx.text(node.name, weight="bold", size="3", class_name="node-name"),
                        rx.cond(
                            node.code != "", rx.code(node.code, size="1", variant="soft", color_scheme="gray")
                        ),
                        rx.badge(node.node_type, variant="outline", color_scheme="gray"),
                        health_badge(node),
                        rx.cond(
                            ~node.is_active, rx.badge("inactive", color_scheme="gray", variant="outline")
                        ),
                        align="center",
                        spacing="2",
                        wrap="wrap",
                    ),
                    rx.flex(
                        rx.text(
                            node.base_url, size="2", style=styles.code_style, color=styles.muted_text_color
                        ),
                        rx.link(
                            fact(
                                "boxes",
                                node.models_count,
                                rx.cond(node.models_count == 1, " model", " models"),
                            ),
                            href=node.models_href,
                            underline="hover",
                            class_name="models-count",
                        ),
                        fact("clock", "checked ", node.last_check),
                        fact("arrow-up-down", "priority ", node.priority, " · weight ", node.weight),
                        wrap="wrap",
                        gap="0.25rem 1rem",
                        align="center",
                    ),
                    rx.cond(
                        ~node.warmup_needed,
                        rx.text(
                            node.warmup_note,
                            size="1",
                            color=styles.muted_text_color,
                            class_name="warmup-note",
                        ),
                    ),
                    spacing="1",
                    min_width="0",
                ),
                align="center",
                spacing="3",
                flex="1",
                min_width="16rem",
            ),
            rx.flex(
                node_switches(node),
                node_actions(node),
                align="center",
                gap="1rem",
                wrap="wrap",
            ),
            align="center",
            justify="between",
            gap="0.75rem",
            wrap="wrap",
            width="100%",
        ),
        width="100%",
        id="node-card-" + node.sort_id,
        class_name="node-card",
    )
    return sortable_item(card, item_id=node.sort_id)


def node_list() -> rx.Component:
    return rx.cond(
        NodesState.loaded,
        rx.cond(
            NodesState.cards.length() > 0,
            sortable_list(
                rx.foreach(NodesState.cards, node_card),
                on_reorder=NodesState.reorder,
                id="node-list",
            ),
            rx.card(
                empty_state(
                    "server-off",
                    "No nodes yet.",
                    "Add an Ollama or vLLM server; it is health-checked and its models discovered at once.",
                ),
                **styles.card_style,
            ),
        ),
        loading_rows(3),
    )


# -- add / edit dialog ------------------------------------------------------------------


def text_input(
    name: str, label: str, *, placeholder: str = "", hint: str = "", **props: object
) -> rx.Component:
    return field(
        label,
        rx.input(
            name=name,
            id=f"node-{name.replace('_', '-')}",
            default_value=NodesState.form[name],
            placeholder=placeholder,
            width="100%",
            **props,
        ),
        hint=hint,
        html_for=f"node-{name.replace('_', '-')}",
    )


def node_editor() -> rx.Component:
    adding = NodesState.editing_id == 0
    form = rx.form(
        rx.vstack(
            rx.grid(
                text_input("name", "Name", placeholder="gpu-box-1", required=True),
                field(
                    "Type",
                    rx.select(
                        ["ollama", "vllm"],
                        name="node_type",
                        default_value=NodesState.form["node_type"],
                        width="100%",
                    ),
                ),
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="3",
                width="100%",
            ),
            text_input("base_url", "Base URL", placeholder="http://10.0.0.5:11434", required=True),
            rx.grid(
                text_input(
                    "code", "Code", placeholder="derived from the name", hint="For node:{code}:{model}."
                ),
                text_input(
                    "health_check_url",
                    "Health check URL",
                    placeholder="default for the type",
                    hint="A path or URL.",
                ),
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="3",
                width="100%",
            ),
            text_input("api_key", "API key", placeholder="none", type="password", auto_complete="off"),
            rx.cond(
                NodesState.stored_api_key != "",
                rx.text(
                    "Stored key ",
                    rx.code(NodesState.stored_api_key, size="1"),
                    ": leave the field as it is to keep it, type a new key to replace it, clear it to remove it.",
                    size="1",
                    color=styles.muted_text_color,
                    margin_top="-0.75rem",
                ),
            ),
            field(
                "Extra headers",
                rx.text_area(
                    name="headers",
                    id="node-headers",
                    default_value=NodesState.form["headers"],
                    placeholder="X-Team: research",
                    rows="3",
                    width="100%",
                    style=styles.code_style,
                ),
                hint="One 'Name: value' per line; masked values keep what is stored.",
                html_for="node-headers",
            ),
            rx.grid(
                text_input("priority", "Priority", hint="Higher is tried first.", input_mode="numeric"),
                text_input(
                    "weight", "Weight", hint="Share under the weighted strategy.", input_mode="numeric"
                ),
                columns="2",
                spacing="3",
                width="100%",
            ),
            rx.hstack(
                switch_field("Active", "", name="is_active", default_checked=NodesState.form_active),
                switch_field(
                    "Warmup",
                    "Keeps used models loaded (Ollama; vLLM needs none).",
                    name="warmup_enabled",
                    default_checked=NodesState.form_warmup,
                ),
                spacing="5",
                width="100%",
            ),
            rx.hstack(
                rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                rx.button(rx.cond(adding, "Add node", "Save"), type="submit", id="save-node"),
                justify="end",
                spacing="3",
                width="100%",
            ),
            spacing="4",
            width="100%",
        ),
        on_submit=NodesState.save,
        reset_on_submit=False,
        width="100%",
    )
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(adding, "Add node", "Edit node")),
            rx.dialog.description(
                "An Ollama or vLLM server the gateway routes to.",
                size="2",
                color=styles.muted_text_color,
                margin_bottom="1rem",
            ),
            form,
            max_width="38rem",
            id="node-editor",
        ),
        open=NodesState.editor_open,
        on_open_change=NodesState.set_editor_open,
    )


# -- history, confirmation, page ---------------------------------------------------------


def history_row(event: rx.Var[HealthEventRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(event.when, size="2", white_space="nowrap")),
        rx.table.cell(
            rx.hstack(
                rx.text(event.old_status, size="2", color=styles.muted_text_color),
                rx.icon("arrow-right", size=14),
                rx.badge(event.new_status, color_scheme=event.color, variant="soft"),
                align="center",
                spacing="2",
            )
        ),
        rx.table.cell(rx.text(event.reason, size="2", color=styles.muted_text_color)),
        class_name="history-row",
    )


def history_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Health history of ", NodesState.history_node),
            rx.dialog.description(
                "Status changes recorded by health checks, newest first.",
                size="2",
                color=styles.muted_text_color,
                margin_bottom="0.75rem",
            ),
            rx.cond(
                NodesState.history.length() > 0,
                rx.scroll_area(
                    rx.table.root(
                        rx.table.header(
                            rx.table.row(
                                *(rx.table.column_header_cell(h) for h in ("When", "Change", "Reason")),
                            )
                        ),
                        rx.table.body(rx.foreach(NodesState.history, history_row)),
                        size="1",
                        width="100%",
                    ),
                    max_height="24rem",
                    type="auto",
                ),
                empty_state("history", "No status change yet.", "Changes appear after health checks."),
            ),
            rx.hstack(rx.dialog.close(rx.button("Close", variant="soft")), justify="end", margin_top="1rem"),
            max_width="40rem",
            id="health-history",
        ),
        open=NodesState.history_open,
        on_open_change=NodesState.set_history_open,
    )


@template(route=routes.NODES, title="Nodes", on_load=NodesState.load)
def nodes_page() -> rx.Component:
    return rx.fragment(
        page_header(
            "Nodes",
            "Upstream servers in priority order: drag a card to reorder (saved at once).",
            rx.cond(
                NodesState.refreshed_at != "",
                rx.text("Updated ", NodesState.refreshed_at, size="1", color=styles.muted_text_color),
            ),
            rx.button(rx.icon("plus", size=16), "Add node", on_click=NodesState.open_create, id="add-node"),
        ),
        node_list(),
        node_editor(),
        history_dialog(),
        confirm_dialog(
            open_=NodesState.delete_open,
            on_open_change=NodesState.set_delete_open,
            on_confirm=NodesState.confirm_delete,
            title="Delete node " + NodesState.pending_delete_name + "?",
            description="Its discovered models go with it; mappings scoped only to it are deleted, "
            "other mappings and group members stop naming it.",
            dialog_id="confirm-delete-node",
        ),
        ticker(on_tick=NodesState.refresh, interval_ms=LIVE_REFRESH_MS),
    )


page: Page = nodes_page
