"""The hourly rollups equal the ledger's aggregates after inserts, duplicate inserts,
deletes and updates, on SQLite and PostgreSQL. PostgreSQL keeps them by statement triggers
(migration 0002); on SQLite inserts go through the ledger's `insert_records`, the request
log's only writer, which sums each batch into them (migrations 0006, 0008), and updates
and deletes through row triggers."""

from __future__ import annotations

import random
import sqlite3
from collections import defaultdict
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col

from alembic import command
from maestro_app.db.engine import alembic_config, make_engine, run_migrations
from maestro_app.db.models import ActivityHourly, ActivityHourlyUser, ActivityRecord
from maestro_app.services.time_buckets import floor_to
from maestro_app.stores.ledger import decode_record, encode_record, insert_records
from tests.db.support import empty_database

START = datetime(2026, 3, 1, 22, 0, tzinfo=UTC)


@pytest.fixture
def engine(database_url: str, tmp_path: Path) -> Any:
    made = make_engine(database_url)
    run_migrations(made, data_dir=tmp_path)
    yield made
    made.dispose()


def _records(rng: random.Random, n: int, prefix: str) -> list[dict[str, Any]]:
    return [
        {
            "request_id": f"{prefix}-{i}",
            "user_id": rng.choice([1, 2, None]),
            "username": rng.choice(["alice", "bob", None]),
            "model": rng.choice(["chat", "embed", None]),
            "real_model": "llama3",
            "endpoint": "/v1/chat/completions",
            "stream": False,
            "estimated": False,
            "status_code": rng.choice([200, 200, 200, 429, 502]),
            "prompt_tokens": rng.randint(0, 500),
            "completion_tokens": rng.randint(0, 300),
            "total_tokens": 0,
            "duration_ms": round(rng.uniform(1, 900), 3),
            "created_at": START + timedelta(minutes=rng.randint(0, 240), seconds=rng.random()),
        }
        for i in range(n)
    ]


# The columns of revision 0001, so records can be written before the migration under test.
LEDGER = sa.table("activity_records", *(sa.column(name) for name in _records(random.Random(0), 1, "x")[0]))


def _insert_at_0001(engine: Engine, records: list[dict[str, Any]]) -> None:
    """Records written before the rollups existed (revision 0001's columns, executemany)."""
    make = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    for record in records:
        record["total_tokens"] = record["prompt_tokens"] + record["completion_tokens"]
    with engine.begin() as conn:
        conn.execute(make(LEDGER).on_conflict_do_nothing(index_elements=["request_id"]), records)


def _expected(engine: Engine) -> tuple[dict[Any, tuple[Any, ...]], dict[Any, tuple[Any, ...]]]:
    hourly: dict[Any, list[float]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0.0])
    users: dict[Any, list[int]] = defaultdict(lambda: [0, 0, 0])
    with engine.connect() as conn:
        for r in conn.execute(select(ActivityRecord.__table__)).mappings():
            hour = floor_to(r["created_at"], "hour")
            error = int(r["status_code"] >= 400)
            h = hourly[(hour, r["model"] or "")]
            for i, value in enumerate(
                (1, error, r["prompt_tokens"], r["completion_tokens"], r["total_tokens"], r["duration_ms"])
            ):
                h[i] += value
            u = users[(hour, r["username"] or "")]
            for i, value in enumerate((1, error, r["total_tokens"])):
                u[i] += value
    return (
        {k: (*v[:5], round(v[5], 3)) for k, v in hourly.items()},
        {k: tuple(v) for k, v in users.items()},
    )


def _rollups(engine: Engine) -> tuple[dict[Any, tuple[Any, ...]], dict[Any, tuple[Any, ...]]]:
    with engine.connect() as conn:
        hourly = {
            (r.bucket.astimezone(UTC), r.model): (
                r.requests,
                r.errors,
                r.prompt_tokens,
                r.completion_tokens,
                r.total_tokens,
                round(r.duration_ms, 3),
            )
            for r in conn.execute(select(ActivityHourly.__table__))
        }
        users = {
            (r.bucket.astimezone(UTC), r.username): (r.requests, r.errors, r.total_tokens)
            for r in conn.execute(select(ActivityHourlyUser.__table__))
        }
    return hourly, users


def test_rollups_follow_every_write(engine: Engine) -> None:
    rng = random.Random(5)
    first = _ledger_records(rng, 300, "a")
    insert_records(engine, first)
    assert _rollups(engine) == _expected(engine)
    # A replay of the same request ids changes nothing.
    insert_records(engine, first[:120] + _ledger_records(rng, 50, "b"))
    assert _rollups(engine) == _expected(engine)
    # Retention deletes in batches; whole hours disappear from the rollups.
    with engine.begin() as conn:
        conn.execute(
            delete(ActivityRecord).where(col(ActivityRecord.created_at) < START + timedelta(minutes=90))
        )
        conn.execute(delete(ActivityRecord).where(col(ActivityRecord.request_id).in_(["a-1", "a-2", "b-7"])))
    hourly, users = _rollups(engine)
    assert (hourly, users) == _expected(engine)
    assert min(bucket for bucket, _ in hourly) >= START + timedelta(hours=1)
    assert all(v[0] > 0 for v in hourly.values()) and all(v[0] > 0 for v in users.values())
    # An update moves a record between buckets.
    with engine.begin() as conn:
        conn.execute(
            update(ActivityRecord)
            .where(col(ActivityRecord.request_id).in_(["a-10", "a-11"]))
            .values(model="moved", username="carol", status_code=500, created_at=START + timedelta(days=1))
        )
    assert _rollups(engine) == _expected(engine)
    with engine.begin() as conn:
        conn.execute(delete(ActivityRecord))
    assert _rollups(engine) == ({}, {})


