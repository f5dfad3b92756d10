"""Nodes page state: upstream nodes with their health, settings and priority order.

The cards and dialogs are drawn in `nodes_view`. Every handler goes through `admin_event`
and calls `services.nodes` (or a health check / discovery through `ui.data`). Secrets come
back masked from the service; the edit form sends the masked text back when the admin does
not type a new one, and the service then keeps the stored secret.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx
from reflex.event import EventSpec

from maestro_app.services import nodes
from maestro_app.services.errors import InvalidInput
from maestro_app.services.health_history import list_health_events
from maestro_app.services.nodes import (
    NodeCreate,
    NodePublic,
    NodeUpdate,
    NodeWrite,
    PriorityBatch,
    PriorityItem,
)
from maestro_app.ui import format as fmt
from maestro_app.ui import routes, styles
from maestro_app.ui.data import (
    call_service,
    call_write,
    check_new_node_soon,
    check_node_health,
    discover_node_models,
)
from maestro_app.ui.feedback import INPUT_ERRORS, checked, failure_toast, required_int, text_or_none
from maestro_app.ui.ordering import moved
from maestro_app.ui.state import AuthState, admin_event

MAX_NODES = 1000
LIVE_REFRESH_MS = 10_000
PRIORITY_STEP = 10


@dataclasses.dataclass
class NodeCard:
    id: int = 0
    sort_id: str = ""
    name: str = ""
    code: str = ""
    node_type: str = ""
    base_url: str = ""
    is_active: bool = True
    warmup_enabled: bool = False
    # What warmup does on this node type (vLLM: nothing, it keeps its models loaded)
    warmup_needed: bool = True
    warmup_note: str = ""
    priority: int = 0
    weight: int = 1
    health: str = "unknown"
    health_color: str = "gray"
    last_check: str = ""
    last_error: str = ""
    models_count: int = 0
    models_href: str = ""


@dataclasses.dataclass
class HealthEventRow:
    when: str = ""
    old_status: str = ""
    new_status: str = ""
    color: str = "gray"
    reason: str = ""


def _card(node: NodePublic) -> NodeCard:
    return NodeCard(
        id=node.id,
        sort_id=str(node.id),
        name=node.name,
        code=node.code or "",
        node_type=node.node_type,
        base_url=node.base_url,
        is_active=node.is_active,
        warmup_enabled=node.warmup_enabled,
        warmup_needed=node.warmup != "not_needed",
        warmup_note=node.warmup_note,
        priority=node.priority,
        weight=node.weight,
        health=node.health_status,
        health_color=styles.HEALTH_COLORS.get(node.health_status, "gray"),
        last_check=fmt.when(node.last_health_check),
        last_error=node.last_error or "",
        models_count=node.models_count,
        models_href=f"{routes.MODELS}?node={node.id}",
    )


def priorities_for_order(current: dict[int, int], order: list[int]) -> dict[int, int]:
    """Priorities that put the nodes in `order` (first = preferred = highest priority).

    The values the nodes already have are dealt out again in the new order when they are
    all different, so a drag changes only the nodes it moved past; ties (every node starts
    at 0) become 10, 20, 30... from the bottom up.
    """
    if sorted(order) != sorted(current):
        raise InvalidInput("The node list changed meanwhile; reload the page and try again")
    values = sorted(current.values(), reverse=True)
    if len(set(values)) != len(values):
        values = [PRIORITY_STEP * (len(order) - i) for i in range(len(order))]
    return dict(zip(order, values, strict=True))


def parse_headers(text: str) -> dict[str, str]:
    """`Name: value` per line (blank lines skipped) → a dict; `InvalidInput` otherwise."""
    headers: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            raise InvalidInput(f"Headers, line {number}: write 'Name: value'")
        headers[name.strip()] = value.strip()
    return headers


def format_headers(headers: dict[str, str]) -> str:
    return "\n".join(f"{name}: {value}" for name, value in headers.items())


def _node_fields(form: dict[str, Any]) -> dict[str, Any]:
    """The node body as the form gives it: every field, secrets as typed or as masked."""
    return {
        "name": str(form.get("name", "")).strip(),
        "base_url": str(form.get("base_url", "")).strip(),
        "node_type": str(form.get("node_type", "ollama")),
        "code": text_or_none(form.get("code")),
        "api_key": text_or_none(form.get("api_key")),
        "headers": parse_headers(str(form.get("headers", ""))),
        "priority": required_int(form.get("priority", "0"), label="Priority"),
        "weight": required_int(form.get("weight", "1"), label="Weight", minimum=0),
        "health_check_url": text_or_none(form.get("health_check_url")),
        "warmup_enabled": checked(form, "warmup_enabled"),
        "is_active": checked(form, "is_active"),
    }


class NodesState(AuthState):
    cards: list[NodeCard] = []
    loaded: bool = False
    refreshed_at: str = ""
    busy: str = ""  # "<action>:<node id>" while a health check or discovery runs

    # The add/edit dialog (a form: its values arrive on submit).
    editor_open: bool = False
    editing_id: int = 0  # 0 while adding
    form: dict[str, str] = {}
    form_warmup: bool = False
    form_active: bool = True
    stored_api_key: str = ""  # masked

    history_open: bool = False
    history_node: str = ""
    history: list[HealthEventRow] = []

    pending_delete_id: int = 0
    pending_delete_name: str = ""

    @rx.var
    def delete_open(self) -> bool:
        return self.pending_delete_id != 0

    async def _refresh(self) -> None:
        page = await call_service(nodes.list_nodes, limit=MAX_NODES)
        self.cards = [_card(n) for n in page.items]
        self.loaded = True
        self.refreshed_at = fmt.clock()

    async def _after_write(self, written: NodeWrite) -> None:
        if written.rediscover:
            check_new_node_soon(written.node.id)
        await self._refresh()

    @admin_event
    async def load(self) -> None:
        self.editor_open = False
        self.history_open = False
        self.busy = ""
        await self._refresh()

    @admin_event
    async def refresh(self) -> None:
        await self._refresh()

    # -- add / edit --------------------------------------------------------------------

    @admin_event
    def open_create(self) -> None:
        self.editing_id = 0
        self.form = {"node_type": "ollama", "priority": "0", "weight": "1"}
        self.stored_api_key = ""
        self.form_warmup = False
        self.form_active = True
        self.editor_open = True

    @admin_event
    async def open_edit(self, node_id: int) -> EventSpec | None:
        try:
            node = await call_service(nodes.get_node, node_id=int(node_id))
        except INPUT_ERRORS as exc:
            await self._refresh()
            return failure_toast(exc)
        self.editing_id = node.id
        self.form = {
            "name": node.name,
            "base_url": node.base_url,
            "node_type": node.node_type,
            "code": node.code or "",
            "api_key": node.api_key or "",
            "headers": format_headers(node.headers),
            "priority": str(node.priority),
            "weight": str(node.weight),
            "health_check_url": node.health_check_url or "",
        }
        self.stored_api_key = node.api_key or ""
        self.form_warmup = node.warmup_enabled
        self.form_active = node.is_active
        self.editor_open = True
        return None

    @admin_event
    def set_editor_open(self, is_open: bool) -> None:
        self.editor_open = is_open

    @admin_event
    async def save(self, form: dict[str, Any]) -> EventSpec:
        try:
            fields = _node_fields(form)
            if self.editing_id:
                if fields["code"] is None:  # blank: keep the code (routes may pin it)
                    del fields["code"]
                written = await call_write(
                    nodes.update_node, node_id=self.editing_id, data=NodeUpdate(**fields), actor=self._actor
                )
            else:
                written = await call_write(nodes.create_node, data=NodeCreate(**fields), actor=self._actor)
        except INPUT_ERRORS as exc:
            return failure_toast(exc)
        self.editor_open = False
        await self._after_write(written)
        verb = "saved" if self.editing_id else "added"
        return rx.toast.success(f"Node {written.node.name} {verb}")

    # -- switches and checks -------------------------------------------------------------

    @admin_event
    async def toggle_active(self, node_id: int) -> EventSpec:
        try:
            written = await call_write(nodes.toggle_node, node_id=int(node_id), actor=self._actor)
        except INPUT_ERRORS as exc:
            await self._refresh()
            return failure_toast(exc)
        await self._after_write(written)
        state = "active" if written.node.is_active else "inactive"
        return rx.toast.success(f"Node {written.node.name} is {state}")

    @admin_event
    async def set_warmup(self, node_id: int, enabled: bool) -> EventSpec:
        try:
            written = await call_write(
                nodes.update_node,
                node_id=int(node_id),
                data=NodeUpdate(warmup_enabled=bool(enabled)),
                actor=self._actor,
            )
        except INPUT_ERRORS as exc:
            await self._refresh()
            return failure_toast(exc)
        await self._after_write(written)
        return rx.toast.success(f"Warmup {'on' if enabled else 'off'} for {written.node.name}")

    @admin_event
    def mark_busy(self, action: str, node_id: int) -> None:
        self.busy = f"{action}:{node_id}"

    @admin_event
    async def check_now(self, node_id: int) -> EventSpec:
        try:
            result = await check_node_health(node_id=int(node_id), actor=self._actor)
        except INPUT_ERRORS as exc:
            return failure_toast(exc)
        finally:
            self.busy = ""
            await self._refresh()
        if result.ok:
            return rx.toast.success(f"Healthy: {result.url} answered in {result.latency_ms:.0f} ms")
        return rx.toast.error(f"Check failed ({result.status}): {result.error}", duration=8000)

    @admin_event
    async def discover_now(self, node_id: int) -> EventSpec:
        try:
            result = await discover_node_models(node_id=int(node_id), actor=self._actor)
        except INPUT_ERRORS as exc:
            return failure_toast(exc)
        finally:
            self.busy = ""
            await self._refresh()
        found = sum(1 for m in result.models if m.is_present)
        news = f", {len(result.added)} new" if result.added else ""
        gone = f", {len(result.vanished)} gone" if result.vanished else ""
        return rx.toast.success(f"{found} model(s) found{news}{gone}")

    # -- priority order ----------------------------------------------------------------

    async def _save_order(self, order: list[int]) -> EventSpec:
        try:
            wanted = priorities_for_order({c.id: c.priority for c in self.cards}, order)
            batch = PriorityBatch(priorities=[PriorityItem(id=i, priority=p) for i, p in wanted.items()])
            await call_write(nodes.set_node_priorities, data=batch, actor=self._actor)
        except INPUT_ERRORS as exc:
            await self._refresh()
            return failure_toast(exc)
        await self._refresh()
        return rx.toast.success("Priority order saved")

    @admin_event
    async def reorder(self, ids: list[str]) -> EventSpec:
        try:
            order = [int(i) for i in ids]
        except (TypeError, ValueError):
            return rx.toast.error("Could not read the new order")
        return await self._save_order(order)

    @admin_event
    async def move(self, node_id: int, step: int) -> EventSpec | None:
        order = moved([c.id for c in self.cards], int(node_id), int(step))
        if order is None:
            return None
        return await self._save_order(order)

    # -- history and delete --------------------------------------------------------------

    @admin_event
    async def open_history(self, node_id: int) -> EventSpec | None:
        try:
            node = await call_service(nodes.get_node, node_id=int(node_id))
            page = await call_service(list_health_events, node_id=int(node_id), limit=100)
        except INPUT_ERRORS as exc:
            await self._refresh()
            return failure_toast(exc)
        self.history_node = node.name
        self.history = [
            HealthEventRow(
                when=fmt.when(e.created_at, seconds=True),
                old_status=e.old_status,
                new_status=e.new_status,
                color=styles.HEALTH_COLORS.get(e.new_status, "gray"),
                reason=e.reason or "",
            )
            for e in page.items
        ]
        self.history_open = True
        return None

    @admin_event
    def set_history_open(self, is_open: bool) -> None:
        self.history_open = is_open

    @admin_event
    def ask_delete(self, node_id: int) -> None:
        card = next((c for c in self.cards if c.id == int(node_id)), None)
        if card is not None:
            self.pending_delete_id = card.id
            self.pending_delete_name = card.name

    @admin_event
    def set_delete_open(self, is_open: bool) -> None:
        if not is_open:
            self.pending_delete_id = 0

    @admin_event
    async def confirm_delete(self) -> EventSpec | None:
        node_id, self.pending_delete_id = self.pending_delete_id, 0
        if not node_id:
            return None
        try:
            await call_write(nodes.delete_node, node_id=node_id, actor=self._actor)
        except INPUT_ERRORS as exc:
            await self._refresh()
            return failure_toast(exc)
        await self._refresh()
        return rx.toast.success(f"Node {self.pending_delete_name} deleted")
