"""Model mappings: display name -> real name, globally or on a set of nodes (SPEC §3.2).

Two mappings of one display name may coexist only when their node sets do not overlap; a
global mapping (no nodes) overlaps another global one but not a scoped one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from sqlmodel import Session, col, select

from maestro_app.db.models import ModelMapping
from maestro_app.domain.names import NODE_PREFIX, canonical, parse_context_length
from maestro_app.services.audit import changes, delete_audited, save_audited
from maestro_app.services.common import INT32_MAX, TRIM, Body, EntityId, Page, like_pattern, paginate
from maestro_app.services.errors import EntityConflict, EntityNotFound
from maestro_app.services.nodes import resolve_node_ids

Capability = Literal["completion", "tools", "vision", "thinking", "embedding"]
ModelName = Annotated[str, StringConstraints(min_length=1, max_length=256), TRIM]


def _check_display_name(value: str) -> str:
    if value.startswith(NODE_PREFIX):
        raise ValueError(f"must not start with '{NODE_PREFIX}' (reserved for pinning a node)")
    return value


def _context_length(value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int | float | str) or isinstance(value, bool):
        raise ValueError("context_length must be a number like 32768 or text like 32K, 128k, 1M")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("context_length must be a whole number of tokens")
        value = int(value)
    tokens = parse_context_length(value)
    if tokens is not None and tokens > INT32_MAX:
        raise ValueError(f"context_length must be at most {INT32_MAX} tokens")
    return tokens


def _check_optional_display_name(value: str | None) -> str | None:
    return None if value is None else _check_display_name(value)


def _capabilities(value: list[str] | None) -> list[str] | None:
    return None if value is None else sorted(set(value))


class MappingCreate(Body):
    display_name: ModelName
    real_name: ModelName
    node_ids: list[EntityId] = Field(default_factory=list, max_length=1000)
    context_length: int | str | None = None
    capabilities: list[Capability] = Field(default_factory=list)
    description: str | None = Field(default=None, max_length=2000)
    is_active: bool = True

    _display = field_validator("display_name")(_check_display_name)
    _context = field_validator("context_length", mode="before")(_context_length)
    _caps = field_validator("capabilities")(_capabilities)


class MappingUpdate(Body):
    """Fields omitted keep their value; `node_ids: []` makes the mapping global."""

    non_nullable = frozenset({"display_name", "real_name", "node_ids", "capabilities", "is_active"})

    display_name: ModelName | None = None
    real_name: ModelName | None = None
    node_ids: list[EntityId] | None = Field(default=None, max_length=1000)
    context_length: int | str | None = None
    capabilities: list[Capability] | None = None
    description: str | None = Field(default=None, max_length=2000)
    is_active: bool | None = None

    _display = field_validator("display_name")(_check_optional_display_name)
    _context = field_validator("context_length", mode="before")(_context_length)
    _caps = field_validator("capabilities")(_capabilities)


class MappingPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    display_name: str
    real_name: str
    node_ids: list[int]
    context_length: int | None
    capabilities: list[str]
    description: str | None
    is_active: bool
    created_at: datetime
    updated_at: datetime


def _public(row: ModelMapping) -> MappingPublic:
    return MappingPublic.model_validate(row)


def _overlaps(a: list[int], b: list[int]) -> bool:
    if not a or not b:
        return not a and not b
    return bool(set(a) & set(b))


def _check_overlap(session: Session, *, display_name: str, node_ids: list[int], own_id: int | None) -> None:
    same = [
        m
        for m in session.exec(select(ModelMapping)).all()
        if m.id != own_id and canonical(m.display_name) == canonical(display_name)
    ]
    for other in same:
        if _overlaps(node_ids, list(other.node_ids or [])):
            scope = (
                "globally"
                if not node_ids
                else f"on node(s) {sorted(set(node_ids) & set(other.node_ids or []))}"
            )
            raise EntityConflict(
                f"Mapping {other.id} already maps '{other.display_name}' {scope}; "
                "mappings of one display name need node sets that do not overlap"
            )


def load_mapping(session: Session, ref: str | int, *, for_update: bool = False) -> ModelMapping:
    """By id, or by display name when exactly one mapping has it."""
    # isascii: "³".isdigit() is true, and int("³") fails.
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isascii() and ref.isdigit() and len(ref) < 10):
        found = session.get(ModelMapping, int(ref), with_for_update=for_update)
        if found is not None:
            return found
    name = str(ref)
    matches = [
        m
        for m in session.exec(
            select(ModelMapping).where(
                col(ModelMapping.display_name).in_(
                    sorted({name, canonical(name), name.removesuffix(":latest")})
                )
            )
        ).all()
        if canonical(m.display_name) == canonical(name)
    ]
    if not matches:
        raise EntityNotFound(f"Mapping '{name}' not found")
    if len(matches) > 1:
        ids = ", ".join(str(m.id) for m in sorted(matches, key=lambda m: m.id or 0))
        raise EntityConflict(f"Several mappings have display name '{name}' (ids {ids}); use the id")
    return matches[0]


def _settable(row: ModelMapping) -> dict[str, Any]:
    return {
        "display_name": row.display_name,
        "real_name": row.real_name,
        "node_ids": list(row.node_ids or []),
        "context_length": row.context_length,
        "capabilities": list(row.capabilities or []),
        "description": row.description,
        "is_active": row.is_active,
    }


def _save(session: Session, row: ModelMapping, *, actor: str, action: str, details: dict[str, Any]) -> None:
    save_audited(session, row, actor=actor, action=action, entity_type="model_mapping", details=details)


def create_mapping(*, session: Session, data: MappingCreate, actor: str) -> MappingPublic:
    node_ids = resolve_node_ids(session, data.node_ids)
    _check_overlap(session, display_name=data.display_name, node_ids=node_ids, own_id=None)
    row = ModelMapping(**data.model_dump(exclude={"node_ids"}), node_ids=node_ids)
    _save(session, row, actor=actor, action="mapping.create", details=_settable(row))
    return _public(row)


def list_mappings(
    *, session: Session, search: str | None = None, limit: int = 50, offset: int = 0
) -> Page[MappingPublic]:
    statement = select(ModelMapping)
    if search:
        pattern = like_pattern(search)
        statement = statement.where(
            col(ModelMapping.display_name).ilike(pattern, escape="\\")
            | col(ModelMapping.real_name).ilike(pattern, escape="\\")
        )
    statement = statement.order_by(col(ModelMapping.display_name), col(ModelMapping.id))
    return paginate(
        session, statement, limit=limit, offset=offset, convert=lambda rows: [_public(r) for r in rows]
    )


def get_mapping(*, session: Session, ref: str | int) -> MappingPublic:
    return _public(load_mapping(session, ref))


def update_mapping(*, session: Session, ref: str | int, data: MappingUpdate, actor: str) -> MappingPublic:
    row = load_mapping(session, ref, for_update=True)
    given = data.given()
    if "node_ids" in given:
        given["node_ids"] = resolve_node_ids(session, given["node_ids"])
    display = given.get("display_name", row.display_name)
    node_ids = given.get("node_ids", list(row.node_ids or []))
    _check_overlap(session, display_name=display, node_ids=node_ids, own_id=row.id)
    before = _settable(row)
    for name, value in given.items():
        setattr(row, name, value)
    _save(
        session,
        row,
        actor=actor,
        action="mapping.update",
        details={"changes": changes(before, _settable(row))},
    )
    return _public(row)


def delete_mapping(*, session: Session, ref: str | int, actor: str) -> None:
    row = load_mapping(session, ref, for_update=True)
    delete_audited(
        session,
        row,
        actor=actor,
        action="mapping.delete",
        entity_type="model_mapping",
        details=_settable(row),
    )
