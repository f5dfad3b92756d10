"""The models each node serves, as discovery found them, and the admin's availability choice."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session, col, select

from maestro_app.db.models import NodeModel
from maestro_app.domain.names import canonical
from maestro_app.services.audit import record_audit
from maestro_app.services.common import Body, Page, paginate
from maestro_app.services.errors import EntityNotFound
from maestro_app.services.nodes import load_node
from maestro_app.services.snapshot import bump_config_version


class AvailabilityUpdate(Body):
    """`true`/`false` pins the model on or off for routing; `null` follows discovery again."""

    is_available: bool | None


class NodeModelPublic(BaseModel):
    id: int
    node_id: int
    name: str
    is_available: bool
    is_present: bool
    availability_override: bool | None
    size: int | None
    family: str | None
    parameter_size: str | None
    quantization: str | None
    context_length: int | None
    capabilities: list[str]
    details: dict[str, Any]
    last_seen_at: datetime

    @classmethod
    def from_row(cls, row: NodeModel) -> NodeModelPublic:
        return cls(**row.model_dump(), is_available=row.is_available)


def list_node_models(
    *, session: Session, node_id: int, limit: int = 1000, offset: int = 0
) -> Page[NodeModelPublic]:
    load_node(session, node_id)
    statement = select(NodeModel).where(NodeModel.node_id == node_id).order_by(col(NodeModel.name))
    return paginate(
        session,
        statement,
        limit=limit,
        offset=offset,
        convert=lambda rows: [NodeModelPublic.from_row(r) for r in rows],
    )


def load_node_model(session: Session, node_id: int, name: str) -> NodeModel:
    """The node's model named `name` (`x` also finds `x:latest`), or `EntityNotFound`."""
    rows = session.exec(select(NodeModel).where(NodeModel.node_id == node_id)).all()
    exact = [r for r in rows if r.name == name]
    same = exact or [r for r in rows if canonical(r.name) == canonical(name)]
    if not same:
        raise EntityNotFound(f"Model '{name}' not found on node {node_id}")
    return same[0]


def set_model_availability(
    *, session: Session, node_id: int, model: str, data: AvailabilityUpdate, actor: str
) -> NodeModelPublic:
    load_node(session, node_id)
    row = load_node_model(session, node_id, model)
    before = row.availability_override
    row.availability_override = data.is_available
    session.add(row)
    record_audit(
        session=session,
        actor=actor,
        action="node.model.availability",
        entity_type="node_model",
        entity_id=f"{node_id}:{row.name}",
        details={
            "node_id": node_id,
            "model": row.name,
            "availability_override": {"old": before, "new": data.is_available},
        },
    )
    bump_config_version(session)
    session.flush()
    return NodeModelPublic.from_row(row)
