"""Retention: delete activity records and node health events older than
`log_retention_days`, in bounded batches.

Each batch is its own short transaction (`DELETE ... WHERE id IN (SELECT id ... LIMIT n)`),
so a purge of millions of rows never holds long locks, never builds one huge transaction,
and lets request logging (the ledger flusher) interleave. A purge stops between batches
once `time_limit_s` is spent; the next run goes on from there. Audit records are kept:
they are the long-term record of admin actions.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import delete, select
from sqlmodel import col

from maestro_app.db.models import ActivityRecord, NodeHealthEvent, utcnow
from maestro_app.services.node_target import SessionFactory

BATCH_SIZE = 5000
TIME_LIMIT_S = 15 * 60


class RetentionResult(BaseModel):
    cutoff: datetime
    activity_deleted: int
    health_events_deleted: int
    batches: int
    complete: bool  # False: stopped at the time limit with old rows left


def _delete_batch(
    session_factory: SessionFactory,
    table: type[ActivityRecord] | type[NodeHealthEvent],
    cutoff: datetime,
    size: int,
) -> int:
    oldest = select(col(table.id)).where(col(table.created_at) < cutoff).order_by(col(table.id)).limit(size)
    with session_factory() as session:
        result = session.exec(delete(table).where(col(table.id).in_(oldest.scalar_subquery())))
        return int(result.rowcount or 0)


async def purge_expired(
    *,
    session_factory: SessionFactory,
    retention_days: int,
    batch_size: int = BATCH_SIZE,
    time_limit_s: float = TIME_LIMIT_S,
    now: datetime | None = None,
) -> RetentionResult:
    """Delete what is older than `retention_days`, `batch_size` rows per transaction."""
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    deadline = time.monotonic() + time_limit_s
    deleted = {ActivityRecord: 0, NodeHealthEvent: 0}
    batches = 0
    complete = True
    for table in (ActivityRecord, NodeHealthEvent):
        while True:
            if time.monotonic() >= deadline:
                complete = False
                break
            count = await asyncio.to_thread(_delete_batch, session_factory, table, cutoff, batch_size)
            batches += 1
            deleted[table] += count
            if count < batch_size:
                break
        if not complete:
            break
    return RetentionResult(
        cutoff=cutoff,
        activity_deleted=deleted[ActivityRecord],
        health_events_deleted=deleted[NodeHealthEvent],
        batches=batches,
        complete=complete,
    )
