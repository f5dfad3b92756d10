"""services.retention: old activity and health events go, in bounded batches."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import event
from sqlmodel import Session, func, select

from maestro_app.db.models import ActivityRecord, AuditRecord, NodeHealthEvent, utcnow
from maestro_app.services.retention import RetentionResult, purge_expired
from tests.services.conftest import SessionFactory, add_node


def _seed(session_factory: SessionFactory, node_id: int, *, old: int, recent: int) -> None:
    now = utcnow()
    with session_factory() as session:
        for i in range(old + recent):
            at = now - timedelta(days=40 if i < old else 2, minutes=i)
            session.add(ActivityRecord(request_id=f"r{i}", endpoint="/v1/chat/completions", created_at=at))
            session.add(NodeHealthEvent(node_id=node_id, old_status="a", new_status="b", created_at=at))
        session.add(
            AuditRecord(actor="root", action="x", entity_type="y", created_at=now - timedelta(days=400))
        )


def _count(engine: Any, table: Any) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


def test_deletes_only_old_rows_in_batches(session_factory: SessionFactory, engine: Any) -> None:
    node_id = add_node(session_factory, "http://127.0.0.1:9")
    _seed(session_factory, node_id, old=45, recent=7)
    deletes: list[int] = []

    @event.listens_for(engine, "after_execute")
    def _count_deletes(conn: Any, clause: Any, *args: Any) -> None:
        if str(clause).lstrip().upper().startswith("DELETE"):
            deletes.append(1)

    result = asyncio.run(purge_expired(session_factory=session_factory, retention_days=30, batch_size=20))
    assert isinstance(result, RetentionResult)
    assert (result.activity_deleted, result.health_events_deleted, result.complete) == (45, 45, True)
    # 20 + 20 + 5 per table: three batches each, every one its own statement.
    assert result.batches == 6 and len(deletes) == 6
    assert _count(engine, ActivityRecord) == 7
    assert _count(engine, NodeHealthEvent) == 7
    assert _count(engine, AuditRecord) == 1  # the audit trail is kept
    again = asyncio.run(purge_expired(session_factory=session_factory, retention_days=30, batch_size=20))
    assert (again.activity_deleted, again.health_events_deleted, again.batches) == (0, 0, 2)


def test_stops_between_batches_at_the_time_limit(session_factory: SessionFactory, engine: Any) -> None:
    node_id = add_node(session_factory, "http://127.0.0.1:9")
    _seed(session_factory, node_id, old=10, recent=0)
    result = asyncio.run(
        purge_expired(session_factory=session_factory, retention_days=30, batch_size=3, time_limit_s=0)
    )
    assert (result.activity_deleted, result.batches, result.complete) == (0, 0, False)
    result = asyncio.run(purge_expired(session_factory=session_factory, retention_days=1, batch_size=3))
    assert result.activity_deleted == 10 and result.complete
