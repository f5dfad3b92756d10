"""Today's admitted requests and tokens per user, read from the ledger at start-up to seed
the in-process limit counters (embedded mode), so a restart does not reset anyone's quota."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from maestro_app.db.models import ActivityRecord


def usage_today(session: Session, *, day: str) -> list[tuple[int, int, int]]:
    """(user id, requests, tokens) for `day` (YYYY-MM-DD, UTC).

    Counts what admission counted: records that reached a node (`node_id` set) and were not
    refunded (status < 500). Refused (429) and unroutable requests never had a node.
    """
    start = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC)
    rows = session.execute(
        sa_select(
            col(ActivityRecord.user_id),
            func.count(),
            func.coalesce(func.sum(col(ActivityRecord.total_tokens)), 0),
        )
        .where(col(ActivityRecord.created_at) >= start)
        .where(col(ActivityRecord.user_id).is_not(None))
        .where(col(ActivityRecord.node_id).is_not(None))
        .where(col(ActivityRecord.status_code) < 500)
        .group_by(col(ActivityRecord.user_id))
    ).all()
    return [(int(u), int(n), int(t)) for u, n, t in rows]
