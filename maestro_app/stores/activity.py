"""Activity records leave the request path through a queue; a flusher writes batches.

`put` is a deque append (no I/O on the hot path). The flusher wakes every
`interval` seconds, or sooner when a batch is full, and inserts what is queued in one
transaction off the event loop. `stop` drains everything that is still queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import Any

from sqlalchemy import Engine, insert

from maestro_app.db.engine import as_background_work
from maestro_app.db.models import ActivityRecord

logger = logging.getLogger(__name__)


class ActivityQueue:
    def __init__(self, engine: Engine, *, interval: float = 0.5, batch_size: int = 500) -> None:
        self._engine = engine
        self._interval = interval
        self._batch_size = batch_size
        self._queue: deque[dict[str, Any]] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.written = 0

    def put(self, record: dict[str, Any]) -> None:
        self._queue.append(record)
        if len(self._queue) >= self._batch_size:
            self._wake.set()

    def __len__(self) -> int:
        return len(self._queue)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="activity-flusher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()

    async def flush(self) -> None:
        while self._queue:
            batch = [self._queue.popleft() for _ in range(min(len(self._queue), self._batch_size))]
            try:
                await asyncio.to_thread(self._write, batch)
            except Exception:
                logger.exception("writing %d activity records failed; will retry", len(batch))
                self._queue.extendleft(reversed(batch))
                raise

    def _write(self, batch: list[dict[str, Any]]) -> None:
        with as_background_work(), self._engine.begin() as conn:
            conn.execute(insert(ActivityRecord), batch)
        self.written += len(batch)

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._interval)
            self._wake.clear()
            try:
                await self.flush()
            except Exception:
                await asyncio.sleep(self._interval)
