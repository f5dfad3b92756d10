"""The activity ledger: every record is made durable before the client's answer ends,
then written to the database in batches, idempotently (by request id).

    JournalLedger      embedded mode (`stores.journal`): append one line to a local journal
                       segment (a copy into a shared memory map of the file: survives a
                       kill -9 of the process); the flusher rotates the segment, inserts its
                       records, deletes it. Leftover segments are replayed at start.
    RedisStreamLedger  scaled mode: XADD to a Redis stream; flushers of every process read
                       it through one consumer group, insert, then XACK + XDEL. Entries a
                       dead process had read but not acknowledged are claimed after
                       `claim_idle_s`.

Inserting twice is harmless (`ON CONFLICT (request_id) DO NOTHING`), so a crash between the
insert and the acknowledgement only replays, never duplicates.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
import operator
import os
import re
import secrets
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

import orjson
from redis.asyncio import Redis
from redis.exceptions import ResponseError
from sqlalchemy import BigInteger, Engine, Integer, String
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel.sql.sqltypes import AutoString

from maestro_app.db.engine import as_background_work
from maestro_app.db.models import ActivityRecord

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
Record = dict[str, Any]
T = TypeVar("T")


class Ledger(Protocol):
    written: int

    async def append(self, record: Record) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def flush(self) -> None: ...

    def pending(self) -> int: ...

    async def depth(self) -> int:
        """Records made durable but not yet inserted (the metrics' queue depth)."""
        ...


INT32 = 2**31 - 1
_COLUMNS = ActivityRecord.__table__.columns  # type: ignore[attr-defined]
_TEXT_COLUMNS = tuple((c.name, c.type.length) for c in _COLUMNS if isinstance(c.type, String | AutoString))
_INT_COLUMNS = tuple(
    c.name for c in _COLUMNS if isinstance(c.type, Integer) and not isinstance(c.type, BigInteger)
)


def _fit_text(value: str, limit: int | None) -> str:
    if value.isascii():  # only NULs can be wrong
        text = value.replace("\x00", "\ufffd")
    else:
        text = value.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")
    return text[:limit] if limit else text


def fit_record(record: Record) -> Record:
    """The record as the database will take it, whatever a client or a node sent: text cut
    to its column's length, without NUL characters (PostgreSQL refuses them) or lone
    surrogates (not UTF-8), whole numbers within the 32-bit columns. One record the database
    refuses would otherwise stop every later one in the queue. Asked of every request (on
    the event loop): a record that fits, the usual one, is returned as it is, not copied."""
    fitted = record
    for key, limit in _TEXT_COLUMNS:
        value = record.get(key)
        if not isinstance(value, str):
            continue
        if value.isascii() and "\x00" not in value and (limit is None or len(value) <= limit):
            continue
        if fitted is record:
            fitted = dict(record)
        fitted[key] = _fit_text(value, limit)
    for key in _INT_COLUMNS:
        value = record.get(key)
        if value.__class__ is int and not -INT32 - 1 <= value <= INT32:
            if fitted is record:
                fitted = dict(record)
            fitted[key] = max(-INT32 - 1, min(INT32, value))
    return fitted


def encode_record(record: Record) -> bytes:
    return orjson.dumps(fit_record(record))  # datetimes become RFC 3339 strings


def decode_record(raw: bytes) -> Record | None:
    try:
        record = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None  # a line torn by a crash mid-write
    if not isinstance(record, dict) or not record.get("request_id"):
        return None
    # Lines journalled before the column existed (replayed after an upgrade) lack it; every
    # row of one batch insert needs the same keys.
    record.setdefault("client_request_id", None)
    # `created_at` stays RFC 3339 text: each database's insert turns it into its own form.
    return record


def _as_datetime(value: Any) -> Any:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value


def insert_records(engine: Engine, records: list[Record]) -> int:
    """Insert, skipping request ids already stored, and update the hourly rollups (SQLite:
    here, once per batch; PostgreSQL: its statement triggers). The only writer of the
    request log. Returns how many were given."""
    if not records:
        return 0
    if engine.dialect.name == "sqlite":
        _insert_sqlite(engine, records)
        return len(records)
    records = [
        {**r, "created_at": _as_datetime(r["created_at"])} if isinstance(r.get("created_at"), str) else r
        for r in records
    ]  # the journal's text as a datetime; the caller's records left as they are
    table = ActivityRecord.__table__  # type: ignore[attr-defined]
    make = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    with as_background_work(), engine.begin() as conn:
        for start in range(0, len(records), BATCH_SIZE):
            stmt = make(table).on_conflict_do_nothing(index_elements=["request_id"])
            conn.execute(stmt, records[start : start + BATCH_SIZE])
    return len(records)


# -- SQLite: the flusher's own batch path -------------------------------------------------
#
# The flusher runs in a thread of the gateway worker. Through SQLAlchemy, and with the rollup
# trigger's two upserts per row, a batch held the GIL for most of its ~0.3 ms per record, and
# every socket write of the event loop waited up to the 5 ms switch interval for it. Here the
# rows are plain tuples given to `executemany` (the sqlite3 module releases the GIL around
# each step), and the rollups are summed once per batch (migration 0006). The table has no
# insert trigger on SQLite (migration 0008: SQLite ran a trigger program per inserted row
# even to find its WHEN clause false, half of an insert's cost), so this is the one way
# records may be written there: it keeps the rollups exact.

_SQLITE_COLUMNS = tuple(c.name for c in _COLUMNS if c.name != "id")
_SQLITE_INSERT = (
    f"INSERT INTO activity_records ({', '.join(_SQLITE_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _SQLITE_COLUMNS)}) ON CONFLICT (request_id) DO NOTHING"
)
# The hour of the stored text (below): what strftime('%Y-%m-%d %H:00:00.000000') gives of
# it, at a fraction of strftime's cost per row.
_SQLITE_HOUR = "substr(created_at, 1, 13) || ':00:00.000000'"
# The records this transaction inserted are those above the largest id before it: the
# transaction holds SQLite's write lock from its first statement (BEGIN IMMEDIATE).
_SQLITE_ROLLUPS = (
    f"""INSERT INTO activity_hourly
        (bucket, model, requests, errors, prompt_tokens, completion_tokens, total_tokens, duration_ms)
    SELECT {_SQLITE_HOUR}, coalesce(model, ''), count(*), sum(status_code >= 400), sum(prompt_tokens),
           sum(completion_tokens), sum(total_tokens), sum(duration_ms)
    FROM activity_records WHERE id > ? GROUP BY 1, 2
    ON CONFLICT (bucket, model) DO UPDATE SET
        requests = activity_hourly.requests + excluded.requests,
        errors = activity_hourly.errors + excluded.errors,
        prompt_tokens = activity_hourly.prompt_tokens + excluded.prompt_tokens,
        completion_tokens = activity_hourly.completion_tokens + excluded.completion_tokens,
        total_tokens = activity_hourly.total_tokens + excluded.total_tokens,
        duration_ms = activity_hourly.duration_ms + excluded.duration_ms""",
    f"""INSERT INTO activity_hourly_users (bucket, username, requests, errors, total_tokens)
    SELECT {_SQLITE_HOUR}, coalesce(username, ''), count(*), sum(status_code >= 400), sum(total_tokens)
    FROM activity_records WHERE id > ? GROUP BY 1, 2
    ON CONFLICT (bucket, username) DO UPDATE SET
        requests = activity_hourly_users.requests + excluded.requests,
        errors = activity_hourly_users.errors + excluded.errors,
        total_tokens = activity_hourly_users.total_tokens + excluded.total_tokens""",
)


_sqlite_values = operator.itemgetter(*_SQLITE_COLUMNS)


def _sqlite_default(name: str) -> Any:
    default = _COLUMNS[name].default
    if default is None:
        return None
    return default.arg(None) if default.is_callable else default.arg


_SQLITE_CREATED_AT = _SQLITE_COLUMNS.index("created_at")


# RFC 3339 as orjson writes a datetime: UTC ("+00:00"), or naive; microseconds when not 0.
_RFC3339_UTC = re.compile(r"(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?(?:Z|\+00:00)?")


def sqlite_time(value: Any) -> Any:
    """`created_at` as SQLAlchemy's SQLite DateTime stores it, `YYYY-MM-DD HH:MM:SS.ffffff`
    in UTC (what the rollups and every query read), from a datetime or from the journal's
    RFC 3339 text. The text's usual forms are rewritten, not parsed: strftime() and
    fromisoformat() were a fifth of the flusher's time per record."""
    if isinstance(value, str):
        if match := _RFC3339_UTC.fullmatch(value):
            day, clock, fraction = match.groups()
            return f"{day} {clock}.{(fraction or '').ljust(6, '0')}"
        value = _as_datetime(value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(" ", "microseconds")
    return value


def _sqlite_row(record: Record) -> list[Any]:
    try:
        row = list(_sqlite_values(record))
    except KeyError:  # a partial record: the columns' defaults, as SQLAlchemy gives them
        row = [record[name] if name in record else _sqlite_default(name) for name in _SQLITE_COLUMNS]
    row[_SQLITE_CREATED_AT] = sqlite_time(row[_SQLITE_CREATED_AT])
    return row


def _insert_sqlite(engine: Engine, records: list[Record]) -> None:
    rows = [_sqlite_row(record) for record in letting_the_loop_in(records)]
    conn = engine.raw_connection()  # pooled, with the engine's pragmas; SQLAlchemy sees no query
    try:
        cur = conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            (after,) = cur.execute("SELECT coalesce(max(id), 0) FROM activity_records").fetchone()
            cur.executemany(_SQLITE_INSERT, rows)
            for statement in _SQLITE_ROLLUPS:
                cur.execute(statement, (after,))
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            cur.close()
    finally:
        conn.close()  # back to the pool


def letting_the_loop_in(items: list[T], every: int = 50) -> Iterator[T]:
    """The items, with the GIL let go after every `every` of them. Decoding or shaping a
    batch of records is pure Python: the flusher would hold the GIL through all of it, and
    the event loop, wanting it back after each system call, would wait up to the 5 ms
    switch interval each time (seen as 4-10 ms stalls of the loop during flushes). Each
    `time.sleep(0)` hands it over (~50 records are ~0.2 ms of work)."""
    for start in range(0, len(items), every):
        if start:
            time.sleep(0)
        yield from items[start : start + every]


FLUSH_NICE = 10


def _yield_to_the_event_loop() -> None:
    """Run this thread at a low priority (Linux: a thread's own nice value), so the
    scheduler gives the core to the event loop first: a flush is some tens of milliseconds
    of CPU that would otherwise be shared half and half with live requests on a one-core
    worker, and show in their tail latency. Nice 10 weighs 110 against the loop's 1024:
    about a tenth of a saturated core, more than the ~7 % the flusher needs at the
    worker's full rate (nice 19, ~1.5 %, fell behind and handed over to the catch-up
    thread, whose bursts at an even share were what the loop's tail latency showed)."""
    if sys.platform == "linux":
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), FLUSH_NICE)


