"""The retention job through a running gateway: `log_retention_days` and the interval both
come from the admin API, and the old activity goes without a restart."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, col, select

from maestro_app.db.models import ActivityRecord, utcnow
from tests.support import set_settings, wait_for


def _request_ids(engine) -> set[str]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return set(session.exec(select(ActivityRecord.request_id).order_by(col(ActivityRecord.id))))


def test_the_retention_job_deletes_activity_older_than_the_setting(gateway):
    engine = gateway.runtime.engine
    now = utcnow()
    with Session(engine) as session:
        for request_id, age in (("ten-days", 10), ("five-days", 5), ("today", 0)):
            session.add(
                ActivityRecord(
                    request_id=request_id,
                    endpoint="/v1/chat/completions",
                    created_at=now - timedelta(days=age, minutes=1),
                )
            )
        session.commit()
    assert gateway.runtime.scheduler.intervals["retention"] == 86400  # daily by default

    set_settings(gateway, log_retention_days=7, retention_interval_s=0.3)
    assert wait_for(lambda: "ten-days" not in _request_ids(engine), 3)
    assert _request_ids(engine) == {"five-days", "today"}

    # A shorter retention, taken at the job's next run.
    set_settings(gateway, log_retention_days=3)
    assert wait_for(lambda: _request_ids(engine) == {"today"}, 3)
