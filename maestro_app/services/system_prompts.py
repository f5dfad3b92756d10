"""System prompts by scope (SPEC §3.6, §5): `user` (username), `node` (name, code or id),
`group` (group name), `model` (the requested model name, or a group member's), `mapping`
(a mapping's display name). Scope values are not checked against existing entities: a
prompt may be written before its user or node exists, and outlives them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlmodel import Session, col, select

from maestro_app.db.models import SystemPrompt
from maestro_app.services.audit import changes, delete_audited, save_audited
from maestro_app.services.common import INT32_MAX, TRIM, Body, Page, paginate
from maestro_app.services.errors import EntityNotFound

ScopeType = Literal["user", "node", "group", "model", "mapping"]
ScopeValue = Annotated[str, StringConstraints(min_length=1, max_length=256), TRIM]
PromptText = Annotated[str, StringConstraints(min_length=1, max_length=100_000), TRIM]
PromptPriority = Annotated[int, Field(ge=-INT32_MAX, le=INT32_MAX)]


class SystemPromptCreate(Body):
    scope_type: ScopeType
    scope_value: ScopeValue
    prompt: PromptText
    # Higher first
    priority: PromptPriority = 0
    is_active: bool = True


class SystemPromptUpdate(Body):
    non_nullable = frozenset({"scope_type", "scope_value", "prompt", "priority", "is_active"})

    scope_type: ScopeType | None = None
    scope_value: ScopeValue | None = None
    prompt: PromptText | None = None
    priority: PromptPriority | None = None
    is_active: bool | None = None


class SystemPromptPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    scope_type: str
    scope_value: str
    prompt: str
    priority: int
    is_active: bool
    created_at: datetime
    updated_at: datetime


def _settable(row: SystemPrompt) -> dict[str, Any]:
    return {
        "scope_type": row.scope_type,
        "scope_value": row.scope_value,
        "prompt": row.prompt,
        "priority": row.priority,
        "is_active": row.is_active,
    }


def load_system_prompt(session: Session, prompt_id: int, *, for_update: bool = False) -> SystemPrompt:
    row = (
        session.get(SystemPrompt, prompt_id, with_for_update=for_update)
        if 0 < prompt_id <= INT32_MAX
        else None
    )
    if row is None:
        raise EntityNotFound(f"System prompt {prompt_id} not found")
    return row


def _save(session: Session, row: SystemPrompt, *, actor: str, action: str, details: dict[str, Any]) -> None:
    save_audited(session, row, actor=actor, action=action, entity_type="system_prompt", details=details)


def create_system_prompt(*, session: Session, data: SystemPromptCreate, actor: str) -> SystemPromptPublic:
    row = SystemPrompt(**data.model_dump())
    _save(session, row, actor=actor, action="system_prompt.create", details=_settable(row))
    return SystemPromptPublic.model_validate(row)


def list_system_prompts(
    *,
    session: Session,
    scope_type: str | None = None,
    scope_value: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[SystemPromptPublic]:
    statement = select(SystemPrompt)
    if scope_type:
        statement = statement.where(SystemPrompt.scope_type == scope_type)
    if scope_value:
        statement = statement.where(SystemPrompt.scope_value == scope_value.strip())
    statement = statement.order_by(
        col(SystemPrompt.scope_type),
        col(SystemPrompt.scope_value),
        col(SystemPrompt.priority).desc(),
        col(SystemPrompt.id),
    )
    return paginate(
        session,
        statement,
        limit=limit,
        offset=offset,
        convert=lambda rows: [SystemPromptPublic.model_validate(r) for r in rows],
    )


def get_system_prompt(*, session: Session, prompt_id: int) -> SystemPromptPublic:
    return SystemPromptPublic.model_validate(load_system_prompt(session, prompt_id))


def update_system_prompt(
    *, session: Session, prompt_id: int, data: SystemPromptUpdate, actor: str
) -> SystemPromptPublic:
    row = load_system_prompt(session, prompt_id, for_update=True)
    before = _settable(row)
    for name, value in data.given().items():
        setattr(row, name, value)
    _save(
        session,
        row,
        actor=actor,
        action="system_prompt.update",
        details={"changes": changes(before, _settable(row))},
    )
    return SystemPromptPublic.model_validate(row)


def delete_system_prompt(*, session: Session, prompt_id: int, actor: str) -> None:
    row = load_system_prompt(session, prompt_id, for_update=True)
    delete_audited(
        session,
        row,
        actor=actor,
        action="system_prompt.delete",
        entity_type="system_prompt",
        details=_settable(row),
    )