# Flushes run in one of two threads (each ledger's flushes are serialised by its lock): the
# yielding one while the ledger keeps up, and one at normal priority while it is behind (a
# flush took longer than the interval): a low-priority thread alone could fall behind for as
# long as a load above its share lasts. An unprivileged thread cannot lower its nice value
# again, hence two threads.
_FLUSH_THREAD = ThreadPoolExecutor(
    max_workers=1, thread_name_prefix="ledger-flush", initializer=_yield_to_the_event_loop
)
_CATCH_UP_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger-catch-up")


class Flusher(abc.ABC):
    """The periodic part shared by both ledgers."""

    interval: float
    _task: asyncio.Task[None] | None = None
    _behind = False  # the last flush took longer than the interval

    async def _in_flush_thread(self, fn: Callable[..., T], *args: Any) -> T:
        executor = _CATCH_UP_THREAD if self._behind else _FLUSH_THREAD
        started = time.monotonic()
        try:
            return await asyncio.get_running_loop().run_in_executor(executor, fn, *args)
        finally:
            self._behind = time.monotonic() - started > self.interval

    @abc.abstractmethod
    async def flush(self) -> None: ...

    def _start_loop(self, name: str) -> None:
        self._task = asyncio.create_task(self._loop(), name=name)

    async def _stop_loop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.flush()
            except Exception:
                logger.exception("ledger flush failed; records stay queued and are retried")


