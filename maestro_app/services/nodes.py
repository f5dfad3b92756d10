"""Upstream nodes: CRUD, activation, priority order.

Secrets (the API key, every header value) leave this module masked only; a write that sends
the masked form back keeps the stored secret.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, computed_field, field_validator
from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from maestro_app.db.models import ModelGroupMember, ModelMapping, Node, NodeModel, utcnow
from maestro_app.domain.warmup import WARMUP_NOTES, warmup_mode
from maestro_app.services.audit import changes, record_audit, save_audited
from maestro_app.services.common import INT32_MAX, Body, EntityId, Page, paginate
from maestro_app.services.errors import EntityConflict, EntityNotFound, InvalidInput
from maestro_app.services.node_fields import (
    Code,
    Headers,
    HttpUrl,
    NodeName,
    Priority,
    ProbeUrl,
    Secret,
    Weight,
    mask_secret,
)
from maestro_app.services.snapshot import bump_config_version


class NodeCreate(Body):
    name: NodeName
    base_url: HttpUrl
    node_type: Literal["ollama", "vllm"]
    api_key: Secret = None
    headers: Headers = Field(default_factory=dict)
    priority: Priority = 0
    weight: Weight = 1
    code: Code = None
    warmup_enabled: bool = False
    is_active: bool = True
    health_check_url: ProbeUrl = None


class NodeUpdate(Body):
    non_nullable = frozenset(
        {"name", "base_url", "node_type", "headers", "priority", "weight", "warmup_enabled", "is_active"}
    )

    name: NodeName | None = None
    base_url: HttpUrl | None = None
    node_type: Literal["ollama", "vllm"] | None = None
    api_key: Secret = None
    headers: Headers | None = None
    priority: Priority | None = None
    weight: Weight | None = None
    code: Code = None
    warmup_enabled: bool | None = None
    is_active: bool | None = None
    health_check_url: ProbeUrl = None


class PriorityItem(Body):
    id: EntityId
    priority: Priority


class PriorityBatch(Body):
    priorities: list[PriorityItem] = Field(min_length=1, max_length=1000)

    @field_validator("priorities")
    @classmethod
    def _unique_ids(cls, value: list[PriorityItem]) -> list[PriorityItem]:
        ids = [item.id for item in value]
        if len(set(ids)) != len(ids):
            raise ValueError("each node id may appear once")
        return value


class NodePublic(BaseModel):
    id: int
    name: str
    code: str | None
    base_url: str
    node_type: str
    api_key: str | None
    headers: dict[str, str]
    priority: int
    weight: int
    is_active: bool
    warmup_enabled: bool
    health_check_url: str | None
    health_status: str
    last_health_check: datetime | None
    consecutive_failures: int
    last_error: str | None
    models_count: int
    created_at: datetime
    updated_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def warmup(self) -> str:
        """What warmup does on this node type: `keep_alive` (Ollama) or `not_needed` (vLLM)."""
        return warmup_mode(self.node_type)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def warmup_note(self) -> str:
        return WARMUP_NOTES[warmup_mode(self.node_type)]

    @classmethod
    def from_node(cls, node: Node, *, models_count: int) -> NodePublic:
        data = node.model_dump()
        data["api_key"] = mask_secret(node.api_key)
        data["headers"] = {k: mask_secret(v) or "" for k, v in (node.headers or {}).items()}
        return cls(**data, models_count=models_count)


@dataclass(frozen=True, slots=True)
class NodeSecrets:
    """A node's API key and header values in clear."""

    api_key: str | None
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class NodeWrite:
    """A written node, and whether its model list should be discovered (again) now."""

    node: NodePublic
    rediscover: bool


# -- helpers ------------------------------------------------------------------------------


def load_node(session: Session, node_id: int, *, for_update: bool = False) -> Node:
    valid = 0 < node_id <= INT32_MAX
    node = session.get(Node, node_id, with_for_update=for_update) if valid else None
    if node is None:
        raise EntityNotFound(f"Node {node_id} not found")
    return node


