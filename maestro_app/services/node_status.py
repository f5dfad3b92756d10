"""Read model of node health for the dashboard: every node with its available models."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from maestro_app.db.models import Node, NodeModel


@dataclass(frozen=True, slots=True)
class ModelStatus:
    name: str
    context_length: int | None


@dataclass(frozen=True, slots=True)
class NodeStatus:
    id: int
    name: str
    code: str | None
    node_type: str
    base_url: str
    is_active: bool
    health_status: str
    last_health_check: datetime | None
    last_error: str | None
    models: tuple[ModelStatus, ...]


def list_node_status(*, session: Session) -> list[NodeStatus]:
    """Nodes in dashboard order (highest priority first), each with its available models."""
    models: dict[int, list[ModelStatus]] = defaultdict(list)
    for row in session.exec(select(NodeModel).order_by(col(NodeModel.name))):
        if row.is_available:
            models[row.node_id].append(ModelStatus(row.name, row.context_length))
    nodes = session.exec(select(Node).order_by(col(Node.priority).desc(), col(Node.name)))
    return [
        NodeStatus(
            id=node.id or 0,
            name=node.name,
            code=node.code,
            node_type=node.node_type,
            base_url=node.base_url,
            is_active=node.is_active,
            health_status=node.health_status,
            last_health_check=node.last_health_check,
            last_error=node.last_error,
            models=tuple(models.get(node.id or 0, ())),
        )
        for node in nodes
    ]
