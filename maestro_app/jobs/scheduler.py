"""One APScheduler (asyncio) per process, running the background jobs of `jobs.tasks`.

    job            interval setting            scaled mode (Redis)
    health_checks  health_check_interval_s     every process; each node probed once per
                                               interval by one of them (per-node claim)
    discovery      discovery_interval_s        one process per interval (lock + last run)
    warmup         warmup_interval_s           one process per interval (lock + last run)
    retention      retention_interval_s        one process per interval (lock + last run)
    shared_state   1 s, scaled mode only       every process (its own view of Redis)

Request logging is not a job here: the ledger's own flusher task writes activity records
(`stores.ledger`), started and drained with the runtime.

Intervals come from the snapshot's settings. `apply_settings` runs after every snapshot
reload (an admin write in this process, or the config poll noticing another process's), so
a new interval takes effect without a restart; `0` pauses a job (the settings service
refuses 0 for the health check). The first run of a job comes one interval after start
(retention: at most 5 minutes after, since processes may restart more often than daily).

Every run is bounded (`asyncio.timeout`); the lock of a singleton job lives longer than
that bound, so it never expires under a job that is still running.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from maestro_app.db.engine import as_background_work
from maestro_app.domain.snapshot import DEFAULT_SETTINGS
from maestro_app.jobs import tasks
from maestro_app.services.discovery import DISCOVERY_TIMEOUT_S
from maestro_app.services.health import HEALTH_TIMEOUT_S
from maestro_app.services.retention import TIME_LIMIT_S as RETENTION_TIME_LIMIT_S

if TYPE_CHECKING:
    from maestro_app.runtime import Runtime

logger = logging.getLogger(__name__)

SHARED_STATE_INTERVAL_S = 1.0
RETENTION_FIRST_RUN_MAX_S = 300.0
# Locks outlive a job's time limit by this much (clock drift, a slow release).
LOCK_MARGIN_S = 60.0
STOP_TIMEOUT_S = 5.0
# APScheduler logs every run at INFO ("Running job", "executed successfully"), which is
# noise for a job every second; ours log what they did. An operator's explicit level wins.
EXECUTOR = "maestro-jobs"
_run_log = logging.getLogger(f"apscheduler.executors.{EXECUTOR}")


def _stream_wait(settings: Mapping[str, Any]) -> float:
    return float(settings.get("job_stream_wait_s", DEFAULT_SETTINGS["job_stream_wait_s"]))


@dataclass(frozen=True, slots=True)
class JobSpec:
    name: str
    run: Callable[[Runtime], Awaitable[None]]
    # The setting holding the interval; None: `fixed_interval_s`
    interval_key: str | None
    # Upper bound of one run, from the settings (waits for streams count)
    time_limit_s: Callable[[Mapping[str, Any]], float]
    # Scaled mode: one process per interval, under a Redis lock
    singleton: bool = False
    fixed_interval_s: float = 0.0
    scaled_only: bool = False
    first_run_max_s: float | None = None


JOBS = (
    JobSpec(
        "health_checks",
        tasks.health_checks,
        "health_check_interval_s",
        time_limit_s=lambda _: 4 * HEALTH_TIMEOUT_S + 10,
    ),
    JobSpec(
        "discovery",
        tasks.discovery,
        "discovery_interval_s",
        time_limit_s=lambda s: _stream_wait(s) + 30 * DISCOVERY_TIMEOUT_S,
        singleton=True,
    ),
    JobSpec(
        "warmup",
        tasks.warmup,
        "warmup_interval_s",
        time_limit_s=lambda s: _stream_wait(s) + 600,
        singleton=True,
    ),
    JobSpec(
        "retention",
        tasks.retention,
        "retention_interval_s",
        # The purge stops itself at its own limit, between batches.
        time_limit_s=lambda _: RETENTION_TIME_LIMIT_S + 60,
        singleton=True,
        first_run_max_s=RETENTION_FIRST_RUN_MAX_S,
    ),
    JobSpec(
        "shared_state",
        tasks.shared_state,
        None,
        time_limit_s=lambda _: 10.0,
        fixed_interval_s=SHARED_STATE_INTERVAL_S,
        scaled_only=True,
        first_run_max_s=0.0,
    ),
)


class JobScheduler:
    def __init__(self, runtime: Runtime, *, jobs: tuple[JobSpec, ...] = JOBS) -> None:
        self.rt = runtime
        self.specs = {j.name: j for j in jobs if runtime.redis is not None or not j.scaled_only}
        # name -> interval in force (seconds; 0 = paused)
        self.intervals: dict[str, float] = {}
        # name -> runs completed by this process (skipped ones, run elsewhere, not counted)
        self.runs: dict[str, int] = dict.fromkeys(self.specs, 0)
        self._scheduler = AsyncIOScheduler(timezone=UTC, executors={EXECUTOR: AsyncIOExecutor()})
        if _run_log.level == logging.NOTSET:
            _run_log.setLevel(logging.WARNING)
        self._running: set[asyncio.Task[Any]] = set()
        self._closing = False

    def _interval(self, spec: JobSpec, settings: Mapping[str, Any]) -> float:
        if spec.interval_key is None:
            return spec.fixed_interval_s
        return max(0.0, float(settings.get(spec.interval_key, DEFAULT_SETTINGS[spec.interval_key])))

    def start(self) -> None:
        """Add every job and start; call from the event loop the jobs will run on."""
        now = datetime.now(UTC)
        settings = self.rt.snapshot.settings
        for spec in self.specs.values():
            interval = self._interval(spec, settings)
            self.intervals[spec.name] = interval
            trigger = IntervalTrigger(seconds=interval or 1.0, timezone=UTC)
            first = interval if spec.first_run_max_s is None else min(interval, spec.first_run_max_s)
            self._scheduler.add_job(
                self._run,
                trigger,
                args=[spec],
                executor=EXECUTOR,
                id=spec.name,
                name=spec.name,
                next_run_time=now + timedelta(seconds=first) if interval > 0 else None,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=None,
            )
        self._scheduler.start()
        logger.info("jobs scheduled: %s", ", ".join(f"{k} every {v:g} s" for k, v in self.intervals.items()))

    def apply_settings(self, settings: Mapping[str, Any]) -> None:
        """Reschedule the jobs whose interval setting changed (on the event loop thread)."""
        if self._closing:
            return
        for spec in self.specs.values():
            if spec.interval_key is None:
                continue
            interval = self._interval(spec, settings)
            if interval == self.intervals.get(spec.name):
                continue
            self.intervals[spec.name] = interval
            if interval <= 0:
                self._scheduler.pause_job(spec.name)
                logger.info("job %s turned off", spec.name)
            else:
                self._scheduler.reschedule_job(
                    spec.name, trigger=IntervalTrigger(seconds=interval, timezone=UTC)
                )
                logger.info("job %s now runs every %g s", spec.name, interval)

    async def shutdown(self) -> None:
        """Stop scheduling, cancel runs in progress and wait for them to unwind."""
        self._closing = True
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
            await asyncio.sleep(0)  # APScheduler's asyncio shutdown runs as a loop callback
        running = [t for t in self._running if not t.done()]
        for task in running:
            task.cancel()
        if running:
            await asyncio.wait(running, timeout=STOP_TIMEOUT_S)

    async def _run(self, spec: JobSpec) -> None:
        if self._closing:
            return
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            with as_background_work():
                if await self._run_once(spec):
                    self.runs[spec.name] += 1
        except TimeoutError:
            logger.warning("job %s ran past its time limit and was stopped", spec.name)
        except asyncio.CancelledError:
            if not self._closing:
                raise
        except Exception:
            logger.exception("job %s failed", spec.name)
        finally:
            if task is not None:
                self._running.discard(task)

    async def _run_once(self, spec: JobSpec) -> bool:
        settings = self.rt.snapshot.settings
        limit = spec.time_limit_s(settings)
        locks = self.rt.job_locks
        token = None
        if spec.singleton and locks is not None:
            interval = self.intervals.get(spec.name) or self._interval(spec, settings)
            token = await locks.claim(spec.name, interval_s=interval, ttl_s=limit + LOCK_MARGIN_S)
            if token is None:
                return False  # another process runs it, or ran it less than an interval ago
        try:
            async with asyncio.timeout(limit):
                await spec.run(self.rt)
        finally:
            if token is not None and locks is not None:
                try:
                    await locks.release(spec.name, token)
                except Exception:  # the lock expires on its own
                    logger.warning("releasing the lock of job %s failed", spec.name, exc_info=True)
        return True
