"""Mappings page state: display name → real model name, on every node or on chosen ones.

The table and dialog are drawn in `mappings_view`. Every handler goes through `admin_event`
and calls `services.mappings`. The context length is sent as typed (`32K`, `131072`); the
service parses it.
"""

from __future__ import annotations

import dataclasses
from typing import Any, get_args

import reflex as rx
from reflex.event import EventSpec

from maestro_app.services import mappings, nodes
from maestro_app.services.mappings import Capability, MappingCreate, MappingPublic, MappingUpdate
from maestro_app.ui import format as fmt
from maestro_app.ui.data import call_service, call_write, discovered_model_names
from maestro_app.ui.feedback import INPUT_ERRORS, failure_toast, text_or_none
from maestro_app.ui.state import AuthState, admin_event

PAGE_SIZE = 50
MAX_NODES = 1000
CAPABILITIES: tuple[str, ...] = get_args(Capability)


@dataclasses.dataclass
class NodeChoice:
    id: str = ""
    name: str = ""


@dataclasses.dataclass
class MappingRow:
    id: int = 0
    display_name: str = ""
    real_name: str = ""
    node_names: list[str] = dataclasses.field(default_factory=list)
    context: str = ""
    capabilities: list[str] = dataclasses.field(default_factory=list)
    description: str = ""
    is_active: bool = True


def _row(mapping: MappingPublic, node_names: dict[int, str]) -> MappingRow:
    return MappingRow(
        id=mapping.id,
        display_name=mapping.display_name,
        real_name=mapping.real_name,
        node_names=[node_names.get(i, f"#{i}") for i in mapping.node_ids],
        context=fmt.context_label(mapping.context_length, suffix=""),
        capabilities=list(mapping.capabilities),
        description=mapping.description or "",
        is_active=mapping.is_active,
    )


def context_text(tokens: int | None) -> str:
    """A context length as the form shows it: 32768 → "32K", 1048576 → "1M", 5000 → "5000"."""
    if tokens is None:
        return ""
    for unit, letter in ((1 << 20, "M"), (1 << 10, "K")):
        if tokens % unit == 0:
            return f"{tokens // unit}{letter}"
    return str(tokens)


