"""The request log, usage reports and dashboard queries against 1,000,000 activity rows.

    python -m tests.benchmarks.activity_queries [--rows N] [--days D] [--repeat R] [--explain]

Creates its own PostgreSQL database `maestro_bench_<random>` next to `MAESTRO_TEST_PG`
(default `postgresql://postgres@127.0.0.1:5432/postgres`), migrates it like a gateway start,
seeds users and activity rows with COPY (heavy and light users, popular and rare models,
nodes, client sources, ~5% errors, a day/night rhythm over `--days` days, appended in time
order as the ledger writes them), runs VACUUM ANALYZE (what autovacuum does to an
insert-only table), then times every query through the same service functions the admin API
calls and prints p50/p95/max per query. `--explain` also prints each query's plan. The
database is dropped at the end, also on failure or Ctrl-C.

Not collected by pytest (`tests/benchmarks` is excluded in pyproject.toml).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import Session

from maestro_app.db.engine import make_engine, run_migrations
from maestro_app.db.models import ActivityRecord
from maestro_app.services import activity_query, dashboard

logger = logging.getLogger("benchmark")

PG_ADMIN_URL = os.environ.get("MAESTRO_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
GOAL_MS = 100.0  # p95, for every read query
WRITE = "write:"

# (display model, real model, weight): a mapped chat model, plain models, a long tail.
MODELS: list[tuple[str, str, float]] = [
    ("chat", "llama3.1:8b-instruct-q4_K_M", 30.0),
    ("qwen2.5-coder:32b", "qwen2.5-coder:32b", 18.0),
    ("gpt-oss:20b", "gpt-oss:20b", 12.0),
    ("nomic-embed-text", "nomic-embed-text:latest", 10.0),
    ("code", "Qwen/Qwen2.5-Coder-7B-Instruct", 8.0),
    ("llama3.3:70b", "llama3.3:70b", 5.0),
    ("mistral-small3.1", "mistral-small3.1:24b", 4.0),
    ("deepseek-r1:14b", "deepseek-r1:14b", 3.0),
] + [(f"team-model-{i:02d}", f"org/team-model-{i:02d}", 0.5) for i in range(16)]
NODES = [f"gpu-{i}" for i in range(1, 9)]
SOURCES: list[tuple[str, float]] = [
    ("openai-sdk", 22),
    ("open-webui", 18),
    ("cursor", 12),
    ("continue", 9),
    ("claude-code", 8),
    ("ollama-sdk", 7),
    ("cline", 6),
    ("codex", 4),
    ("langchain", 4),
    ("openai", 3),
    ("ollama", 3),
    ("curl", 2),
    ("grafana", 1),
    ("litellm", 1),
]
ENDPOINTS: list[tuple[str, float]] = [
    ("/v1/chat/completions", 55),
    ("/api/chat", 20),
    ("/v1/embeddings", 8),
    ("/api/generate", 6),
    ("/v1/messages", 6),
    ("/v1/responses", 3),
    ("/api/embed", 2),
]
STATUSES: list[tuple[int, float]] = [
    (200, 94.5),
    (429, 2.0),
    (499, 1.0),
    (502, 1.0),
    (404, 0.6),
    (500, 0.5),
    (400, 0.3),
    (503, 0.1),
]
ERRORS = {
    400: "Invalid request: 'messages' must be a list",
    404: "model 'x' not found",
    429: "Daily request limit reached",
    499: "client closed the request",
    500: "upstream returned 500: CUDA out of memory",
    502: "upstream connection refused",
    503: "no healthy node for the model",
}
COLUMNS = (
    "request_id",
    "user_id",
    "username",
    "model",
    "real_model",
    "node_id",
    "node_name",
    "endpoint",
    "source",
    "stream",
    "status_code",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "estimated",
    "duration_ms",
    "ttfb_ms",
    "error",
    "created_at",
)


@dataclass(frozen=True)
class Seeded:
    now: datetime
    users: list[str]  # busiest first
    rows: int
    days: int


def _pg(sql: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


def _url(dbname: str, *, driver: bool) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    if driver:
        base = base.replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{dbname}"


@contextlib.contextmanager
def bench_database(*, keep: bool) -> Iterator[str]:
    name = f"maestro_bench_{secrets.token_hex(4)}"
    _pg(f'CREATE DATABASE "{name}"')
    logger.info("created database %s", name)
    try:
        yield name
    finally:
        if keep:
            logger.info('kept database %s (drop it with: DROP DATABASE "%s")', name, name)
        else:
            _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            logger.info("dropped database %s", name)


def _zipf_weights(n: int, s: float = 1.1) -> list[float]:
    return [1.0 / (rank**s) for rank in range(1, n + 1)]


def _timestamps(rng: random.Random, rows: int, days: int, now: datetime) -> list[datetime]:
    """`rows` moments over the last `days` days, busier in (UTC) working hours, ascending."""
    hour_weight = [0.25 + math.exp(-(((h - 14) / 4.0) ** 2)) for h in range(24)]
    start = now - timedelta(days=days)
    hours = days * 24
    weights = [hour_weight[(start + timedelta(hours=i)).hour] for i in range(hours)]
    picked = rng.choices(range(hours), weights=weights, k=rows)
    moments = [start + timedelta(hours=h, seconds=rng.random() * 3600) for h in picked]
    moments.sort()
    return [min(m, now) for m in moments]


def seed(url: str, *, rows: int, days: int, users: int, rng: random.Random) -> Seeded:
    now = datetime.now(UTC)
    names = [f"user-{i:04d}" for i in range(1, users + 1)]
    with psycopg.connect(url) as conn:
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY users (username, is_active, all_models, allowed_models, can_manage_models, "
                "created_at, updated_at) FROM STDIN"
            ) as copy,
        ):
            for name in names:
                copy.write_row((name, True, True, "[]", False, now, now))
        user_ids = dict(conn.execute("SELECT username, id FROM users").fetchall())
        logger.info("seeding %d activity rows over %d days", rows, days)
        started = time.perf_counter()
        moments = _timestamps(rng, rows, days, now)
        who = rng.choices(names, weights=_zipf_weights(users), k=rows)
        model_idx = rng.choices(range(len(MODELS)), weights=[w for *_, w in MODELS], k=rows)
        node_idx = rng.choices(range(len(NODES)), weights=_zipf_weights(len(NODES), 0.6), k=rows)
        sources = rng.choices([s for s, _ in SOURCES], weights=[w for _, w in SOURCES], k=rows)
        endpoints = rng.choices([e for e, _ in ENDPOINTS], weights=[w for _, w in ENDPOINTS], k=rows)
        statuses = rng.choices([s for s, _ in STATUSES], weights=[w for _, w in STATUSES], k=rows)
        with (
            conn.cursor() as cur,
            cur.copy(f"COPY activity_records ({', '.join(COLUMNS)}) FROM STDIN") as copy,
        ):
            for i in range(rows):
                display, real, _ = MODELS[model_idx[i]]
                status = statuses[i]
                endpoint = endpoints[i]
                embedding = "embed" in endpoint
                failed = status >= 400
                prompt = 0 if status in (400, 404, 429) else int(rng.lognormvariate(6.2, 1.1))
                completion = 0 if embedding or failed else int(rng.lognormvariate(5.0, 1.0))
                duration = rng.lognormvariate(7.0, 0.9)
                copy.write_row(
                    (
                        uuid.UUID(int=rng.getrandbits(128)).hex,
                        user_ids[who[i]],
                        who[i],
                        display,
                        real,
                        node_idx[i] + 1,
                        NODES[node_idx[i]],
                        endpoint,
                        sources[i],
                        not embedding and rng.random() < 0.6,
                        status,
                        prompt,
                        completion,
                        prompt + completion,
                        rng.random() < 0.02,
                        round(duration, 2),
                        None if failed else round(duration * rng.uniform(0.02, 0.4), 2),
                        ERRORS.get(status),
                        moments[i],
                    )
                )
        conn.commit()
        logger.info("seeded in %.1f s", time.perf_counter() - started)
    with psycopg.connect(url, autocommit=True) as conn:
        started = time.perf_counter()
        conn.execute("VACUUM (ANALYZE) activity_records")
        conn.execute("VACUUM (ANALYZE) users")
        logger.info("vacuum analyze in %.1f s", time.perf_counter() - started)
    return Seeded(now=now, users=names, rows=rows, days=days)


def reseen(dbname: str) -> Seeded:
    """What `seed` made, read back from a database kept with `--keep`."""
    with psycopg.connect(_url(dbname, driver=False)) as conn:
        row = conn.execute(
            "SELECT max(created_at), min(created_at), count(*) FROM activity_records"
        ).fetchone()
        users = conn.execute(
            "SELECT u.username FROM users u LEFT JOIN activity_records a ON a.username = u.username "
            "GROUP BY u.username ORDER BY count(a.id) DESC, u.username"
        ).fetchall()
    assert row is not None and row[0] is not None, "the database holds no activity"
    newest, oldest, rows = row
    return Seeded(
        now=newest.astimezone(UTC),
        users=[u for (u,) in users],
        rows=rows,
        days=max(1, round((newest - oldest) / timedelta(days=1))),
    )


def queries(s: Seeded) -> list[tuple[str, Callable[[Session], Any]]]:
    heavy, middle, rare = s.users[0], s.users[20], s.users[-1]
    day_ago, week_ago, month_ago = (s.now - timedelta(days=d) for d in (1, 7, 30))
    today = s.now.date()

    def log(**filters: Any) -> Callable[[Session], Any]:
        return lambda session: activity_query.list_activity(session=session, limit=50, **filters)

    def usage(user: str, start: date) -> Callable[[Session], Any]:
        return lambda session: activity_query.user_usage(
            session=session, username=user, start=start, end=today
        )

    def stats(period: Any) -> Callable[[Session], Any]:
        return lambda session: dashboard.dashboard_stats(session=session, period=period, now=s.now)

    def chart(kind: Any, period: Any) -> Callable[[Session], Any]:
        return lambda session: dashboard.chart(session=session, kind=kind, period=period, now=s.now)

    return [
        ("log: newest page", log()),
        ("log: page at offset 10000", log(offset=10_000)),
        ("log: page at offset 100000", log(offset=100_000)),
        ("log: user (busiest)", log(user=heavy)),
        ("log: user (rare)", log(user=rare)),
        ("log: user + 7d", log(user=middle, start=week_ago)),
        ("log: model (display name)", log(model="chat")),
        ("log: model (real name) + 7d", log(model="qwen2.5-coder:32b", start=week_ago)),
        ("log: model (rare) + 30d", log(model="team-model-07", start=month_ago)),
        ("log: node", log(node="gpu-5")),
        ("log: node + 24h", log(node="gpu-2", start=day_ago)),
        ("log: source", log(source="cline")),
        ("log: source + 7d", log(source="grafana", start=week_ago)),
        ("log: status 5xx", log(status="5xx")),
        ("log: status 2xx", log(status="2xx")),
        ("log: status 429 + 7d", log(status="429", start=week_ago)),
        ("log: status 2xx + 24h", log(status="2xx", start=day_ago)),
        ("log: user+model+status+30d", log(user=middle, model="chat", status="2xx", start=month_ago)),
        ("log: 7d..1d window", log(start=week_ago, end=day_ago)),
        ("usage: busiest user, 30 days", usage(heavy, today - timedelta(days=29))),
        ("usage: middle user, today", usage(middle, today)),
        ("usage: rare user, 90 days", usage(rare, today - timedelta(days=89))),
        ("stats: 24h", stats("24h")),
        ("stats: 7d", stats("7d")),
        ("stats: 30d", stats("30d")),
        ("chart: requests 24h", chart("requests", "24h")),
        ("chart: requests 7d", chart("requests", "7d")),
        ("chart: requests 30d", chart("requests", "30d")),
        ("chart: tokens 24h", chart("tokens", "24h")),
        ("chart: tokens 7d", chart("tokens", "7d")),
        ("chart: tokens 30d", chart("tokens", "30d")),
        ("chart: models 24h", chart("models", "24h")),
        ("chart: models 7d", chart("models", "7d")),
        ("chart: models 30d", chart("models", "30d")),
        (f"{WRITE} ledger batch of 500", ledger_batches(s)),
    ]


def ledger_batches(s: Seeded, size: int = 500) -> Callable[[Session], Any]:
    """Inserts as the ledger's flusher does (executemany, skipping known request ids): what
    the indexes and rollup triggers cost the write path."""
    rng = random.Random(99)
    counter = iter(range(10**9))

    def batch() -> list[dict[str, Any]]:
        rows = []
        for _ in range(size):
            display, real, _ = rng.choice(MODELS)
            user = rng.choice(s.users)
            rows.append(
                {
                    "request_id": f"bench-write-{next(counter)}",
                    "user_id": None,
                    "username": user,
                    "model": display,
                    "real_model": real,
                    "node_id": 1,
                    "node_name": rng.choice(NODES),
                    "endpoint": "/v1/chat/completions",
                    "source": "openai-sdk",
                    "stream": True,
                    "status_code": 200,
                    "prompt_tokens": 100,
                    "completion_tokens": 50,
                    "total_tokens": 150,
                    "estimated": False,
                    "duration_ms": 800.0,
                    "ttfb_ms": 90.0,
                    "error": None,
                    "created_at": datetime.now(UTC),
                }
            )
        return rows

    statement = pg_insert(ActivityRecord.__table__).on_conflict_do_nothing(index_elements=["request_id"])

    ready = [batch() for _ in range(64)]  # built ahead: the timing is the database's

    def write(session: Session) -> None:
        session.execute(statement, ready.pop() if ready else batch())
        session.commit()

    return write


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


@contextlib.contextmanager
def capture_statements(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def remember(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", remember)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", remember)


def explain(engine: Engine, name: str, run: Callable[[Session], Any]) -> None:
    with capture_statements(engine) as seen, Session(engine) as session:
        run(session)
    out = sys.stdout
    out.write(f"\n=== {name}\n")
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        for statement, parameters in seen:
            with raw.cursor() as cur:
                cur.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statement, parameters)
                out.write("\n".join(row[0] for row in cur.fetchall()) + "\n---\n")
            raw.rollback()


def run(args: argparse.Namespace) -> int:
    if args.reuse:
        engine = make_engine(_url(args.reuse, driver=True))
        try:
            return measure(engine, reseen(args.reuse), args)
        finally:
            engine.dispose()
    rng = random.Random(args.seed)
    with bench_database(keep=args.keep) as name, tempfile.TemporaryDirectory() as data_dir:
        engine = make_engine(_url(name, driver=True))
        try:
            run_migrations(engine, data_dir=Path(data_dir))
            seeded = seed(_url(name, driver=False), rows=args.rows, days=args.days, users=args.users, rng=rng)
            return measure(engine, seeded, args)
        finally:
            engine.dispose()


def measure(engine: Engine, seeded: Seeded, args: argparse.Namespace) -> int:
    results = []
    for label, query in queries(seeded):
        if args.only and args.only not in label:
            continue
        timings = []
        for attempt in range(args.repeat + 1):
            with Session(engine) as session:
                started = time.perf_counter()
                query(session)
                elapsed = (time.perf_counter() - started) * 1000
            if attempt:  # the first run only warms the cache
                timings.append(elapsed)
        results.append((label, timings))
        if args.explain:
            explain(engine, label, query)
    report(results, rows=seeded.rows, days=seeded.days, repeat=args.repeat)
    # The goal (issue 3) is for what admins read; the ledger's batch insert is shown beside
    # them for what the indexes and rollups cost the write path (ms per batch of 500).
    reads = [t for label, t in results if not label.startswith(WRITE)]
    return 0 if all(_percentile(t, 0.95) < GOAL_MS for t in reads) else 1


def report(results: list[tuple[str, list[float]]], *, rows: int, days: int, repeat: int) -> None:
    width = max(len(label) for label, _ in results)
    lines = [
        f"\n{rows:,} activity rows over {days} days, {repeat} runs per query (after one warm-up)\n",
        f"{'query':<{width}}  {'p50 ms':>8}  {'p95 ms':>8}  {'max ms':>8}",
        f"{'-' * width}  {'-' * 8}  {'-' * 8}  {'-' * 8}",
    ]
    for label, timings in results:
        p95 = _percentile(timings, 0.95)
        if label.startswith(WRITE):
            flag = f"  (a write, no goal: {statistics.median(timings) / 500 * 1000:.0f} µs per record)"
        else:
            flag = "" if p95 < GOAL_MS else f"  over {GOAL_MS:.0f} ms"
        lines.append(
            f"{label:<{width}}  {statistics.median(timings):8.1f}  {p95:8.1f}  {max(timings):8.1f}{flag}"
        )
    sys.stdout.write("\n".join(lines) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90, help="spread of the rows (default: the retention)")
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--only", help="run only the queries whose name contains this")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of every statement")
    parser.add_argument("--keep", action="store_true", help="keep the database (to explore it afterwards)")
    parser.add_argument("--reuse", metavar="DBNAME", help="measure a database kept with --keep (no seeding)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    return run(args)


if __name__ == "__main__":
    raise SystemExit(main())