def node_secrets(node: Node) -> NodeSecrets:
    """The node's secrets in clear, for code that must compare or send them (config import);
    the one reader of the secret columns outside this module's writes."""
    return NodeSecrets(api_key=node.api_key, headers=dict(node.headers or {}))


def _models_counts(session: Session, node_ids: list[int]) -> dict[int, int]:
    if not node_ids:
        return {}
    rows = session.exec(
        select(NodeModel.node_id, func.count())
        .where(col(NodeModel.node_id).in_(node_ids))
        .where(
            or_(
                and_(col(NodeModel.availability_override).is_(None), col(NodeModel.is_present)),
                col(NodeModel.availability_override).is_(True),
            )
        )
        .group_by(col(NodeModel.node_id))
    ).all()
    return {node_id: int(n) for node_id, n in rows}


def _public(session: Session, node: Node) -> NodePublic:
    count = _models_counts(session, [node.id or 0]).get(node.id or 0, 0)
    return NodePublic.from_node(node, models_count=count)


def derive_code(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-")[:64] or "node"
    code, n = base, 2
    while code in taken:
        suffix = f"-{n}"
        code, n = base[: 64 - len(suffix)] + suffix, n + 1
    return code


def _check_unique(session: Session, *, name: str | None, code: str | None, node_id: int | None) -> None:
    for column, value, label in ((Node.name, name, "name"), (Node.code, code, "code")):
        if value is None:
            continue
        other = session.exec(select(Node.id).where(column == value)).first()
        if other is not None and other != node_id:
            raise EntityConflict(f"A node with {label} '{value}' already exists")


def _keep_masked(sent: str | None, stored: str | None) -> str | None:
    return stored if stored is not None and sent == mask_secret(stored) else sent


def _settable(node: Node) -> dict[str, Any]:
    return {
        "name": node.name,
        "code": node.code,
        "base_url": node.base_url,
        "node_type": node.node_type,
        "api_key": node.api_key,
        "headers": dict(node.headers or {}),
        "priority": node.priority,
        "weight": node.weight,
        "is_active": node.is_active,
        "warmup_enabled": node.warmup_enabled,
        "health_check_url": node.health_check_url,
    }


def _audit_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Changed fields; a changed API key shows as `***`, changed headers by name only."""
    diff: dict[str, Any] = changes(before, after)
    if "api_key" in diff:
        diff["api_key"] = after["api_key"]
    if "headers" in diff:
        diff["headers"] = after["headers"]
    return diff


def _save(session: Session, node: Node, *, actor: str, action: str, details: dict[str, Any]) -> None:
    save_audited(session, node, actor=actor, action=action, entity_type="node", details=details)


# -- CRUD ---------------------------------------------------------------------------------


def create_node(*, session: Session, data: NodeCreate, actor: str) -> NodeWrite:
    _check_unique(session, name=data.name, code=data.code, node_id=None)
    code = data.code
    if code is None:
        taken = {c for c in session.exec(select(Node.code)).all() if c}
        code = derive_code(data.name, taken)
    node = Node(**data.model_dump(exclude={"code"}), code=code)
    details = _settable(node)
    _save(session, node, actor=actor, action="node.create", details=details)
    return NodeWrite(_public(session, node), rediscover=node.is_active)


def list_nodes(*, session: Session, limit: int = 50, offset: int = 0) -> Page[NodePublic]:
    statement = select(Node).order_by(col(Node.priority).desc(), col(Node.id))

    def convert(rows: Any) -> list[NodePublic]:
        counts = _models_counts(session, [n.id for n in rows])
        return [NodePublic.from_node(n, models_count=counts.get(n.id, 0)) for n in rows]

    return paginate(session, statement, limit=limit, offset=offset, convert=convert)


def get_node(*, session: Session, node_id: int) -> NodePublic:
    return _public(session, load_node(session, node_id))


def update_node(*, session: Session, node_id: int, data: NodeUpdate, actor: str) -> NodeWrite:
    node = load_node(session, node_id, for_update=True)
    given = data.given()
    _check_unique(session, name=given.get("name"), code=given.get("code"), node_id=node.id)
    before = _settable(node)
    if "api_key" in given:
        given["api_key"] = _keep_masked(given["api_key"], node.api_key)
    if "headers" in given:
        stored = {k.lower(): v for k, v in (node.headers or {}).items()}
        given["headers"] = {
            k: _keep_masked(v, stored.get(k.lower())) or "" for k, v in given["headers"].items()
        }
    for name, value in given.items():
        setattr(node, name, value)
    after = _settable(node)
    _save(
        session, node, actor=actor, action="node.update", details={"changes": _audit_changes(before, after)}
    )
    reached = ("base_url", "node_type", "api_key", "headers")
    rediscover = node.is_active and (not before["is_active"] or any(before[k] != after[k] for k in reached))
    return NodeWrite(_public(session, node), rediscover=rediscover)


def toggle_node(*, session: Session, node_id: int, actor: str) -> NodeWrite:
    node = load_node(session, node_id, for_update=True)
    node.is_active = not node.is_active
    _save(session, node, actor=actor, action="node.toggle", details={"is_active": node.is_active})
    return NodeWrite(_public(session, node), rediscover=node.is_active)


def set_node_priorities(*, session: Session, data: PriorityBatch, actor: str) -> list[NodePublic]:
    wanted = {item.id: item.priority for item in data.priorities}
    nodes = session.exec(select(Node).where(col(Node.id).in_(list(wanted))).with_for_update()).all()
    missing = sorted(set(wanted) - {n.id for n in nodes})
    if missing:
        raise EntityNotFound(f"Node(s) not found: {', '.join(map(str, missing))}")
    moved = {}
    for node in nodes:
        if node.priority != wanted[node.id or 0]:
            moved[str(node.id)] = {"old": node.priority, "new": wanted[node.id or 0]}
            node.priority = wanted[node.id or 0]
            node.updated_at = utcnow()
            session.add(node)
    record_audit(
        session=session, actor=actor, action="node.priorities", entity_type="node", details={"changes": moved}
    )
    bump_config_version(session)
    session.flush()
    counts = _models_counts(session, list(wanted))
    ordered = sorted(nodes, key=lambda n: (-n.priority, n.id or 0))
    return [NodePublic.from_node(n, models_count=counts.get(n.id or 0, 0)) for n in ordered]


def delete_node(*, session: Session, node_id: int, actor: str) -> None:
    """Delete the node and its models; mappings scoped to it alone go with it, other
    mappings and group members simply stop naming it."""
    node = load_node(session, node_id, for_update=True)
    removed, narrowed = [], []
    for mapping in session.exec(select(ModelMapping)).all():
        if node_id in (mapping.node_ids or []):
            remaining = [i for i in mapping.node_ids if i != node_id]
            if remaining:
                mapping.node_ids = remaining
                mapping.updated_at = utcnow()
                session.add(mapping)
                narrowed.append(mapping.id)
            else:
                session.delete(mapping)
                removed.append(mapping.id)
    for member in session.exec(select(ModelGroupMember)).all():
        if node_id in (member.preferred_node_ids or []):
            member.preferred_node_ids = [i for i in member.preferred_node_ids if i != node_id]
            session.add(member)
    session.flush()
    for row in session.exec(select(NodeModel).where(NodeModel.node_id == node_id)).all():
        session.delete(row)
    record_audit(
        session=session,
        actor=actor,
        action="node.delete",
        entity_type="node",
        entity_id=node_id,
        details={"name": node.name, "removed_mappings": removed, "narrowed_mappings": narrowed},
    )
    session.delete(node)
    bump_config_version(session)
    session.flush()


def resolve_node_ids(session: Session, node_ids: list[int]) -> list[int]:
    """`node_ids` sorted and deduplicated; `InvalidInput` naming any that do not exist."""
    unique = sorted(set(node_ids))
    if not unique:
        return []
    found = set(session.exec(select(Node.id).where(col(Node.id).in_(unique))).all())
    missing = [i for i in unique if i not in found]
    if missing:
        raise InvalidInput(f"Unknown node id(s): {', '.join(map(str, missing))}")
    return unique
