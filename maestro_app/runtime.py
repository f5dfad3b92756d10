"""Runtime resources of one worker, made in the lifespan and handed to whoever needs them.

Runtime(settings)          built by the composition root; holds no open resource yet
  .start()                 migrations, first-start seeding, MAESTRO_CONFIG, snapshot, upstream client,
                           activity flusher, config-version poll, job scheduler
  .snapshot                the current immutable routing snapshot (swapped atomically)
  .reload()                rebuild the snapshot now (after an admin write); reschedules
                           jobs whose interval setting changed
  .http                    the httpx client of health checks, discovery and warmup
  .stop()                  stop the jobs, drain the activity queue, close clients
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
from redis.asyncio import Redis
from sqlalchemy import Engine
from sqlmodel import Session

from maestro_app.db.engine import as_background_work, make_engine, run_migrations, session_scope
from maestro_app.domain.balancing import BalancerState
from maestro_app.domain.snapshot import Snapshot
from maestro_app.gateway.upstream import Timeouts, UpstreamClient
from maestro_app.jobs.scheduler import JobScheduler
from maestro_app.services import bootstrap
from maestro_app.services.config_import import apply_config_file
from maestro_app.services.discovery import discover_in_background
from maestro_app.services.snapshot import build_snapshot, read_config_version
from maestro_app.services.usage_counters import usage_today
from maestro_app.settings import Settings
from maestro_app.stores.job_locks import JobLocks
from maestro_app.stores.ledger import JournalLedger, Ledger, RedisStreamLedger
from maestro_app.stores.limits import LimitStore, MemoryLimitStore, RedisLimitStore, utc_day
from maestro_app.stores.shared_health import SharedHealth

logger = logging.getLogger(__name__)

CONFIG_POLL_INTERVAL_S = 1.0
# Health checks, discovery and warmup: cheap calls, except a model load (warmup sets its own).
JOB_HTTP_TIMEOUT = httpx.Timeout(30.0, connect=5.0)


class Runtime:
    def __init__(self, settings: Settings, *, engine: Engine | None = None) -> None:
        self.settings = settings
        self.engine = engine or make_engine(settings.db_url)
        self.snapshot = Snapshot()
        self.balancer = BalancerState()
        self.upstream = UpstreamClient(
            timeouts=Timeouts(
                connect=settings.upstream_connect_timeout_s,
                read=settings.upstream_read_timeout_s,
            ),
            max_connections=settings.upstream_max_connections,
        )
        # Scaled mode (REDIS_URL set): one client per worker, opened in start(); the limit
        # store and the ledger switch to their Redis versions then.
        self.redis: Redis | None = None
        self.limits: LimitStore = MemoryLimitStore()
        self.ledger: Ledger = JournalLedger(self.engine, settings.data_dir / "ledger")
        # Background jobs (made in start): their HTTP client, scheduler, and in scaled mode
        # the Redis-backed shared health and once-per-interval claims.
        self._http: httpx.AsyncClient | None = None
        self.scheduler: JobScheduler | None = None
        self.shared_health: SharedHealth | None = None
        self.job_locks: JobLocks | None = None
        self.process_id = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self._loop: asyncio.AbstractEventLoop | None = None
        self.started = False
        self._reload_lock = threading.Lock()
        self._poll_task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()
        # Nodes the start-up config file (MAESTRO_CONFIG) created or re-addressed.
        self._discover_at_start: list[int] = []

    # -- lifecycle -------------------------------------------------------------------

    def prepare(self) -> None:
        """Blocking start-up work: schema, first-start seeding, first snapshot."""
        run_migrations(self.engine, data_dir=self.settings.data_dir)
        with session_scope(self.engine) as session:
            bootstrap.seed_first_start(session, settings=self.settings)
        if self.settings.maestro_config is not None:
            applied = apply_config_file(
                engine=self.engine,
                data_dir=self.settings.data_dir,
                path=self.settings.maestro_config,
                prune=self.settings.maestro_config_prune,
                environ=os.environ,
            )
            self._discover_at_start = applied.rediscover
        if isinstance(self.ledger, JournalLedger):
            self.ledger.replay()
        if isinstance(self.limits, MemoryLimitStore):
            day = utc_day(self.limits.clock())
            with Session(self.engine) as session:
                self.limits.preload(day, usage_today(session, day=day))
        self.reload()

    def redis_key(self, *parts: object) -> str:
        """A Redis key under this deployment's prefix: `redis_key("limits", 3)` -> `maestro:limits:3`."""
        return ":".join((self.settings.redis_key_prefix, *map(str, parts)))

    async def start(self) -> None:
        if self.settings.redis_url:
            self.redis = Redis.from_url(self.settings.redis_url, decode_responses=False)
            await self.redis.ping()  # type: ignore[misc]
            self.limits = RedisLimitStore(self.redis, prefix=self.settings.redis_key_prefix)
            self.ledger = RedisStreamLedger(
                self.engine,
                self.redis,
                stream=self.redis_key("ledger"),
                claim_idle_s=self.settings.ledger_claim_idle_s,
            )
            prefix = self.settings.redis_key_prefix
            self.shared_health = SharedHealth(self.redis, prefix=prefix, process_id=self.process_id)
            self.job_locks = JobLocks(self.redis, prefix=prefix)
        self._loop = asyncio.get_running_loop()
        self._http = httpx.AsyncClient(timeout=JOB_HTTP_TIMEOUT)
        await asyncio.to_thread(self.prepare)
        for node_id in self._discover_at_start:
            self.discover_soon(node_id)
        await self.ledger.start()
        self._poll_task = asyncio.create_task(self._poll_config(), name="config-poll")
        self.scheduler = JobScheduler(self)
        self.scheduler.start()
        self.started = True
        logger.info(
            "runtime started: %d node(s), config version %d", len(self.snapshot.nodes), self.snapshot.version
        )

    async def stop(self) -> None:
        self.started = False
        if self.scheduler is not None:
            await self.scheduler.shutdown()
            self.scheduler = None
        if self.shared_health is not None:
            with contextlib.suppress(Exception):  # its entry expires on its own anyway
                await self.shared_health.withdraw()
        if self._poll_task is not None:
            self._poll_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poll_task
        for task in list(self._background):
            task.cancel()
        await self.ledger.stop()
        await self.upstream.close()
        if self._http is not None:
            await self._http.aclose()
            self._http = None
        if self.redis is not None:
            await self.redis.aclose()
            self.redis = None
        logger.info("runtime stopped")

    @contextlib.asynccontextmanager
    async def lifespan(self, *_: Any) -> AsyncIterator[None]:
        await self.start()
        try:
            yield
        finally:
            await self.stop()

    @property
    def http(self) -> httpx.AsyncClient:
        """The shared client of the background jobs and admin-triggered node calls."""
        if self._http is None:
            raise RuntimeError("the runtime is not started")
        return self._http

    @property
    def residency(self) -> dict[int, frozenset[str]]:
        """Per node, the models it had in memory at its latest health check (Ollama)."""
        return {node_id: view.loaded for node_id, view in self.balancer.health.items()}

    # -- configuration ---------------------------------------------------------------

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        with session_scope(self.engine) as session:
            yield session

    def reload(self) -> Snapshot:
        """Rebuild the snapshot; concurrent reloads (admin write, poll) never go backwards."""
        with self._reload_lock:
            with Session(self.engine) as session:
                snapshot = build_snapshot(session)
            if snapshot.version >= self.snapshot.version:
                self.snapshot = snapshot
            current = self.snapshot
        self._apply_job_settings(current)
        return current

    def _apply_job_settings(self, snapshot: Snapshot) -> None:
        """Hand the (possibly changed) job intervals to the scheduler, on its loop."""
        scheduler, loop = self.scheduler, self._loop
        if scheduler is None or loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop is closing: nothing to reschedule
            loop.call_soon_threadsafe(scheduler.apply_settings, snapshot.settings)

    def spawn(self, coro: Any, *, name: str) -> None:
        """Run a coroutine in the background, kept referenced until it ends."""
        task = asyncio.create_task(coro, name=name)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def discover_soon(self, node_id: int) -> None:
        """Rediscover a node's models in the background (after a pull, delete, ...)."""
        self.spawn(
            discover_in_background(
                session_factory=self.session, node_id=node_id, on_change=self.reload, client=self._http
            ),
            name=f"discover-node-{node_id}",
        )

    async def _poll_config(self) -> None:
        """Safety net for writes made by other processes: rebuild when the version moves."""
        while True:
            await asyncio.sleep(CONFIG_POLL_INTERVAL_S)
            try:
                version = await asyncio.to_thread(self._read_version)
                if version != self.snapshot.version:
                    await asyncio.to_thread(self._reload_in_background)
                    logger.info("config version %d loaded", self.snapshot.version)
            except Exception:
                logger.exception("config poll failed")

    def _reload_in_background(self) -> None:
        with as_background_work():
            self.reload()

    def _read_version(self) -> int:
        with as_background_work(), Session(self.engine) as session:
            return read_config_version(session)
