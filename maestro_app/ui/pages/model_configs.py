"""Model config page state: request rules per model-name prefix (tools, removed parameters,
maintenance).

The table and dialog are drawn in `model_configs_view`. Every handler goes through
`admin_event` and calls `services.model_configs`. The tools of a config are two settings
the service keeps apart, and the form keeps them apart too: a tool set (or none), and an
own list of tools that, when set, wins over the tool set (an empty own list removes every
tool).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from reflex.event import EventSpec

from maestro_app.services import model_configs, tool_sets
from maestro_app.services.common import Page
from maestro_app.services.model_configs import ModelConfigCreate, ModelConfigPublic, ModelConfigUpdate
from maestro_app.ui.data import call_service, call_write
from maestro_app.ui.feedback import ID_INPUT_ERRORS, checked, text_or_none
from maestro_app.ui.list_state import ListPageState
from maestro_app.ui.name_lists import names_text, parse_names
from maestro_app.ui.state import AuthState, admin_event

MAX_TOOL_SETS = 1000
# The select's "no tool set" item: Radix refuses "" as a value, and a tool-set name is
# stripped, so it can never be a single space.
NO_TOOL_SET = " "


@dataclasses.dataclass
class ConfigRow:
    id: int = 0
    prefix: str = ""
    tools: str = ""  # "every tool" | "tool set" | "own list"
    tool_set: str = ""
    allowed_tools: list[str] = dataclasses.field(default_factory=list)
    params: list[str] = dataclasses.field(default_factory=list)
    maintenance: bool = False
    description: str = ""


def tools_rule(allowed_tools: list[str] | None, tool_set: str | None) -> str:
    """Which tool setting applies: the own list wins over the tool set (docs/TOOL_SETS.md)."""
    if allowed_tools is not None:
        return "own list"
    return "tool set" if tool_set else "every tool"


def _row(config: ModelConfigPublic) -> ConfigRow:
    return ConfigRow(
        id=config.id,
        prefix=config.model_prefix,
        tools=tools_rule(config.allowed_tools, config.tool_set),
        tool_set=config.tool_set or "",
        allowed_tools=list(config.allowed_tools or []),
        params=list(config.unsupported_params),
        maintenance=config.maintenance_mode,
        description=config.description or "",
    )


def config_fields(form: dict[str, Any], *, own_list: bool) -> dict[str, Any]:
    """The service's body from the submitted form."""
    return {
        "model_prefix": str(form.get("model_prefix", "")).strip(),
        "tool_set": text_or_none(form.get("tool_set")),
        "allowed_tools": parse_names(form.get("allowed_tools")) if own_list else None,
        "unsupported_params": parse_names(form.get("unsupported_params")),
        "maintenance_mode": checked(form, "maintenance_mode"),
        "description": text_or_none(form.get("description")),
    }


class ModelConfigsState(ListPageState, AuthState):
    page_size = 50
    rows: list[ConfigRow] = []
    tool_set_names: list[str] = []

    editing_id: int = 0  # 0 while creating
    form: dict[str, str] = {}
    form_own_list: bool = False
    form_maintenance: bool = False

    async def _fetch(self) -> Page[ModelConfigPublic]:
        return await call_service(
            model_configs.list_model_configs,
            search=self.search.strip() or None,
            limit=self.page_size,
            offset=self.offset,
        )

    def _show(self, items: list[ModelConfigPublic]) -> None:
        self.rows = [_row(c) for c in items]

    def _delete_label(self, key: str) -> str | None:
        return next((r.prefix for r in self.rows if str(r.id) == key), None)

    async def _delete(self, key: str) -> str:
        await call_write(model_configs.delete_model_config, ref=int(key), actor=self._actor)
        return f"Model config {self.pending_delete_label} deleted"

    # -- create / edit -------------------------------------------------------------------

    async def _open_editor(self) -> None:
        listing = await call_service(tool_sets.list_tool_sets, limit=MAX_TOOL_SETS)
        self.tool_set_names = [t.name for t in listing.items]
        self.editor_open = True

    @admin_event
    async def open_create(self) -> None:
        self.editing_id = 0
        self.form = {"tool_set": NO_TOOL_SET}
        self.form_own_list = False
        self.form_maintenance = False
        await self._open_editor()

    @admin_event
    async def open_edit(self, config_id: int) -> EventSpec | None:
        try:
            config = await call_service(model_configs.get_model_config, ref=int(config_id))
        except ID_INPUT_ERRORS as exc:
            return await self._failed(exc)
        self.editing_id = config.id
        self.form = {
            "model_prefix": config.model_prefix,
            "tool_set": config.tool_set or NO_TOOL_SET,
            "allowed_tools": names_text(config.allowed_tools),
            "unsupported_params": ", ".join(config.unsupported_params),
            "description": config.description or "",
        }
        self.form_own_list = config.allowed_tools is not None
        self.form_maintenance = config.maintenance_mode
        await self._open_editor()
        return None

    @admin_event
    def set_form_own_list(self, on: bool) -> None:
        self.form_own_list = bool(on)

    @admin_event
    async def save(self, form: dict[str, Any]) -> EventSpec:
        async def write() -> str:
            fields = config_fields(form, own_list=self.form_own_list)
            if self.editing_id:
                saved = await call_write(
                    model_configs.update_model_config,
                    ref=self.editing_id,
                    data=ModelConfigUpdate(**fields),
                    actor=self._actor,
                )
                return f"Model config {saved.model_prefix} saved"
            saved = await call_write(
                model_configs.create_model_config, data=ModelConfigCreate(**fields), actor=self._actor
            )
            return f"Model config {saved.model_prefix} created"

        return await self._submit(write)

    @admin_event
    async def set_maintenance(self, config_id: int, on: bool) -> EventSpec:
        async def write() -> str:
            saved = await call_write(
                model_configs.update_model_config,
                ref=int(config_id),
                data=ModelConfigUpdate(maintenance_mode=bool(on)),
                actor=self._actor,
            )
            state = "in maintenance" if saved.maintenance_mode else "back in service"
            return f"Models under {saved.model_prefix} are {state}"

        return await self._change(write)
