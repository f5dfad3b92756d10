"""Tool sets: named lists of tool names a model config may allow (SPEC §3.6, §5).

`tools: null` allows every tool. A tool set named by a model config cannot be deleted, and
renaming one renames it in those configs. The six presets of `domain.tool_presets` are
seeded once per database (`seed_tool_set_presets`); deleted presets stay deleted.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, StringConstraints
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, col, select

from maestro_app.db.models import ModelConfig, Setting, ToolSet, utcnow
from maestro_app.domain.tool_presets import PRESETS
from maestro_app.services.audit import changes, delete_audited, save_audited
from maestro_app.services.common import TRIM, Body, Page, like_pattern, paginate
from maestro_app.services.errors import EntityConflict, EntityNotFound
from maestro_app.services.snapshot import bump_config_version

logger = logging.getLogger(__name__)

PRESETS_SEEDED_KEY = "tool_set_presets_seeded"

ToolSetName = Annotated[str, StringConstraints(min_length=1, max_length=128), TRIM]
ToolName = Annotated[str, StringConstraints(min_length=1, max_length=256), TRIM]


def unique_names(names: list[str] | None) -> list[str] | None:
    """`names` without repeats (case-insensitive, first spelling kept), in order."""
    if names is None:
        return None
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(name.lower(), name)
    return list(seen.values())


ToolNames = Annotated[list[ToolName], Field(max_length=2000), AfterValidator(unique_names)]


class ToolSetCreate(Body):
    name: ToolSetName
    # Required, but may be null: null allows every tool.
    tools: ToolNames | None
    description: str | None = Field(default=None, max_length=2000)


class ToolSetUpdate(Body):
    """Fields omitted keep their value; `tools: null` allows every tool."""

    non_nullable = frozenset({"name"})

    name: ToolSetName | None = None
    tools: ToolNames | None = None
    description: str | None = Field(default=None, max_length=2000)


class ToolSetPublic(BaseModel):
    id: int
    name: str
    tools: list[str] | None
    description: str | None
    # Model-config prefixes naming this set
    used_by: list[str]
    created_at: datetime
    updated_at: datetime


def _users(session: Session, names: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {name: [] for name in names}
    if not names:
        return found
    statement = select(ModelConfig.tool_set, ModelConfig.model_prefix).where(
        col(ModelConfig.tool_set).in_(names)
    )
    for tool_set, prefix in session.exec(statement.order_by(col(ModelConfig.model_prefix))):
        if tool_set is not None:
            found[tool_set].append(prefix)
    return found


def _public(row: ToolSet, used_by: list[str]) -> ToolSetPublic:
    return ToolSetPublic(
        id=row.id or 0,
        name=row.name,
        tools=None if row.tools is None else list(row.tools),
        description=row.description,
        used_by=used_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _settable(row: ToolSet) -> dict[str, Any]:
    return {
        "name": row.name,
        "tools": None if row.tools is None else list(row.tools),
        "description": row.description,
    }


def load_tool_set(session: Session, name: str, *, for_update: bool = False) -> ToolSet:
    statement = select(ToolSet).where(ToolSet.name == name.strip())
    row = session.exec(statement.with_for_update() if for_update else statement).first()
    if row is None:
        raise EntityNotFound(f"Tool set '{name}' not found")
    return row


def _check_unique(session: Session, name: str, own_id: int | None) -> None:
    other = session.exec(select(ToolSet.id).where(ToolSet.name == name)).first()
    if other is not None and other != own_id:
        raise EntityConflict(f"A tool set named '{name}' already exists")


def _save(session: Session, row: ToolSet, *, actor: str, action: str, details: dict[str, Any]) -> None:
    save_audited(session, row, actor=actor, action=action, entity_type="tool_set", details=details)


def create_tool_set(*, session: Session, data: ToolSetCreate, actor: str) -> ToolSetPublic:
    _check_unique(session, data.name, None)
    row = ToolSet(name=data.name, tools=data.tools, description=data.description)
    _save(session, row, actor=actor, action="tool_set.create", details=_settable(row))
    return _public(row, [])


def list_tool_sets(
    *, session: Session, search: str | None = None, limit: int = 50, offset: int = 0
) -> Page[ToolSetPublic]:
    statement = select(ToolSet)
    if search:
        statement = statement.where(col(ToolSet.name).ilike(like_pattern(search), escape="\\"))
    statement = statement.order_by(col(ToolSet.name))

    def convert(rows: Any) -> list[ToolSetPublic]:
        used = _users(session, [r.name for r in rows])
        return [_public(r, used[r.name]) for r in rows]

    return paginate(session, statement, limit=limit, offset=offset, convert=convert)


def get_tool_set(*, session: Session, name: str) -> ToolSetPublic:
    row = load_tool_set(session, name)
    return _public(row, _users(session, [row.name])[row.name])


def update_tool_set(*, session: Session, name: str, data: ToolSetUpdate, actor: str) -> ToolSetPublic:
    row = load_tool_set(session, name, for_update=True)
    given = data.given()
    old_name = row.name
    if "name" in given:
        _check_unique(session, given["name"], row.id)
    before = _settable(row)
    for field, value in given.items():
        setattr(row, field, value)
    details: dict[str, Any] = {"changes": changes(before, _settable(row))}
    if row.name != old_name:
        renamed = session.exec(select(ModelConfig).where(ModelConfig.tool_set == old_name)).all()
        for config in renamed:
            config.tool_set = row.name
            config.updated_at = utcnow()
            session.add(config)
        details["renamed_in_model_configs"] = sorted(c.model_prefix for c in renamed)
    _save(session, row, actor=actor, action="tool_set.update", details=details)
    return _public(row, _users(session, [row.name])[row.name])


def delete_tool_set(*, session: Session, name: str, actor: str) -> None:
    row = load_tool_set(session, name, for_update=True)
    used_by = _users(session, [row.name])[row.name]
    if used_by:
        raise EntityConflict(
            f"Tool set '{row.name}' is used by model config(s) {', '.join(used_by)}; change them first"
        )
    delete_audited(
        session, row, actor=actor, action="tool_set.delete", entity_type="tool_set", details=_settable(row)
    )


def _insert_new(session: Session, table_name: str, values: dict[str, Any]) -> bool:
    """INSERT that skips a row whose unique key exists (another worker may be seeding too);
    True when the row was inserted."""
    table = SQLModel.metadata.tables[table_name]
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(table).values(**values).on_conflict_do_nothing().returning(*table.primary_key.columns)
    return session.execute(statement).first() is not None


def seed_tool_set_presets(session: Session) -> list[str]:
    """Create the presets missing by name, once per database; the names created. Safe when
    several workers start together."""
    if session.get(Setting, PRESETS_SEEDED_KEY) is not None:
        return []
    now = utcnow()
    created = [
        name
        for name, (tools, description) in PRESETS.items()
        if _insert_new(
            session,
            ToolSet.__tablename__,
            {"name": name, "tools": tools, "description": description, "created_at": now, "updated_at": now},
        )
    ]
    _insert_new(session, Setting.__tablename__, {"key": PRESETS_SEEDED_KEY, "value": True, "updated_at": now})
    if created:
        bump_config_version(session)
        logger.info("seeded tool-set presets: %s", ", ".join(created))
    return created
