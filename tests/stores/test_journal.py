"""`JournalLedger`, embedded mode's ledger: records appended to memory-mapped journal
segments reach the database at the next flush, a full segment rotates at once, and what a
killed process left (zero padding, a torn last line) is replayed without loss or junk.
The kill -9 under load, through real processes, is `tests/gateway/test_ledger_crash.py`."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from maestro_app.db.engine import make_engine, run_migrations
from maestro_app.db.models import ActivityRecord, utcnow
from maestro_app.stores import journal as journal_module
from maestro_app.stores.journal import JournalLedger, _Segment
from maestro_app.stores.ledger import encode_record


@pytest.fixture
def engine(database_url: str, tmp_path: Path) -> Iterator[Engine]:
    made = make_engine(database_url)
    run_migrations(made, data_dir=tmp_path)
    yield made
    made.dispose()


def record(request_id: str) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "username": "alice",
        "model": "coder",
        "real_model": "qwen2.5-coder:7b",
        "endpoint": "/v1/chat/completions",
        "stream": True,
        "estimated": False,
        "status_code": 200,
        "prompt_tokens": 12,
        "completion_tokens": 34,
        "total_tokens": 46,
        "duration_ms": 12.5,
        "created_at": utcnow(),
    }


def stored_ids(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.scalars(select(ActivityRecord.request_id)))


def stored_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(ActivityRecord)) or 0)


def test_appended_records_reach_the_database_at_the_flush(engine: Engine, tmp_path: Path) -> None:
    async def run() -> None:
        journal = JournalLedger(engine, tmp_path / "ledger", interval=60)
        await journal.start()
        for i in range(25):
            await journal.append(record(f"r-{i:02d}"))
        assert journal.pending() == 25 and await journal.depth() == 25
        await journal.flush()
        assert journal.pending() == 0 and journal.written == 25
        assert [p.stat().st_size for p in (tmp_path / "ledger").iterdir()] == [
            os.path.getsize(journal._segment.path)
        ]  # type: ignore[union-attr]
        await journal.stop()

    asyncio.run(run())
    assert stored_ids(engine) == [f"r-{i:02d}" for i in range(25)]
    assert list((tmp_path / "ledger").iterdir()) == []  # nothing left after a clean stop


def test_a_full_segment_rotates_without_waiting_for_the_flush(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    line = len(encode_record(record("r-000"))) + 1
    monkeypatch.setattr(journal_module, "SEGMENT_BYTES", 3 * line + 10)  # three records each

    async def run() -> None:
        journal = JournalLedger(engine, tmp_path / "ledger", interval=60)
        await journal.start()
        for i in range(10):
            await journal.append(record(f"r-{i:03d}"))
        assert len(list((tmp_path / "ledger").iterdir())) == 4  # 3 + 3 + 3 + 1
        await journal.flush()
        await journal.stop()

    asyncio.run(run())
    assert stored_count(engine) == 10


def test_a_killed_process_segment_is_replayed_without_its_padding_or_torn_line(
    engine: Engine, tmp_path: Path
) -> None:
    directory = tmp_path / "ledger"
    directory.mkdir()
    segment = _Segment(directory / f"journal-{7:012d}-{99999}.ndjson")
    for i in range(3):
        assert segment.append(encode_record(record(f"dead-{i}")) + b"\n")
    torn = encode_record(record("torn"))[:40]  # copied in part when the kill came
    segment._map[segment.used : segment.used + len(torn)] = torn
    # The process dies: the map and the lock go, nothing cuts the file to its data.
    segment._map.close()
    os.close(segment._fd)
    assert os.path.getsize(segment.path) == journal_module.SEGMENT_BYTES

    journal = JournalLedger(engine, directory)
    assert journal.replay() == 3
    assert stored_ids(engine) == ["dead-0", "dead-1", "dead-2"]
    assert list(directory.iterdir()) == []


def test_a_segment_another_live_process_writes_is_left_alone(engine: Engine, tmp_path: Path) -> None:
    directory = tmp_path / "ledger"
    directory.mkdir()
    other = _Segment(directory / f"journal-{1:012d}-{99998}.ndjson")  # holds its lock
    assert other.append(encode_record(record("theirs")) + b"\n")

    journal = JournalLedger(engine, directory)
    assert journal.replay() == 0 and stored_count(engine) == 0
    other.close()  # their rotation: the segment is now lines only, and unlocked
    assert os.path.getsize(other.path) == len(encode_record(record("theirs"))) + 1
    assert journal.replay() == 1 and stored_ids(engine) == ["theirs"]
