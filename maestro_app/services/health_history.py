"""A node's health history: the status changes health checks recorded, newest first."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlmodel import Session, col, select

from maestro_app.db.models import NodeHealthEvent
from maestro_app.services.common import Page, paginate
from maestro_app.services.nodes import load_node


class HealthEventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    node_id: int
    old_status: str
    new_status: str
    reason: str | None
    created_at: datetime


def list_health_events(
    *, session: Session, node_id: int, limit: int = 50, offset: int = 0
) -> Page[HealthEventPublic]:
    load_node(session, node_id)
    statement = (
        select(NodeHealthEvent)
        .where(NodeHealthEvent.node_id == node_id)
        .order_by(col(NodeHealthEvent.created_at).desc(), col(NodeHealthEvent.id).desc())
    )
    return paginate(
        session,
        statement,
        limit=limit,
        offset=offset,
        convert=lambda rows: [HealthEventPublic.model_validate(r) for r in rows],
    )
