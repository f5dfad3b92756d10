"""Model groups and their members (SPEC §3.3, §5).

A group is found by its name. Members are models (display names as clients know them),
ordered by `priority` (lower first); reordering gives them priorities 0..n-1 in the order
given. A member's preferred nodes keep the order given: it is the order they are tried in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator
from sqlmodel import Session, col, select

from maestro_app.db.models import ModelGroup, ModelGroupMember, Node, utcnow
from maestro_app.domain.names import NODE_PREFIX
from maestro_app.services.audit import changes, record_audit
from maestro_app.services.common import INT32_MAX, TRIM, Body, EntityId, Page, like_pattern, paginate
from maestro_app.services.errors import EntityConflict, EntityNotFound, InvalidInput
from maestro_app.services.mappings import Capability, _context_length
from maestro_app.services.snapshot import bump_config_version

Strategy = Literal["round_robin", "weighted", "priority"]
Retries = Annotated[int, Field(ge=0, le=100)]
MemberPriority = Annotated[int, Field(ge=0, le=INT32_MAX)]
MemberWeight = Annotated[int, Field(ge=0, le=1_000_000)]


def _not_pinned(value: str) -> str:
    if value.startswith(NODE_PREFIX):
        raise ValueError(f"must not start with '{NODE_PREFIX}' (use preferred_node_ids to pick nodes)")
    return value


def _tags(value: list[str]) -> list[str]:
    return sorted(set(value))


def _ordered_ids(value: list[int]) -> list[int]:
    return list(dict.fromkeys(value))


Name = Annotated[str, StringConstraints(min_length=1, max_length=256), TRIM, AfterValidator(_not_pinned)]
Tags = Annotated[list[Capability], AfterValidator(_tags)]
NodeIds = Annotated[list[EntityId], Field(max_length=1000), AfterValidator(_ordered_ids)]


class GroupCreate(Body):
    name: Name
    strategy: Strategy = "priority"
    description: str | None = Field(default=None, max_length=2000)
    list_in_catalog: bool = False
    max_failover_retries: Retries = 2
    is_active: bool = True


class GroupUpdate(Body):
    non_nullable = frozenset({"name", "strategy", "list_in_catalog", "max_failover_retries", "is_active"})

    name: Name | None = None
    strategy: Strategy | None = None
    description: str | None = Field(default=None, max_length=2000)
    list_in_catalog: bool | None = None
    max_failover_retries: Retries | None = None
    is_active: bool | None = None


class MemberCreate(Body):
    model_display_name: Name
    # Omitted: after the last member
    priority: MemberPriority | None = None
    weight: MemberWeight = 1
    capability_tags: Tags = Field(default_factory=list)
    preferred_node_ids: NodeIds = Field(default_factory=list)
    context_length: int | str | None = None
    is_active: bool = True

    _context = field_validator("context_length", mode="before")(_context_length)


class MemberUpdate(Body):
    non_nullable = frozenset(
        {"model_display_name", "priority", "weight", "capability_tags", "preferred_node_ids", "is_active"}
    )

    model_display_name: Name | None = None
    priority: MemberPriority | None = None
    weight: MemberWeight | None = None
    capability_tags: Tags | None = None
    preferred_node_ids: NodeIds | None = None
    context_length: int | str | None = None
    is_active: bool | None = None

    _context = field_validator("context_length", mode="before")(_context_length)


class MemberOrder(Body):
    """Every member id of the group, in the new order (first = priority 0)."""

    member_ids: list[EntityId] = Field(min_length=1, max_length=1000)

    @field_validator("member_ids")
    @classmethod
    def _unique(cls, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise ValueError("each member id may appear once")
        return value


class MemberPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    group_id: int
    model_display_name: str
    priority: int
    weight: int
    capability_tags: list[str]
    preferred_node_ids: list[int]
    context_length: int | None
    is_active: bool


class GroupPublic(BaseModel):
    id: int
    name: str
    strategy: str
    description: str | None
    list_in_catalog: bool
    max_failover_retries: int
    is_active: bool
    members: list[MemberPublic]
    created_at: datetime
    updated_at: datetime


# -- helpers ------------------------------------------------------------------------------


def _members(session: Session, group_ids: list[int]) -> dict[int, list[ModelGroupMember]]:
    found: dict[int, list[ModelGroupMember]] = {gid: [] for gid in group_ids}
    if not group_ids:
        return found
    statement = (
        select(ModelGroupMember)
        .where(col(ModelGroupMember.group_id).in_(group_ids))
        .order_by(col(ModelGroupMember.priority), col(ModelGroupMember.id))
    )
    for member in session.exec(statement):
        found[member.group_id].append(member)
    return found


def _public(group: ModelGroup, members: list[ModelGroupMember]) -> GroupPublic:
    return GroupPublic(
        **group.model_dump(exclude={"members"}),
        members=[MemberPublic.model_validate(m) for m in members],
    )


def _group_public(session: Session, group: ModelGroup) -> GroupPublic:
    return _public(group, _members(session, [group.id or 0])[group.id or 0])


def load_group(session: Session, name: str, *, for_update: bool = False) -> ModelGroup:
    statement = select(ModelGroup).where(ModelGroup.name == name.strip())
    group = session.exec(statement.with_for_update() if for_update else statement).first()
    if group is None:
        raise EntityNotFound(f"Model group '{name}' not found")
    return group


def _load_member(session: Session, group: ModelGroup, member_id: int) -> ModelGroupMember:
    member = (
        session.get(ModelGroupMember, member_id, with_for_update=True) if 0 < member_id <= INT32_MAX else None
    )
    if member is None or member.group_id != group.id:
        raise EntityNotFound(f"Group '{group.name}' has no member {member_id}")
    return member


def _check_unique(session: Session, name: str, own_id: int | None) -> None:
    other = session.exec(select(ModelGroup.id).where(ModelGroup.name == name)).first()
    if other is not None and other != own_id:
        raise EntityConflict(f"A model group named '{name}' already exists")


def _check_member_model(session: Session, name: str) -> None:
    if session.exec(select(ModelGroup.id).where(ModelGroup.name == name)).first() is not None:
        raise InvalidInput(f"'{name}' is a model group; a member must be a model (groups do not nest)")


def _check_nodes(session: Session, node_ids: list[int]) -> None:
    if not node_ids:
        return
    found = set(session.exec(select(Node.id).where(col(Node.id).in_(node_ids))).all())
    missing = [i for i in node_ids if i not in found]
    if missing:
        raise InvalidInput(f"Unknown node id(s): {', '.join(map(str, missing))}")


def _group_settable(group: ModelGroup) -> dict[str, Any]:
    return {
        "name": group.name,
        "strategy": group.strategy,
        "description": group.description,
        "list_in_catalog": group.list_in_catalog,
        "max_failover_retries": group.max_failover_retries,
        "is_active": group.is_active,
    }


def _member_settable(member: ModelGroupMember) -> dict[str, Any]:
    return {
        "model_display_name": member.model_display_name,
        "priority": member.priority,
        "weight": member.weight,
        "capability_tags": list(member.capability_tags or []),
        "preferred_node_ids": list(member.preferred_node_ids or []),
        "context_length": member.context_length,
        "is_active": member.is_active,
    }


def _commit_change(
    session: Session,
    group: ModelGroup,
    *,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: Any,
    details: dict[str, Any],
) -> None:
    """Audit and version one change of the group (or of one of its members)."""
    group.updated_at = utcnow()
    session.add(group)
    session.flush()
    record_audit(
        session=session,
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        details=details,
    )
    bump_config_version(session)
    session.flush()


# -- groups -------------------------------------------------------------------------------


def create_group(*, session: Session, data: GroupCreate, actor: str) -> GroupPublic:
    _check_unique(session, data.name, None)
    group = ModelGroup(**data.model_dump())
    session.add(group)
    session.flush()
    _commit_change(
        session,
        group,
        actor=actor,
        action="group.create",
        entity_type="model_group",
        entity_id=group.id,
        details=_group_settable(group),
    )
    return _public(group, [])


def list_groups(
    *, session: Session, search: str | None = None, limit: int = 50, offset: int = 0
) -> Page[GroupPublic]:
    statement = select(ModelGroup)
    if search:
        statement = statement.where(col(ModelGroup.name).ilike(like_pattern(search), escape="\\"))
    statement = statement.order_by(col(ModelGroup.name))

    def convert(rows: Any) -> list[GroupPublic]:
        members = _members(session, [g.id for g in rows])
        return [_public(g, members[g.id]) for g in rows]

    return paginate(session, statement, limit=limit, offset=offset, convert=convert)


def get_group(*, session: Session, name: str) -> GroupPublic:
    return _group_public(session, load_group(session, name))


def update_group(*, session: Session, name: str, data: GroupUpdate, actor: str) -> GroupPublic:
    group = load_group(session, name, for_update=True)
    given = data.given()
    if "name" in given:
        _check_unique(session, given["name"], group.id)
    before = _group_settable(group)
    for field, value in given.items():
        setattr(group, field, value)
    _commit_change(
        session,
        group,
        actor=actor,
        action="group.update",
        entity_type="model_group",
        entity_id=group.id,
        details={"changes": changes(before, _group_settable(group))},
    )
    return _group_public(session, group)


def delete_group(*, session: Session, name: str, actor: str) -> None:
    group = load_group(session, name, for_update=True)
    members = _members(session, [group.id or 0])[group.id or 0]
    record_audit(
        session=session,
        actor=actor,
        action="group.delete",
        entity_type="model_group",
        entity_id=group.id,
        details={**_group_settable(group), "members": [m.model_display_name for m in members]},
    )
    for member in members:
        session.delete(member)
    session.flush()
    session.delete(group)
    bump_config_version(session)
    session.flush()


# -- members ------------------------------------------------------------------------------


def add_member(*, session: Session, name: str, data: MemberCreate, actor: str) -> MemberPublic:
    group = load_group(session, name, for_update=True)
    _check_member_model(session, data.model_display_name)
    _check_nodes(session, data.preferred_node_ids)
    values = data.model_dump()
    if values["priority"] is None:
        existing = _members(session, [group.id or 0])[group.id or 0]
        values["priority"] = max((m.priority for m in existing), default=-1) + 1
    member = ModelGroupMember(group_id=group.id or 0, **values)
    session.add(member)
    session.flush()
    _commit_change(
        session,
        group,
        actor=actor,
        action="group.member.create",
        entity_type="model_group_member",
        entity_id=member.id,
        details={"group": group.name, **_member_settable(member)},
    )
    return MemberPublic.model_validate(member)


def update_member(
    *, session: Session, name: str, member_id: int, data: MemberUpdate, actor: str
) -> MemberPublic:
    group = load_group(session, name, for_update=True)
    member = _load_member(session, group, member_id)
    given = data.given()
    if "model_display_name" in given:
        _check_member_model(session, given["model_display_name"])
    if "preferred_node_ids" in given:
        _check_nodes(session, given["preferred_node_ids"])
    before = _member_settable(member)
    for field, value in given.items():
        setattr(member, field, value)
    session.add(member)
    _commit_change(
        session,
        group,
        actor=actor,
        action="group.member.update",
        entity_type="model_group_member",
        entity_id=member.id,
        details={"group": group.name, "changes": changes(before, _member_settable(member))},
    )
    return MemberPublic.model_validate(member)


def delete_member(*, session: Session, name: str, member_id: int, actor: str) -> None:
    group = load_group(session, name, for_update=True)
    member = _load_member(session, group, member_id)
    details = {"group": group.name, **_member_settable(member)}
    session.delete(member)
    _commit_change(
        session,
        group,
        actor=actor,
        action="group.member.delete",
        entity_type="model_group_member",
        entity_id=member_id,
        details=details,
    )


def reorder_members(*, session: Session, name: str, data: MemberOrder, actor: str) -> GroupPublic:
    """Priorities 0..n-1 in the order of `data.member_ids`, which must name every member."""
    group = load_group(session, name, for_update=True)
    members = {m.id: m for m in _members(session, [group.id or 0])[group.id or 0]}
    wanted = data.member_ids
    unknown = [i for i in wanted if i not in members]
    missing = [i for i in members if i not in set(wanted)]
    if unknown or missing:
        parts = []
        if unknown:
            parts.append(f"not members of '{group.name}': {', '.join(map(str, unknown))}")
        if missing:
            parts.append(f"missing: {', '.join(map(str, sorted(i or 0 for i in missing)))}")
        raise InvalidInput(
            "member_ids must list every member of the group exactly once (" + "; ".join(parts) + ")"
        )
    moved = {}
    for position, member_id in enumerate(wanted):
        member = members[member_id]
        if member.priority != position:
            moved[str(member_id)] = {"old": member.priority, "new": position}
            member.priority = position
            session.add(member)
    _commit_change(
        session,
        group,
        actor=actor,
        action="group.members.reorder",
        entity_type="model_group",
        entity_id=group.id,
        details={"order": wanted, "changes": moved},
    )
    return _group_public(session, group)
