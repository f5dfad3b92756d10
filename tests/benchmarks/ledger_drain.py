"""What the embedded ledger's flusher costs per record (issue 7, profile follow-up).

    python -m tests.benchmarks.ledger_drain [--records 2000] [--repeat 5]

On a migrated SQLite database (temporary directory), times per record: decoding a journal
line; `insert_records`, what the flusher does (DB-API `executemany` of tuples, the rollups
summed once per batch, migrations 0006 and 0008); and, for comparison, the same with an
idle row trigger on the table (what 0008 removed) and without the request log's filter
indexes. The flusher runs in the gateway
worker (a to_thread), so every microsecond here is CPU taken from the event loop's core;
`GIL-held` is the part spent outside SQLite (the sqlite3 module releases the GIL around
each step), which the event loop waits for.
Not collected by pytest (`tests/benchmarks` is excluded in pyproject.toml).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text

from maestro_app.db.engine import make_engine, run_migrations
from maestro_app.db.models import utcnow
from maestro_app.domain.ids import new_request_id
from maestro_app.stores.ledger import _sqlite_row, decode_record, encode_record, insert_records


def sample_record() -> dict[str, Any]:
    """A record as `Gateway.record` writes it for a streamed chat answer."""
    return {
        "request_id": new_request_id(),
        "user_id": 2,
        "username": "bench",
        "model": "coder",
        "real_model": "qwen2.5-coder:7b",
        "node_id": 1,
        "node_name": "bench",
        "endpoint": "/v1/chat/completions",
        "source": "openai",
        "stream": True,
        "status_code": 200,
        "prompt_tokens": 12,
        "completion_tokens": 32,
        "total_tokens": 44,
        "estimated": False,
        "duration_ms": 3.21,
        "ttfb_ms": 1.05,
        "error": None,
        "created_at": utcnow(),
    }


def per_record_us(fn: Callable[[], None], n: int, repeat: int, reset: Callable[[], None]) -> float:
    times = []
    for _ in range(repeat):
        reset()
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) / n * 1e6)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2000, help="records per flush (0.5 s at 4,000 req/s)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    n = args.records
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'maestro.db'}")
        run_migrations(engine, data_dir=Path(tmp))
        lines = [encode_record(sample_record()) for _ in range(n)]
        decoded: list[dict[str, Any]] = []

        def fresh() -> None:
            decoded[:] = [r for r in map(decode_record, lines) if r]
            for r in decoded:
                r["request_id"] = new_request_id()  # new rows each round, ordered as the gateway's

        def decode_only() -> None:
            [decode_record(x) for x in lines]

        results = {
            "decode a journal line (orjson + fromisoformat)": per_record_us(
                decode_only, n, args.repeat, lambda: None
            ),
            "insert_records (what the flusher does: executemany, rollups per batch)": per_record_us(
                lambda: insert_records(engine, decoded), n, args.repeat, fresh
            ),
            "GIL-held part of insert_records (building the rows)": per_record_us(
                lambda: [_sqlite_row(r) for r in decoded], n, args.repeat, fresh
            ),
        }
        # What a row trigger costs even when it does nothing (before migration 0008 the
        # insert trigger stood aside for the ledger's batches through its WHEN clause).
        with engine.begin() as conn:
            conn.execute(
                text("CREATE TRIGGER bench_idle AFTER INSERT ON activity_records WHEN 0 BEGIN SELECT 1; END")
            )
        results["insert_records with an idle row trigger (WHEN 0), as before 0008"] = per_record_us(
            lambda: insert_records(engine, decoded), n, args.repeat, fresh
        )
        with engine.begin() as conn:
            conn.execute(text("DROP TRIGGER bench_idle"))
        with engine.begin() as conn:
            indexes = conn.execute(
                text(
                    "SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name='activity_records' AND sql IS NOT NULL"
                )
            ).all()
            for name, _ in indexes:
                if "request_id" not in name:
                    conn.execute(text(f'DROP INDEX "{name}"'))
        results[
            f"insert_records, {sum('request_id' not in i[0] for i in indexes)} log-filter indexes dropped"
        ] = per_record_us(lambda: insert_records(engine, decoded), n, args.repeat, fresh)
        engine.dispose()
    print(f"{n} records per flush, median of {args.repeat}; µs per record:")
    for label, us in results.items():
        print(f"  {us:7.1f}  {label}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
