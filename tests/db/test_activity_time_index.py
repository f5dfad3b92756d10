"""Migration 0007: the request log's time index holds `id`, so a page needs no sort."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import Session, SQLModel

from alembic import command
from maestro_app.db.engine import alembic_config, make_engine
from maestro_app.db.models import ActivityRecord, utcnow
from maestro_app.services import activity_query
from tests.support import store_activity


def _migrate(engine: sa.Engine, database_url: str, step: str, target: str) -> None:
    cfg = alembic_config(database_url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, step)(cfg, target)


def _time_indexes(engine: sa.Engine) -> dict[str, list[str]]:
    return {
        index["name"]: list(index["column_names"])
        for index in sa.inspect(engine).get_indexes("activity_records")
        if index["column_names"] and index["column_names"][0] == "created_at"
    }


def _record(request_id: str) -> ActivityRecord:
    return ActivityRecord(
        request_id=request_id,
        username="alice",
        model="m",
        endpoint="/v1/chat/completions",
        source="openai",
        status_code=200,
        total_tokens=3,
        created_at=utcnow(),
    )


def _add_record(engine: sa.Engine, request_id: str) -> None:
    """An insert through the ORM: kept in the rollups by the row trigger revision 0006 has."""
    with Session(engine) as session:
        session.add(_record(request_id))
        session.commit()


def _hourly_requests(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(sa.text("SELECT coalesce(sum(requests), 0) FROM activity_hourly")).scalar_one()
        )


def test_the_index_goes_up_and_down_and_the_rollups_stay(database_url: str) -> None:
    engine = make_engine(database_url)  # the template is at head
    try:
        assert _time_indexes(engine) == {"ix_activity_created_at_id": ["created_at", "id"]}
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
        assert [d for d in diffs if "activity_records" in repr(d)] == []

        _migrate(engine, database_url, "downgrade", "0006_sqlite_batch_rollups")
        assert _time_indexes(engine) == {"ix_activity_created_at": ["created_at"]}
        _add_record(engine, "before")
        _migrate(engine, database_url, "upgrade", "head")
        assert _time_indexes(engine) == {"ix_activity_created_at_id": ["created_at", "id"]}
        # The rollups stayed exact through both steps (a batch table copy on SQLite would drop
        # their triggers): the ledger's insert, then a delete (row trigger).
        store_activity(engine, [_record("after")])
        assert _hourly_requests(engine) == 2
        with engine.begin() as conn:
            conn.execute(sa.delete(ActivityRecord).where(ActivityRecord.request_id == "before"))  # type: ignore[arg-type]
        assert _hourly_requests(engine) == 1
    finally:
        engine.dispose()


@contextmanager
def _statements(engine: sa.Engine) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def remember(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", remember)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", remember)


@pytest.mark.parametrize("filters", [{}, {"start": utcnow() - timedelta(days=7)}], ids=["all", "since"])
def test_a_log_page_is_read_in_index_order_without_a_sort(database_url: str, filters: dict[str, Any]) -> None:
    """PostgreSQL: the page statement `list_activity` sends can walk the time index backwards
    with no Sort or Incremental Sort (with the old `created_at` index it had to sort ties by
    `id`, over offset + limit rows)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("the plan is PostgreSQL's")
    engine = make_engine(database_url)
    try:
        with _statements(engine) as seen, Session(engine) as session:
            activity_query.list_activity(session=session, limit=50, offset=100_000, **filters)
        (page,) = [(s, p) for s, p in seen if "ORDER BY" in s]
        with engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            assert raw is not None
            with raw.cursor() as cur:
                # The test table is empty, so costs decide nothing: leave the planner no cheap
                # way around the index, and none to a sort unless it has to sort.
                for knob in ("seqscan", "bitmapscan", "sort", "incremental_sort"):
                    cur.execute(f"SET enable_{knob} = off")
                cur.execute("EXPLAIN (COSTS OFF) " + page[0], page[1])
                plan = "\n".join(row[0] for row in cur.fetchall())
            raw.rollback()
        assert "ix_activity_created_at_id" in plan and "Sort" not in plan, plan
    finally:
        engine.dispose()
