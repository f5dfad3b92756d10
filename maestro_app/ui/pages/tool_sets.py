"""Tool sets page state: named tool lists that model configs name.

The cards and dialog are drawn in `tool_sets_view`. Every handler goes through `admin_event`
and calls `services.tool_sets`, which enforces the rules the page explains: the six presets
are ordinary tool sets (edit or delete them; a deleted preset does not come back), a set a
model config names cannot be deleted, and renaming a set renames it in those configs.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from reflex.event import EventSpec

from maestro_app.domain.tool_presets import PRESETS
from maestro_app.services import tool_sets
from maestro_app.services.common import Page
from maestro_app.services.tool_sets import ToolSetCreate, ToolSetPublic, ToolSetUpdate
from maestro_app.ui.data import call_service, call_write
from maestro_app.ui.feedback import INPUT_ERRORS, text_or_none
from maestro_app.ui.list_state import ListPageState
from maestro_app.ui.name_lists import names_text, parse_names
from maestro_app.ui.state import AuthState, admin_event

PRESET_NAMES: tuple[str, ...] = tuple(PRESETS)


@dataclasses.dataclass
class ToolSetCard:
    id: int = 0
    name: str = ""
    is_preset: bool = False
    every_tool: bool = False
    tools: list[str] = dataclasses.field(default_factory=list)
    description: str = ""
    used_by: list[str] = dataclasses.field(default_factory=list)


def _card(row: ToolSetPublic) -> ToolSetCard:
    return ToolSetCard(
        id=row.id,
        name=row.name,
        is_preset=row.name in PRESETS,
        every_tool=row.tools is None,
        tools=list(row.tools or []),
        description=row.description or "",
        used_by=list(row.used_by),
    )


def tool_set_fields(form: dict[str, Any], *, every_tool: bool) -> dict[str, Any]:
    """The service's body from the submitted form: `tools: None` allows every tool."""
    return {
        "name": str(form.get("name", "")).strip(),
        "tools": None if every_tool else parse_names(form.get("tools")),
        "description": text_or_none(form.get("description")),
    }


class ToolSetsState(ListPageState, AuthState):
    page_size = 50
    cards: list[ToolSetCard] = []

    editing_name: str = ""  # "" while creating
    form: dict[str, str] = {}
    form_every_tool: bool = False

    pending_delete_preset: bool = False
    pending_delete_used_by: list[str] = []

    async def _fetch(self) -> Page[ToolSetPublic]:
        return await call_service(
            tool_sets.list_tool_sets,
            search=self.search.strip() or None,
            limit=self.page_size,
            offset=self.offset,
        )

    def _show(self, items: list[ToolSetPublic]) -> None:
        self.cards = [_card(t) for t in items]

    def _delete_label(self, key: str) -> str | None:
        card = next((c for c in self.cards if c.name == key), None)
        if card is None:
            return None
        self.pending_delete_preset = card.is_preset
        self.pending_delete_used_by = list(card.used_by)
        return card.name

    async def _delete(self, key: str) -> str:
        await call_write(tool_sets.delete_tool_set, name=key, actor=self._actor)
        return f"Tool set {key} deleted"

    # -- create / edit -------------------------------------------------------------------

    @admin_event
    def open_create(self) -> None:
        self.editing_name = ""
        self.form = {}
        self.form_every_tool = False
        self.editor_open = True

    @admin_event
    async def open_edit(self, name: str) -> EventSpec | None:
        try:
            row = await call_service(tool_sets.get_tool_set, name=str(name))
        except INPUT_ERRORS as exc:
            return await self._failed(exc)
        self.editing_name = row.name
        self.form = {
            "name": row.name,
            "tools": names_text(row.tools),
            "description": row.description or "",
        }
        self.form_every_tool = row.tools is None
        self.editor_open = True
        return None

    @admin_event
    def set_form_every_tool(self, on: bool) -> None:
        self.form_every_tool = bool(on)

    @admin_event
    async def save(self, form: dict[str, Any]) -> EventSpec:
        async def write() -> str:
            fields = tool_set_fields(form, every_tool=self.form_every_tool)
            if not self.editing_name:
                created = await call_write(
                    tool_sets.create_tool_set, data=ToolSetCreate(**fields), actor=self._actor
                )
                return f"Tool set {created.name} created"
            saved = await call_write(
                tool_sets.update_tool_set,
                name=self.editing_name,
                data=ToolSetUpdate(**fields),
                actor=self._actor,
            )
            renamed = saved.name != self.editing_name and saved.used_by
            return f"Tool set {saved.name} saved" + (
                f" (renamed in model config(s) {', '.join(saved.used_by)})" if renamed else ""
            )

        return await self._submit(write)
