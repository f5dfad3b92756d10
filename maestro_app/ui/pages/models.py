"""Models page: the models discovered on one node, and the admin's availability choice.

A model is available to routing when discovery finds it on the node, unless an admin
pinned it on or off (`availability_override`); "follow discovery" removes the pin.
"""

from __future__ import annotations

import dataclasses

import reflex as rx
from reflex.event import EventSpec

from maestro_app.services import node_models, nodes
from maestro_app.services.node_models import AvailabilityUpdate, NodeModelPublic
from maestro_app.ui import format as fmt
from maestro_app.ui import routes, styles
from maestro_app.ui.components.widgets import (
    empty_state,
    loading_rows,
    page_header,
)
from maestro_app.ui.data import call_service, call_write, discover_node_models
from maestro_app.ui.feedback import INPUT_ERRORS, failure_toast
from maestro_app.ui.layout import Page, template
from maestro_app.ui.state import AuthState, admin_event

MAX_NODES = 1000
MAX_MODELS = 1000


@dataclasses.dataclass
class NodeOption:
    id: str = ""
    label: str = ""


@dataclasses.dataclass
class ModelRow:
    name: str = ""
    family: str = ""
    parameters: str = ""
    quantization: str = ""
    size: str = ""
    context: str = ""
    capabilities: list[str] = dataclasses.field(default_factory=list)
    is_available: bool = True
    is_present: bool = True
    pinned: str = ""  # "" follows discovery; "on" / "off" = the admin's choice
    last_seen: str = ""


def _row(model: NodeModelPublic) -> ModelRow:
    override = model.availability_override
    return ModelRow(
        name=model.name,
        family=model.family or "",
        parameters=model.parameter_size or "",
        quantization=model.quantization or "",
        size=fmt.byte_size(model.size),
        context=fmt.context_label(model.context_length, suffix=""),
        capabilities=list(model.capabilities),
        is_available=model.is_available,
        is_present=model.is_present,
        pinned="" if override is None else ("on" if override else "off"),
        last_seen=fmt.when(model.last_seen_at),
    )


class ModelsState(AuthState):
    node_options: list[NodeOption] = []
    node_id: str = ""
    node_name: str = ""
    node_health: str = ""
    node_health_color: str = "gray"
    rows: list[ModelRow] = []
    search: str = ""
    loaded: bool = False
    discovering: bool = False

    @rx.var
    def shown_rows(self) -> list[ModelRow]:
        needle = self.search.strip().lower()
        return [r for r in self.rows if needle in r.name.lower() or needle in r.family.lower()]

    @rx.var
    def available_count(self) -> int:
        return sum(1 for r in self.rows if r.is_available)

    async def _refresh(self) -> None:
        listing = await call_service(nodes.list_nodes, limit=MAX_NODES)
        self.node_options = [NodeOption(str(n.id), f"{n.name} ({n.node_type})") for n in listing.items]
        known = {o.id for o in self.node_options}
        if self.node_id not in known:
            self.node_id = self.node_options[0].id if self.node_options else ""
        self.rows = []
        node = next((n for n in listing.items if str(n.id) == self.node_id), None)
        if node is not None:
            self.node_name = node.name
            self.node_health = node.health_status
            self.node_health_color = styles.HEALTH_COLORS.get(node.health_status, "gray")
            page = await call_service(node_models.list_node_models, node_id=node.id, limit=MAX_MODELS)
            self.rows = [_row(m) for m in page.items]
        self.loaded = True

    @admin_event
    async def load(self) -> None:
        self.node_id = str(self.router.url.query_parameters.get("node", ""))[:12]
        self.search = ""
        self.discovering = False
        await self._refresh()

    @admin_event
    def select_node(self, node_id: str) -> EventSpec | None:
        if not (str(node_id).isascii() and str(node_id).isdigit()):
            return None
        return rx.redirect(f"{routes.MODELS}?node={int(node_id)}")

    @admin_event
    def set_search(self, value: str) -> None:
        self.search = value[:256]

    async def _set(self, name: str, value: bool | None) -> EventSpec:
        try:
            await call_write(
                node_models.set_model_availability,
                node_id=int(self.node_id),
                model=name,
                data=AvailabilityUpdate(is_available=value),
                actor=self._actor,
            )
        except (*INPUT_ERRORS, ValueError) as exc:
            await self._refresh()
            return failure_toast(exc)
        await self._refresh()
        if value is None:
            return rx.toast.success(f"{name} follows discovery again")
        return rx.toast.success(f"{name} is {'available' if value else 'unavailable'} on {self.node_name}")

    @admin_event
    async def set_available(self, name: str, available: bool) -> EventSpec:
        return await self._set(name, bool(available))

    @admin_event
    async def follow_discovery(self, name: str) -> EventSpec:
        return await self._set(name, None)

    @admin_event
    def mark_discovering(self) -> None:
        self.discovering = True

    @admin_event
    async def discover_now(self) -> EventSpec:
        try:
            result = await discover_node_models(node_id=int(self.node_id), actor=self._actor)
        except (*INPUT_ERRORS, ValueError) as exc:
            return failure_toast(exc)
        finally:
            self.discovering = False
            await self._refresh()
        return rx.toast.success(f"{sum(1 for m in result.models if m.is_present)} model(s) found")


