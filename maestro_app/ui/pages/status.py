"""Status page: every node with its health and models, and how to connect clients."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import reflex as rx

from maestro_app.services.node_status import NodeStatus, list_node_status
from maestro_app.ui import routes, styles
from maestro_app.ui.components.widgets import health_badge, refresh_button, stat_card
from maestro_app.ui.data import call_service, configured_public_url
from maestro_app.ui.format import context_label as _context_label
from maestro_app.ui.format import when as _when
from maestro_app.ui.layout import Page, template
from maestro_app.ui.snippets import connection_snippets
from maestro_app.ui.state import AuthState, admin_event

EXAMPLE_MODEL = "llama3.2"


@dataclasses.dataclass
class ModelRow:
    name: str = ""
    context: str = ""


@dataclasses.dataclass
class NodeRow:
    name: str = ""
    code: str = ""
    node_type: str = ""
    base_url: str = ""
    is_active: bool = True
    health: str = "unknown"
    health_color: str = "gray"
    last_check: str = ""
    last_error: str = ""
    models: list[ModelRow] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class SnippetView:
    key: str = ""
    label: str = ""
    language: str = ""
    code: str = ""
    note: str = ""


def _row(node: NodeStatus) -> NodeRow:
    return NodeRow(
        name=node.name,
        code=node.code or "",
        node_type=node.node_type,
        base_url=node.base_url,
        is_active=node.is_active,
        health=node.health_status,
        health_color=styles.HEALTH_COLORS.get(node.health_status, "gray"),
        last_check=_when(node.last_health_check),
        last_error=node.last_error or "",
        models=[ModelRow(m.name, _context_label(m.context_length)) for m in node.models],
    )


class StatusState(AuthState):
    nodes: list[NodeRow] = []
    loaded: bool = False
    refreshed_at: str = ""
    gateway_url: str = ""
    snippets: list[SnippetView] = []

    @rx.var
    def healthy_count(self) -> int:
        return sum(1 for n in self.nodes if n.health == "healthy")

    @rx.var
    def unhealthy_count(self) -> int:
        return sum(1 for n in self.nodes if n.health == "unhealthy")

    @rx.var
    def model_count(self) -> int:
        return len({m.name for n in self.nodes for m in n.models})

    @admin_event
    async def load(self) -> None:
        self.gateway_url = configured_public_url() or self.router.url.origin.rstrip("/")
        await self._refresh()

    @admin_event
    async def refresh(self) -> None:
        await self._refresh()

    async def _refresh(self) -> None:
        statuses = await call_service(list_node_status)
        self.nodes = [_row(node) for node in statuses]
        self.loaded = True
        self.refreshed_at = datetime.now(UTC).strftime("%H:%M:%S UTC")
        model = next(
            (m.name for n in self.nodes if n.health == "healthy" for m in n.models),
            next((m.name for n in self.nodes for m in n.models), EXAMPLE_MODEL),
        )
        self.snippets = [
            SnippetView(s.key, s.label, s.language, s.code, s.note)
            for s in connection_snippets(base_url=self.gateway_url, model=model)
        ]


# -- components --------------------------------------------------------------------


def model_chip(model: rx.Var[ModelRow]) -> rx.Component:
    return rx.badge(
        model.name,
        rx.cond(
            model.context != "", rx.text(model.context, as_="span", color=styles.muted_text_color, size="1")
        ),
        variant="surface",
        color_scheme="gray",
        radius="medium",
    )


def node_row(node: rx.Var[NodeRow]) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(
            rx.vstack(
                rx.hstack(
                    rx.text(node.name, weight="medium"),
                    rx.cond(~node.is_active, rx.badge("inactive", color_scheme="gray", variant="outline")),
                    align="center",
                    spacing="2",
                ),
                rx.cond(node.code != "", rx.code(node.code, size="1", variant="ghost", color_scheme="gray")),
                spacing="1",
            ),
        ),
        rx.table.cell(rx.badge(node.node_type, variant="outline", color_scheme="gray")),
        rx.table.cell(rx.text(node.base_url, size="2", style=styles.code_style, white_space="nowrap")),
        rx.table.cell(health_badge(node)),
        rx.table.cell(
            rx.cond(
                node.models.length() > 0,
                rx.flex(rx.foreach(node.models, model_chip), wrap="wrap", gap="0.375rem"),
                rx.text("none available", size="2", color=styles.muted_text_color),
            ),
            max_width="24rem",
        ),
        rx.table.cell(
            rx.text(node.last_check, size="2", color=styles.muted_text_color, white_space="nowrap")
        ),
        id="node-" + node.name,
        class_name="node-row",
        align="center",
    )


def nodes_card() -> rx.Component:
    table = rx.table.root(
        rx.table.header(
            rx.table.row(
                *(
                    rx.table.column_header_cell(h)
                    for h in ("Node", "Type", "Base URL", "Health", "Models", "Last health check")
                ),
            ),
        ),
        rx.table.body(rx.foreach(StatusState.nodes, node_row)),
        variant="ghost",
        size="2",
        width="100%",
    )
    empty = rx.center(
        rx.vstack(
            rx.icon("server-off", size=28, color=styles.muted_text_color),
            rx.text("No nodes registered yet.", weight="medium"),
            rx.text(
                "Add an Ollama or vLLM server on the ",
                rx.link("Nodes page", href=routes.NODES),
                " (or with ",
                rx.code("POST /admin/nodes"),
                ").",
                size="2",
                color=styles.muted_text_color,
            ),
            align="center",
            spacing="2",
        ),
        padding_y="2.5rem",
        width="100%",
    )
    return rx.card(
        rx.vstack(
            rx.heading("Nodes", size="4"),
            rx.cond(
                StatusState.loaded,
                rx.cond(
                    StatusState.nodes.length() > 0,
                    rx.scroll_area(table, type="hover", scrollbars="horizontal"),
                    empty,
                ),
                rx.vstack(
                    rx.skeleton(height="2rem", width="100%"),
                    rx.skeleton(height="2rem", width="100%"),
                    width="100%",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        **styles.card_style,
    )


def snippet_panel(snippet: rx.Var[SnippetView]) -> rx.Component:
    return rx.tabs.content(
        rx.vstack(
            rx.code_block(
                snippet.code,
                language=snippet.language,
                can_copy=True,
                copy_button=rx.icon_button(
                    rx.icon("copy", size=14),
                    variant="soft",
                    color_scheme="gray",
                    size="1",
                    aria_label="Copy snippet",
                    on_click=[rx.set_clipboard(snippet.code), rx.toast.success("Copied")],
                    position="absolute",
                    top="0.625rem",
                    right="0.625rem",
                ),
                wrap_long_lines=True,
                width="100%",
                margin="0",
                border_radius=styles.border_radius,
                font_size="0.8125rem",
            ),
            rx.cond(snippet.note != "", rx.text(snippet.note, size="1", color=styles.muted_text_color)),
            spacing="2",
            align="stretch",
            width="100%",
            padding_top="0.75rem",
        ),
        value=snippet.key,
    )


def connect_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("How to connect", size="4"),
            rx.text(
                "Point any OpenAI-, Ollama- or Anthropic-compatible client at the "
                "gateway and authenticate with a user token.",
                size="2",
                color=styles.muted_text_color,
            ),
            rx.hstack(
                rx.text("Gateway base URL", size="2", weight="medium", white_space="nowrap"),
                rx.code(StatusState.gateway_url, size="3", id="gateway-url", word_break="break-all"),
                rx.icon_button(
                    rx.icon("copy", size=14),
                    variant="ghost",
                    size="1",
                    aria_label="Copy the gateway base URL",
                    on_click=[rx.set_clipboard(StatusState.gateway_url), rx.toast.success("Base URL copied")],
                ),
                align="center",
                spacing="3",
                wrap="wrap",
            ),
            rx.tabs.root(
                rx.tabs.list(
                    rx.foreach(StatusState.snippets, lambda s: rx.tabs.trigger(s.label, value=s.key)),
                    flex_wrap="wrap",
                ),
                rx.foreach(StatusState.snippets, snippet_panel),
                default_value="openai",
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        **styles.card_style,
    )


@template(route=routes.STATUS, title="Status", on_load=StatusState.load)
def status_page() -> rx.Component:
    return rx.fragment(
        rx.hstack(
            rx.vstack(
                rx.heading("Status", size="7", as_="h1"),
                rx.text("Nodes behind the gateway, and how clients reach it.", color=styles.muted_text_color),
                spacing="1",
            ),
            rx.spacer(),
            rx.cond(
                StatusState.refreshed_at != "",
                rx.text("Updated ", StatusState.refreshed_at, size="1", color=styles.muted_text_color),
            ),
            refresh_button(StatusState.refresh),
            align="center",
            width="100%",
            wrap="wrap",
        ),
        rx.grid(
            stat_card("Nodes", StatusState.nodes.length(), "server", "iris"),
            stat_card("Healthy", StatusState.healthy_count, "circle-check", "grass"),
            stat_card("Unhealthy", StatusState.unhealthy_count, "circle-alert", "tomato"),
            stat_card("Models available", StatusState.model_count, "boxes", "amber"),
            columns=rx.breakpoints(initial="1", sm="2", lg="4"),
            spacing="4",
            width="100%",
        ),
        nodes_card(),
        connect_card(),
    )


page: Page = status_page
