"""Model configs: per-model request rules by name prefix (SPEC §3.6, §5).

The config whose `model_prefix` is the longest prefix of the requested name applies
(`domain.request_rules.model_config_for`). Prefixes are stored lower-cased; a config is
found by its id or its prefix.

Tools: `allowed_tools` (a list) takes precedence over `tool_set` (a tool-set name); the
tool set applies only when `allowed_tools` is null, and when both are null no tool is
removed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from sqlmodel import Session, col, select

from maestro_app.db.models import ModelConfig, ToolSet
from maestro_app.domain.request_rules import PROTECTED_PARAMS
from maestro_app.services.audit import changes, delete_audited, save_audited
from maestro_app.services.common import TRIM, Body, Page, like_pattern, paginate
from maestro_app.services.errors import EntityConflict, EntityNotFound, InvalidInput
from maestro_app.services.tool_sets import ToolNames, ToolSetName, unique_names

Prefix = Annotated[str, StringConstraints(to_lower=True, min_length=1, max_length=256), TRIM]


def _check_params(names: list[str]) -> list[str]:
    protected = sorted(set(names) & PROTECTED_PARAMS)
    if protected:
        raise ValueError(f"{', '.join(protected)} cannot be removed from a request")
    return unique_names(names) or []


ParamName = Annotated[str, StringConstraints(min_length=1, max_length=128), TRIM]
ParamNames = Annotated[list[ParamName], Field(max_length=200), AfterValidator(_check_params)]


class ModelConfigCreate(Body):
    model_prefix: Prefix
    allowed_tools: ToolNames | None = None
    tool_set: ToolSetName | None = None
    unsupported_params: ParamNames = Field(default_factory=list)
    maintenance_mode: bool = False
    description: str | None = Field(default=None, max_length=2000)


class ModelConfigUpdate(Body):
    """Fields omitted keep their value; `allowed_tools: null` / `tool_set: null` clear them."""

    non_nullable = frozenset({"model_prefix", "unsupported_params", "maintenance_mode"})

    model_prefix: Prefix | None = None
    allowed_tools: ToolNames | None = None
    tool_set: ToolSetName | None = None
    unsupported_params: ParamNames | None = None
    maintenance_mode: bool | None = None
    description: str | None = Field(default=None, max_length=2000)


class ModelConfigPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    model_prefix: str
    allowed_tools: list[str] | None
    tool_set: str | None
    unsupported_params: list[str]
    maintenance_mode: bool
    description: str | None
    created_at: datetime
    updated_at: datetime


def _public(row: ModelConfig) -> ModelConfigPublic:
    return ModelConfigPublic.model_validate(row)


def _settable(row: ModelConfig) -> dict[str, Any]:
    return {
        "model_prefix": row.model_prefix,
        "allowed_tools": None if row.allowed_tools is None else list(row.allowed_tools),
        "tool_set": row.tool_set,
        "unsupported_params": list(row.unsupported_params or []),
        "maintenance_mode": row.maintenance_mode,
        "description": row.description,
    }


def load_model_config(session: Session, ref: str | int, *, for_update: bool = False) -> ModelConfig:
    """By id, or by prefix (case-insensitive)."""
    # isascii: "³".isdigit() is true, and int("³") fails.
    if isinstance(ref, int) or (ref.isascii() and ref.isdigit() and len(ref) < 10):
        found = session.get(ModelConfig, int(ref), with_for_update=for_update)
        if found is not None:
            return found
    statement = select(ModelConfig).where(ModelConfig.model_prefix == str(ref).strip().lower())
    row = session.exec(statement.with_for_update() if for_update else statement).first()
    if row is None:
        raise EntityNotFound(f"Model config '{ref}' not found")
    return row


def _check(session: Session, *, prefix: str, tool_set: str | None, own_id: int | None) -> None:
    other = session.exec(select(ModelConfig.id).where(ModelConfig.model_prefix == prefix)).first()
    if other is not None and other != own_id:
        raise EntityConflict(f"A model config for prefix '{prefix}' already exists")
    if (
        tool_set is not None
        and session.exec(select(ToolSet.id).where(ToolSet.name == tool_set)).first() is None
    ):
        raise InvalidInput(f"Tool set '{tool_set}' does not exist")


def _save(session: Session, row: ModelConfig, *, actor: str, action: str, details: dict[str, Any]) -> None:
    save_audited(session, row, actor=actor, action=action, entity_type="model_config", details=details)


def create_model_config(*, session: Session, data: ModelConfigCreate, actor: str) -> ModelConfigPublic:
    _check(session, prefix=data.model_prefix, tool_set=data.tool_set, own_id=None)
    row = ModelConfig(**data.model_dump())
    _save(session, row, actor=actor, action="model_config.create", details=_settable(row))
    return _public(row)


def list_model_configs(
    *, session: Session, search: str | None = None, limit: int = 50, offset: int = 0
) -> Page[ModelConfigPublic]:
    statement = select(ModelConfig)
    if search:
        statement = statement.where(col(ModelConfig.model_prefix).ilike(like_pattern(search), escape="\\"))
    statement = statement.order_by(col(ModelConfig.model_prefix))
    return paginate(
        session, statement, limit=limit, offset=offset, convert=lambda rows: [_public(r) for r in rows]
    )


def get_model_config(*, session: Session, ref: str | int) -> ModelConfigPublic:
    return _public(load_model_config(session, ref))


def update_model_config(
    *, session: Session, ref: str | int, data: ModelConfigUpdate, actor: str
) -> ModelConfigPublic:
    row = load_model_config(session, ref, for_update=True)
    given = data.given()
    _check(
        session,
        prefix=given.get("model_prefix", row.model_prefix),
        tool_set=given.get("tool_set"),
        own_id=row.id,
    )
    before = _settable(row)
    for name, value in given.items():
        setattr(row, name, value)
    _save(
        session,
        row,
        actor=actor,
        action="model_config.update",
        details={"changes": changes(before, _settable(row))},
    )
    return _public(row)


def delete_model_config(*, session: Session, ref: str | int, actor: str) -> None:
    row = load_model_config(session, ref, for_update=True)
    delete_audited(
        session,
        row,
        actor=actor,
        action="model_config.delete",
        entity_type="model_config",
        details=_settable(row),
    )