# -- components --------------------------------------------------------------------------


def availability_cell(model: rx.Var[ModelRow]) -> rx.Component:
    return rx.hstack(
        rx.switch(
            checked=model.is_available,
            on_change=lambda on: ModelsState.set_available(model.name, on),
            class_name="available-switch",
            aria_label="Available",
        ),
        rx.cond(
            model.pinned != "",
            rx.hstack(
                rx.badge("pinned " + model.pinned, color_scheme="amber", variant="soft", class_name="pinned"),
                rx.button(
                    "Follow discovery",
                    variant="ghost",
                    size="1",
                    on_click=ModelsState.follow_discovery(model.name),
                    class_name="follow-discovery",
                ),
                align="center",
                spacing="2",
            ),
            rx.text("from discovery", size="1", color=styles.muted_text_color),
        ),
        align="center",
        spacing="3",
        white_space="nowrap",
    )


def model_row(model: rx.Var[ModelRow]) -> rx.Component:
    muted = {"size": "2", "color": styles.muted_text_color, "white_space": "nowrap"}
    return rx.table.row(
        rx.table.row_header_cell(
            rx.vstack(
                rx.text(model.name, weight="medium", style=styles.code_style),
                rx.cond(
                    ~model.is_present,
                    rx.badge("not on the node", color_scheme="gray", variant="outline", size="1"),
                ),
                spacing="1",
            )
        ),
        rx.table.cell(rx.text(model.family, **muted)),
        rx.table.cell(rx.text(model.parameters, **muted)),
        rx.table.cell(rx.text(model.quantization, **muted)),
        rx.table.cell(rx.text(model.size, **muted), class_name="model-size"),
        rx.table.cell(rx.text(model.context, **muted), class_name="model-context"),
        rx.table.cell(
            rx.flex(
                rx.foreach(model.capabilities, lambda c: rx.badge(c, variant="surface", color_scheme="gray")),
                wrap="wrap",
                gap="0.25rem",
            )
        ),
        rx.table.cell(availability_cell(model)),
        id="model-" + model.name,
        class_name="model-row",
        align="center",
    )


def models_table() -> rx.Component:
    headers = (
        "Model",
        "Family",
        "Parameters",
        "Quantization",
        "Size",
        "Context",
        "Capabilities",
        "Available",
    )
    table = rx.table.root(
        rx.table.header(rx.table.row(*(rx.table.column_header_cell(h) for h in headers))),
        rx.table.body(rx.foreach(ModelsState.shown_rows, model_row)),
        variant="ghost",
        size="2",
        width="100%",
    )
    return rx.cond(
        ModelsState.rows.length() > 0,
        rx.cond(
            ModelsState.shown_rows.length() > 0,
            rx.scroll_area(table, type="hover", scrollbars="horizontal"),
            empty_state("search-x", "No model matches this filter.", "Try part of a name or family."),
        ),
        empty_state(
            "boxes", "No models discovered on this node yet.", "Run a discovery to read its model list."
        ),
    )


def toolbar() -> rx.Component:
    return rx.flex(
        rx.select.root(
            rx.select.trigger(placeholder="Choose a node", id="node-select", min_width="14rem"),
            rx.select.content(
                rx.foreach(ModelsState.node_options, lambda o: rx.select.item(o.label, value=o.id)),
            ),
            value=ModelsState.node_id,
            on_change=ModelsState.select_node,
        ),
        rx.badge(
            rx.icon("circle", size=8, fill="currentColor"),
            ModelsState.node_health,
            color_scheme=ModelsState.node_health_color,
            variant="soft",
            radius="full",
            class_name="health-badge",
        ),
        rx.input(
            rx.input.slot(rx.icon("search", size=16)),
            placeholder="Filter models",
            value=ModelsState.search,
            on_change=ModelsState.set_search,
            debounce_timeout=200,
            id="model-search",
            max_width="16rem",
        ),
        rx.spacer(),
        rx.text(
            ModelsState.available_count,
            " of ",
            ModelsState.rows.length(),
            " available",
            size="2",
            color=styles.muted_text_color,
        ),
        rx.button(
            rx.icon("radar", size=14),
            "Discover now",
            variant="soft",
            loading=ModelsState.discovering,
            on_click=[ModelsState.mark_discovering, ModelsState.discover_now],
            id="discover-models",
        ),
        align="center",
        gap="0.75rem",
        wrap="wrap",
        width="100%",
    )


@template(route=routes.MODELS, title="Models", on_load=ModelsState.load)
def models_page() -> rx.Component:
    return rx.fragment(
        page_header(
            "Models",
            "What each node serves, as discovery found it; switch a model off to keep "
            "routing away from it on that node.",
        ),
        rx.card(
            rx.cond(
                ModelsState.loaded,
                rx.cond(
                    ModelsState.node_options.length() > 0,
                    rx.vstack(toolbar(), models_table(), spacing="4", width="100%"),
                    empty_state("server-off", "No nodes yet.", "Add a node on the Nodes page first."),
                ),
                loading_rows(4),
            ),
            **styles.card_style,
        ),
    )


page: Page = models_page