def test_rollup_totals_match_the_ledger(engine: Engine) -> None:
    insert_records(engine, _ledger_records(random.Random(9), 400, "c"))
    with engine.connect() as conn:
        requests, tokens = conn.execute(
            select(func.count(), func.sum(ActivityRecord.__table__.c.total_tokens))
        ).one()
        rolled = conn.execute(
            select(
                func.sum(ActivityHourly.__table__.c.requests),
                func.sum(ActivityHourly.__table__.c.total_tokens),
            )
        ).one()
        by_user = conn.execute(select(func.sum(ActivityHourlyUser.__table__.c.requests))).scalar_one()
    assert (requests, tokens) == tuple(rolled) and by_user == requests


def test_the_migration_sums_existing_activity(database_url: str, tmp_path: Path) -> None:
    made = empty_database(database_url)
    cfg = alembic_config(database_url)
    with made.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    _insert_at_0001(made, _records(random.Random(3), 250, "old"))
    with made.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    assert _rollups(made) == _expected(made)
    insert_records(made, _ledger_records(random.Random(4), 50, "new"))
    assert _rollups(made) == _expected(made)
    with made.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
        command.upgrade(cfg, "head")
    assert _rollups(made) == _expected(made)
    made.dispose()


def _ledger_records(rng: random.Random, n: int, prefix: str) -> list[dict[str, Any]]:
    records = _records(rng, n, prefix)
    for record in records:
        record.update(
            client_request_id=None, node_id=None, node_name="n1", source="curl", ttfb_ms=None, error=None
        )
        record["total_tokens"] = record["prompt_tokens"] + record["completion_tokens"]
    return records


def test_the_ledgers_batches_keep_the_rollups_exact(engine: Engine) -> None:
    """The flusher's own path (`insert_records`: on SQLite one grouped rollup per batch, no
    row trigger) gives the rollups exactly, replays and odd batches included."""
    rng = random.Random(11)
    first = _ledger_records(rng, 400, "l")
    assert insert_records(engine, first) == 400
    assert _rollups(engine) == _expected(engine)
    # A replayed segment: half already stored, half new, one line journalled by an older
    # version (no `client_request_id`), several hours, one record twice in a batch.
    older = _ledger_records(rng, 1, "old")[0]
    del older["client_request_id"]
    replayed = decode_record(encode_record(older))
    assert replayed is not None
    second = first[:200] + _ledger_records(rng, 150, "m") + [replayed]
    insert_records(engine, second + second[-3:])
    assert _rollups(engine) == _expected(engine)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ActivityRecord)).scalar_one() == 551
        if engine.dialect.name == "sqlite":  # no insert trigger: a program per row (0008)
            triggers = conn.execute(
                sa.text(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'activity_records'"
                )
            ).scalars()
            assert sorted(triggers) == ["activity_rollup_delete", "activity_rollup_update"]


def test_a_refused_batch_changes_nothing(engine: Engine) -> None:
    rng = random.Random(12)
    insert_records(engine, _ledger_records(rng, 50, "ok"))
    before = _rollups(engine)
    bad = _ledger_records(rng, 20, "bad")
    bad[7]["endpoint"] = None  # NOT NULL: the database refuses the whole batch
    with pytest.raises(
        sa.exc.IntegrityError if engine.dialect.name == "postgresql" else sqlite3.IntegrityError
    ):
        insert_records(engine, bad)
    assert _rollups(engine) == before == _expected(engine)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ActivityRecord)).scalar_one() == 50
    insert_records(engine, _ledger_records(rng, 10, "after"))  # the pooled connection still works
    assert _rollups(engine) == _expected(engine)


def test_journal_times_are_stored_as_the_orm_stores_them(engine: Engine) -> None:
    """`created_at` reaches `insert_records` as a datetime (the gateway) or as the journal's
    RFC 3339 text (a replayed line, the Redis stream): on SQLite the text is rewritten to
    SQLAlchemy's stored form, not parsed. Every form reads back as the same instant, and
    the time order and the hourly rollups see it as the ORM's own rows."""
    moments = [
        datetime(2026, 3, 1, 22, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 3, 1, 23, 0, 0, tzinfo=UTC),  # orjson writes no fraction for 0 µs
        datetime(2026, 3, 1, 23, 0, 0, 5, tzinfo=UTC),
        datetime(2026, 3, 2, 1, 30, 0, 250000, tzinfo=timezone(timedelta(hours=2))),  # 23:30 UTC
    ]
    forms: list[tuple[str, Any]] = []
    for i, moment in enumerate(moments):
        text = orjson.dumps(moment).decode().strip('"')
        forms += [(f"dt-{i}", moment), (f"text-{i}", text), (f"z-{i}", text.replace("+00:00", "Z"))]
    records = _records(random.Random(3), len(forms), "t")
    for record, (request_id, created) in zip(records, forms, strict=True):
        record["request_id"], record["created_at"] = request_id, created
    insert_records(engine, records)
    with engine.connect() as conn:
        stored = dict(conn.execute(select(ActivityRecord.request_id, ActivityRecord.created_at)).all())
    for request_id, created in forms:
        expected = moments[int(request_id.rsplit("-", 1)[1])]
        assert stored[request_id] == expected, (request_id, created)
    assert _rollups(engine) == _expected(engine)
