"""The embedded mode's ledger: a journal of memory-mapped segment files under
`<data dir>/ledger/`, drained into the database by the flusher (`stores.ledger` has the
record format, the inserts and the flusher's threads).

    _Segment        the file this process appends to (no system call per record)
    JournalLedger   append, rotate and drain; replay what earlier runs left
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import mmap
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from maestro_app.stores.ledger import (
    BATCH_SIZE,
    Flusher,
    Record,
    decode_record,
    encode_record,
    insert_records,
    letting_the_loop_in,
)

logger = logging.getLogger(__name__)

SEGMENT_BYTES = 4 * 1024 * 1024


class _Segment:
    """The journal segment this process appends to: a file of `SEGMENT_BYTES` reserved when
    it is made (`posix_fallocate`: a full disk fails here, as an OSError, and not later as a
    SIGBUS), mapped shared. An append is a copy into the page cache with no system call (it
    was one `write()` per record, about 6 % of the event loop's busy time at full load);
    like `write()`, what was copied survives the process being killed, not the machine
    losing power (the journal never fsyncs). The flock tells other processes sharing the
    data dir that the segment is still written; closing cuts the unused tail off first, so
    a closed segment is lines only. One left by a killed process keeps its zero padding,
    which `_read_lines` stops at."""

    def __init__(self, path: Path) -> None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if hasattr(os, "posix_fallocate"):
                os.posix_fallocate(fd, 0, SEGMENT_BYTES)
            else:  # macOS: a sparse file (a full disk would then show as SIGBUS, not OSError)
                os.ftruncate(fd, SEGMENT_BYTES)
            self._map = mmap.mmap(fd, SEGMENT_BYTES)
        except BaseException:
            os.close(fd)
            path.unlink(missing_ok=True)
            raise
        self.path = path
        self._fd = fd
        self.used = 0
        self.count = 0

    def append(self, line: bytes) -> bool:
        """Copy one line in; False when it does not fit (the caller rotates)."""
        end = self.used + len(line)
        if end > SEGMENT_BYTES:
            return False
        self._map[self.used : end] = line
        self.used = end
        self.count += 1
        return True

    def close(self) -> None:
        self._map.close()
        os.ftruncate(self._fd, self.used)
        os.close(self._fd)  # releases the flock: the segment may be drained


def _read_lines(fh: Any) -> list[bytes]:
    data = fh.read()
    end = data.find(b"\0")  # the unused tail of a segment whose process was killed
    return (data if end < 0 else data[:end]).splitlines()


class JournalLedger(Flusher):
    def __init__(self, engine: Engine, directory: Path, *, interval: float = 0.5) -> None:
        self._engine = engine
        self._dir = directory
        self.interval = interval
        self._segment: _Segment | None = None
        self._seq = 0
        self._lock = asyncio.Lock()
        self.written = 0

    def _segments(self) -> list[Path]:
        return sorted(self._dir.glob("journal-*.ndjson"))

    def _open_next(self) -> None:
        self._seq += 1
        segment = _Segment(self._dir / f"journal-{self._seq:012d}-{os.getpid()}.ndjson")
        if self._segment is not None:
            self._segment.close()
        self._segment = segment

    def replay(self) -> int:
        """Insert what earlier runs left in the journal (blocking; called before start)."""
        self._dir.mkdir(parents=True, exist_ok=True)
        done = self._drain(self._segments())
        if done:
            logger.info("replayed %d activity record(s) from the journal", done)
        return done

    async def start(self) -> None:
        self._dir.mkdir(parents=True, exist_ok=True)
        existing = self._segments()
        if existing:
            self._seq = max(int(p.name.split("-")[1]) for p in existing)
        self._open_next()
        self._start_loop("ledger-journal-flusher")

    async def append(self, record: Record) -> None:
        assert self._segment is not None, "the ledger is not started"
        line = encode_record(record) + b"\n"
        if not self._segment.append(line):
            self._open_next()  # full before the next flush: a new segment now
            if not self._segment.append(line):
                raise ValueError(f"an activity record of {len(line)} bytes exceeds a journal segment")

    def pending(self) -> int:
        return self._segment.count if self._segment is not None else 0

    async def depth(self) -> int:
        # This process's open segment; closed ones are being inserted by the flusher now.
        return self.pending()

    async def flush(self) -> None:
        async with self._lock:
            if self._segment is None:
                return
            if self._segment.count:
                self._open_next()
            closed = [p for p in self._segments() if p.name != self._segment.path.name]
            if closed:
                await self._in_flush_thread(self._drain, closed)

    async def stop(self) -> None:
        await self._stop_loop()
        await self.flush()
        if self._segment is not None:
            self._segment.close()
            self._segment.path.unlink(missing_ok=True)  # empty after the final flush
            self._segment = None

    def _drain(self, segments: Iterable[Path]) -> int:
        """Insert and delete closed segments. A segment another live process still writes
        (it holds the lock) or has just drained (gone) is skipped."""
        total = 0
        for path in segments:
            try:
                fh = open(path, "rb")  # noqa: SIM115 (closed below)
            except FileNotFoundError:
                continue
            with fh:
                try:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue
                # In batches: a segment written while a flush lagged holds many intervals'
                # worth of records, and decoded records are ten times their journal lines.
                lines = _read_lines(fh)
                for start in range(0, len(lines), BATCH_SIZE):
                    batch = lines[start : start + BATCH_SIZE]
                    decoded = [r for r in map(decode_record, letting_the_loop_in(batch)) if r]
                    total += insert_records(self._engine, decoded)
                path.unlink(missing_ok=True)
        self.written += total
        return total
