"""The request log's totals equal a plain COUNT for every kind of filter and time range,
and its pages stay newest first (SQLite and PostgreSQL)."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from maestro_app.db.models import ActivityRecord
from maestro_app.services.activity_count import ActivityFilter, count_activity, count_in_range
from maestro_app.services.activity_query import list_activity, status_range
from tests.support import store_activity

SessionFactory = Callable[[], AbstractContextManager[Session]]
NOW = datetime(2026, 5, 10, 12, 30, 15, tzinfo=UTC)


@pytest.fixture
def ledger(engine: Engine, session_factory: SessionFactory) -> list[ActivityRecord]:
    rng = random.Random(11)
    records = [
        ActivityRecord(
            request_id=f"r{i}",
            user_id=rng.choice([1, 2, 3]),
            username=rng.choice(["alice", "bob", "carol"]),
            model=rng.choice(["chat", "code", "llama3", None]),
            real_model=rng.choice(["llama3", "qwen", None]),
            node_name=rng.choice(["gpu-1", "gpu-2"]),
            endpoint="/v1/chat/completions",
            source=rng.choice(["curl", "openai-sdk"]),
            status_code=rng.choice([200, 200, 200, 201, 404, 429, 502]),
            created_at=NOW - timedelta(minutes=rng.randint(0, 60 * 30), seconds=rng.random() * 60),
        )
        for i in range(400)
    ]
    store_activity(engine, records)
    with session_factory() as session:
        return list(session.scalars(select(ActivityRecord)).all())  # with their ids


def _plain_count(session: Session, filters: ActivityFilter) -> int:
    conditions = filters.conditions()
    by_model = filters.model_condition()
    if by_model is not None:
        conditions.append(by_model)
    return int(
        session.execute(select(func.count()).select_from(ActivityRecord).where(*conditions)).scalar_one()
    )


TIME_RANGES = [
    (None, None),
    (NOW - timedelta(hours=5), None),
    (None, NOW - timedelta(hours=2, minutes=17)),
    (NOW - timedelta(hours=20, minutes=3, seconds=5), NOW - timedelta(hours=1, minutes=59)),
    (NOW - timedelta(hours=3), NOW - timedelta(hours=1)),  # whole hours only
    (NOW - timedelta(minutes=50), NOW - timedelta(minutes=20)),  # inside one hour
    (NOW - timedelta(hours=2, minutes=10), NOW - timedelta(hours=1, minutes=50)),  # across one boundary
    (NOW + timedelta(hours=1), None),  # nothing yet
]
COLUMN_FILTERS = [
    {},
    {"user": "alice"},
    {"model": "llama3"},  # a display name that is also a real name
    {"model": "qwen"},
    {"node": "gpu-2"},
    {"source": "curl"},
    {"status": "2xx"},
    {"status": "200"},
    {"status": "4xx"},
    {"status": "502"},
    {"user": "bob", "model": "chat", "status": "2xx"},
    {"node": "gpu-1", "source": "openai-sdk", "status": "5xx"},
]


@pytest.mark.usefixtures("ledger")
def test_totals_equal_a_plain_count(session_factory: SessionFactory) -> None:
    with session_factory() as session:
        for (start, end), columns in itertools.product(TIME_RANGES, COLUMN_FILTERS):
            status = columns.get("status")
            filters = ActivityFilter(
                user=columns.get("user"),
                model=columns.get("model"),
                node=columns.get("node"),
                source=columns.get("source"),
                status=status_range(status) if status else None,
                start=start,
                end=end,
            )
            assert count_activity(session, filters) == _plain_count(session, filters), (start, end, columns)


def test_count_in_range_follows_deletes(
    session_factory: SessionFactory, ledger: list[ActivityRecord]
) -> None:
    with session_factory() as session:
        for record in ledger[:150]:
            session.delete(session.get(ActivityRecord, record.id))
    with session_factory() as session:
        start = NOW - timedelta(hours=7, minutes=30)
        assert count_in_range(session, start, None) == _plain_count(session, ActivityFilter(start=start))
        assert count_in_range(session, None, None) == 250


def test_pages_are_newest_first_and_total_is_exact(
    session_factory: SessionFactory, ledger: list[ActivityRecord]
) -> None:
    ordered = sorted(ledger, key=lambda r: (r.created_at, r.id or 0), reverse=True)
    with session_factory() as session:
        first = list_activity(session=session, limit=25)
        later = list_activity(session=session, limit=25, offset=100)
        alice = list_activity(session=session, user="alice", start=NOW - timedelta(hours=6), limit=1000)
    assert first.total == later.total == 400
    assert [i.request_id for i in first.items] == [r.request_id for r in ordered[:25]]
    assert [i.request_id for i in later.items] == [r.request_id for r in ordered[100:125]]
    expected = [
        r.request_id for r in ordered if r.username == "alice" and r.created_at >= NOW - timedelta(hours=6)
    ]
    assert [i.request_id for i in alice.items] == expected and alice.total == len(expected)