class MappingsState(AuthState):
    rows: list[MappingRow] = []
    total: int = 0
    offset: int = 0
    search: str = ""
    loaded: bool = False
    node_choices: list[NodeChoice] = []
    real_names: list[str] = []

    editor_open: bool = False
    editing_id: int = 0  # 0 while creating
    form: dict[str, str] = {}
    form_node_ids: list[str] = []
    form_capabilities: list[str] = []
    form_active: bool = True

    pending_delete_id: int = 0
    pending_delete_name: str = ""

    @rx.var
    def delete_open(self) -> bool:
        return self.pending_delete_id != 0

    async def _refresh(self) -> None:
        listing = await call_service(nodes.list_nodes, limit=MAX_NODES)
        names = {n.id: n.name for n in listing.items}
        self.node_choices = [NodeChoice(str(n.id), n.name) for n in listing.items]
        page = await call_service(
            mappings.list_mappings, search=self.search.strip() or None, limit=PAGE_SIZE, offset=self.offset
        )
        if not page.items and self.offset > 0:
            self.offset = max(0, self.offset - PAGE_SIZE)
            page = await call_service(
                mappings.list_mappings,
                search=self.search.strip() or None,
                limit=PAGE_SIZE,
                offset=self.offset,
            )
        self.rows = [_row(m, names) for m in page.items]
        self.total = page.total
        self.loaded = True

    @admin_event
    async def load(self) -> None:
        self.editor_open = False
        await self._refresh()

    @admin_event
    async def set_search(self, value: str) -> None:
        self.search = value[:256]
        self.offset = 0
        await self._refresh()

    @admin_event
    async def next_page(self) -> None:
        if self.offset + PAGE_SIZE < self.total:
            self.offset += PAGE_SIZE
        await self._refresh()

    @admin_event
    async def prev_page(self) -> None:
        self.offset = max(0, self.offset - PAGE_SIZE)
        await self._refresh()

    # -- create / edit -------------------------------------------------------------------

    @admin_event
    async def open_create(self) -> None:
        self.editing_id = 0
        self.form = {}
        self.form_node_ids = []
        self.form_capabilities = []
        self.form_active = True
        self.real_names = discovered_model_names()
        await self._refresh()
        self.editor_open = True

    @admin_event
    async def open_edit(self, mapping_id: int) -> EventSpec | None:
        try:
            mapping = await call_service(mappings.get_mapping, ref=int(mapping_id))
        except (*INPUT_ERRORS, ValueError, TypeError) as exc:
            await self._refresh()
            return failure_toast(exc)
        self.editing_id = mapping.id
        self.form = {
            "display_name": mapping.display_name,
            "real_name": mapping.real_name,
            "context_length": context_text(mapping.context_length),
            "description": mapping.description or "",
        }
        self.form_node_ids = [str(i) for i in mapping.node_ids]
        self.form_capabilities = list(mapping.capabilities)
        self.form_active = mapping.is_active
        self.real_names = discovered_model_names()
        await self._refresh()
        self.editor_open = True
        return None

    @admin_event
    def set_editor_open(self, is_open: bool) -> None:
        self.editor_open = is_open

    @admin_event
    def toggle_node(self, node_id: str, on: bool) -> None:
        node_id = str(node_id)
        if not (node_id.isascii() and node_id.isdigit()):
            return
        if on and node_id not in self.form_node_ids:
            self.form_node_ids = [*self.form_node_ids, node_id]
        elif not on:
            self.form_node_ids = [i for i in self.form_node_ids if i != node_id]

    @admin_event
    def all_nodes(self) -> None:
        self.form_node_ids = []

    @admin_event
    def toggle_capability(self, capability: str, on: bool) -> None:
        if capability not in CAPABILITIES:
            return
        if on and capability not in self.form_capabilities:
            self.form_capabilities = [*self.form_capabilities, capability]
        elif not on:
            self.form_capabilities = [c for c in self.form_capabilities if c != capability]

    @admin_event
    def set_form_active(self, value: bool) -> None:
        self.form_active = bool(value)

    @admin_event
    async def save(self, form: dict[str, Any]) -> EventSpec:
        try:
            fields: dict[str, Any] = {
                "display_name": str(form.get("display_name", "")).strip(),
                "real_name": str(form.get("real_name", "")).strip(),
                "node_ids": sorted(int(i) for i in self.form_node_ids),
                "context_length": text_or_none(form.get("context_length")),
                "capabilities": sorted(self.form_capabilities),
                "description": text_or_none(form.get("description")),
                "is_active": self.form_active,
            }
            if self.editing_id:
                saved = await call_write(
                    mappings.update_mapping,
                    ref=self.editing_id,
                    data=MappingUpdate(**fields),
                    actor=self._actor,
                )
            else:
                saved = await call_write(
                    mappings.create_mapping, data=MappingCreate(**fields), actor=self._actor
                )
        except INPUT_ERRORS as exc:
            return failure_toast(exc)
        self.editor_open = False
        await self._refresh()
        verb = "saved" if self.editing_id else "created"
        return rx.toast.success(f"Mapping {saved.display_name} → {saved.real_name} {verb}")

    # -- delete ----------------------------------------------------------------------------

    @admin_event
    def ask_delete(self, mapping_id: int) -> None:
        row = next((r for r in self.rows if r.id == int(mapping_id)), None)
        if row is not None:
            self.pending_delete_id = row.id
            self.pending_delete_name = row.display_name

    @admin_event
    def set_delete_open(self, is_open: bool) -> None:
        if not is_open:
            self.pending_delete_id = 0

    @admin_event
    async def confirm_delete(self) -> EventSpec | None:
        mapping_id, self.pending_delete_id = self.pending_delete_id, 0
        if not mapping_id:
            return None
        try:
            await call_write(mappings.delete_mapping, ref=mapping_id, actor=self._actor)
        except INPUT_ERRORS as exc:
            await self._refresh()
            return failure_toast(exc)
        await self._refresh()
        return rx.toast.success(f"Mapping {self.pending_delete_name} deleted")
