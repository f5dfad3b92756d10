"""System prompts page state: prompts by scope (user, node, group, model, mapping).

The table and dialog are drawn in `system_prompts_view`. Every handler goes through
`admin_event` and calls `services.system_prompts`. The service does not check a scope value
against existing entities (a prompt may come before its user or node); the dialog only
suggests the names that exist for the chosen scope.
"""

from __future__ import annotations

import dataclasses
from typing import Any, get_args

import reflex as rx
from reflex.event import EventSpec

from maestro_app.services import groups, mappings, nodes, system_prompts, users
from maestro_app.services.common import Page
from maestro_app.services.system_prompts import (
    ScopeType,
    SystemPromptCreate,
    SystemPromptPublic,
    SystemPromptUpdate,
)
from maestro_app.ui.data import call_service, call_write, model_catalog
from maestro_app.ui.feedback import ID_INPUT_ERRORS, checked, required_int
from maestro_app.ui.list_state import ListPageState
from maestro_app.ui.state import AuthState, admin_event

MAX_SUGGESTIONS = 1000
PREVIEW_CHARS = 160
SCOPE_TYPES: tuple[str, ...] = get_args(ScopeType)
ALL_SCOPES = "all"
SCOPE_HINTS: dict[str, str] = {
    "user": "A username: every request of that user.",
    "node": "A node's name, code or id: requests served by that node.",
    "group": "A group name: requests for that group.",
    "model": "A model name as requested (or a group member's): requests for that model.",
    "mapping": "A mapping's display name: requests served through that mapping.",
}


@dataclasses.dataclass
class PromptRow:
    id: int = 0
    scope_type: str = ""
    scope_value: str = ""
    preview: str = ""
    priority: int = 0
    is_active: bool = True


def preview(text: str, limit: int = PREVIEW_CHARS) -> str:
    """The prompt on one line, cut at a word near `limit` characters."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0] or flat[:limit]
    return cut + " …"


def _row(prompt: SystemPromptPublic) -> PromptRow:
    return PromptRow(
        id=prompt.id,
        scope_type=prompt.scope_type,
        scope_value=prompt.scope_value,
        preview=preview(prompt.prompt),
        priority=prompt.priority,
        is_active=prompt.is_active,
    )


def prompt_fields(form: dict[str, Any], *, scope_type: str) -> dict[str, Any]:
    """The service's body from the submitted form (the prompt is sent as typed: the service
    strips and checks it)."""
    return {
        "scope_type": scope_type,
        "scope_value": str(form.get("scope_value", "")).strip(),
        "prompt": str(form.get("prompt", "")),
        "priority": required_int(form.get("priority", "0"), label="Priority"),
        "is_active": checked(form, "is_active"),
    }


async def scope_suggestions() -> dict[str, list[str]]:
    """Existing names for each scope type (suggestions only)."""
    user_page = await call_service(users.list_users, limit=MAX_SUGGESTIONS)
    node_page = await call_service(nodes.list_nodes, limit=MAX_SUGGESTIONS)
    group_page = await call_service(groups.list_groups, limit=MAX_SUGGESTIONS)
    mapping_page = await call_service(mappings.list_mappings, limit=MAX_SUGGESTIONS)
    return {
        "user": [u.username for u in user_page.items],
        "node": [n.name for n in node_page.items],
        "group": [g.name for g in group_page.items],
        "model": [c.name for c in model_catalog() if c.kind == "model"],
        "mapping": sorted({m.display_name for m in mapping_page.items}, key=str.lower),
    }


class SystemPromptsState(ListPageState, AuthState):
    """`search` is the exact scope value the list is filtered by (what the service offers)."""

    page_size = 50
    rows: list[PromptRow] = []
    scope_filter: str = ALL_SCOPES

    editing_id: int = 0  # 0 while creating
    form: dict[str, str] = {}
    form_scope_type: str = "model"
    form_active: bool = True
    suggestions: dict[str, list[str]] = {}

    @rx.var
    def scope_value_options(self) -> list[str]:
        return self.suggestions.get(self.form_scope_type, [])

    @rx.var
    def scope_hint(self) -> str:
        return SCOPE_HINTS.get(self.form_scope_type, "")

    async def _fetch(self) -> Page[SystemPromptPublic]:
        return await call_service(
            system_prompts.list_system_prompts,
            scope_type=None if self.scope_filter == ALL_SCOPES else self.scope_filter,
            scope_value=self.search.strip() or None,
            limit=self.page_size,
            offset=self.offset,
        )

    def _show(self, items: list[SystemPromptPublic]) -> None:
        self.rows = [_row(p) for p in items]

    def _delete_label(self, key: str) -> str | None:
        row = next((r for r in self.rows if str(r.id) == key), None)
        return None if row is None else f"{row.scope_type} {row.scope_value}"

    async def _delete(self, key: str) -> str:
        await call_write(system_prompts.delete_system_prompt, prompt_id=int(key), actor=self._actor)
        return f"System prompt for {self.pending_delete_label} deleted"

    @admin_event
    async def set_scope_filter(self, value: str) -> None:
        self.scope_filter = value if value in SCOPE_TYPES else ALL_SCOPES
        self.offset = 0
        await self._refresh()

    # -- create / edit -------------------------------------------------------------------

    @admin_event
    async def open_create(self) -> None:
        self.editing_id = 0
        self.form = {"priority": "0"}
        self.form_scope_type = self.scope_filter if self.scope_filter in SCOPE_TYPES else "model"
        self.form_active = True
        self.suggestions = await scope_suggestions()
        self.editor_open = True

    @admin_event
    async def open_edit(self, prompt_id: int) -> EventSpec | None:
        try:
            prompt = await call_service(system_prompts.get_system_prompt, prompt_id=int(prompt_id))
        except ID_INPUT_ERRORS as exc:
            return await self._failed(exc)
        self.editing_id = prompt.id
        self.form = {
            "scope_value": prompt.scope_value,
            "prompt": prompt.prompt,
            "priority": str(prompt.priority),
        }
        self.form_scope_type = prompt.scope_type
        self.form_active = prompt.is_active
        self.suggestions = await scope_suggestions()
        self.editor_open = True
        return None

    @admin_event
    def set_form_scope_type(self, value: str) -> None:
        if value in SCOPE_TYPES:
            self.form_scope_type = value

    @admin_event
    async def save(self, form: dict[str, Any]) -> EventSpec:
        async def write() -> str:
            fields = prompt_fields(form, scope_type=self.form_scope_type)
            if self.editing_id:
                saved = await call_write(
                    system_prompts.update_system_prompt,
                    prompt_id=self.editing_id,
                    data=SystemPromptUpdate(**fields),
                    actor=self._actor,
                )
                return f"System prompt for {saved.scope_type} {saved.scope_value} saved"
            saved = await call_write(
                system_prompts.create_system_prompt, data=SystemPromptCreate(**fields), actor=self._actor
            )
            return f"System prompt for {saved.scope_type} {saved.scope_value} created"

        return await self._submit(write)

    @admin_event
    async def set_active(self, prompt_id: int, on: bool) -> EventSpec:
        async def write() -> str:
            saved = await call_write(
                system_prompts.update_system_prompt,
                prompt_id=int(prompt_id),
                data=SystemPromptUpdate(is_active=bool(on)),
                actor=self._actor,
            )
            state = "active" if saved.is_active else "inactive"
            return f"System prompt for {saved.scope_type} {saved.scope_value} is {state}"

        return await self._change(write)