class RedisStreamLedger(Flusher):
    def __init__(
        self,
        engine: Engine,
        redis: Redis,
        *,
        stream: str,
        interval: float = 0.5,
        claim_idle_s: float = 30.0,
    ) -> None:
        self._engine = engine
        self._redis = redis
        self._stream = stream
        self._group = "flushers"
        self._consumer = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self.interval = interval
        self._claim_idle_ms = int(claim_idle_s * 1000)
        self._lock = asyncio.Lock()
        self._appended = 0
        self.written = 0

    async def _ensure_group(self) -> None:
        with contextlib.suppress(ResponseError):  # BUSYGROUP: it exists already
            await self._redis.xgroup_create(self._stream, self._group, id="0", mkstream=True)

    async def start(self) -> None:
        await self._ensure_group()
        self._start_loop("ledger-stream-flusher")

    async def append(self, record: Record) -> None:
        await self._redis.xadd(self._stream, {b"r": encode_record(record)})
        self._appended += 1

    def pending(self) -> int:
        return self._appended

    async def depth(self) -> int:
        # Entries are deleted once inserted: the stream's length is the whole deployment's queue.
        return int(await self._redis.xlen(self._stream))

    async def flush(self) -> None:
        async with self._lock:
            try:
                await self._flush_locked()
            except ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                # The stream was deleted under us (Redis flushed): start it again.
                await self._ensure_group()

    async def _flush_locked(self) -> None:
        await self._process(await self._claim_stale())
        while True:
            reply = await self._redis.xreadgroup(
                self._group, self._consumer, {self._stream: ">"}, count=BATCH_SIZE
            )
            entries = reply[0][1] if reply else []
            if not entries:
                break
            await self._process(entries)
        self._appended = 0

    async def _claim_stale(self) -> list[Any]:
        claimed: list[Any] = []
        cursor: Any = "0-0"
        while True:
            reply = await self._redis.xautoclaim(
                self._stream, self._group, self._consumer, self._claim_idle_ms, cursor, count=BATCH_SIZE
            )
            cursor, entries = reply[0], reply[1]
            claimed.extend(e for e in entries if e and e[1])
            if cursor in (b"0-0", "0-0") or not entries:
                return claimed

    async def _process(self, entries: list[Any]) -> None:
        if not entries:
            return
        records = [r for _, fields in entries if (r := decode_record(fields.get(b"r", b"")))]
        await self._in_flush_thread(insert_records, self._engine, records)
        ids = [entry_id for entry_id, _ in entries]
        await self._redis.xack(self._stream, self._group, *ids)
        await self._redis.xdel(self._stream, *ids)
        self.written += len(records)

    async def stop(self) -> None:
        await self._stop_loop()
        await self.flush()
