"""Runtime resources of one worker, made in the lifespan and handed to whoever needs them.

Runtime(settings)          built by the composition root; holds no open resource yet
  .start()                 migrations, first-start seeding, MAESTRO_CONFIG, snapshot, upstream client,
                           activity flusher, config-version poll, job scheduler
  .snapshot                the current immutable routing snapshot (swapped atomically)
  .reload()                rebuild the snapshot now (after an admin write); reschedules
                           jobs whose interval setting changed; in scaled mode announces
                           the new version to every other worker and replica
  .http                    the httpx client of health checks, discovery and warmup
  .metrics                 Prometheus metrics (per-worker files in multiprocess mode)
  .begin_drain()           on SIGTERM: requests in flight get `shutdown_grace_s` to finish,
                           then their upstream calls are ended
  .stop()                  stop the jobs, drain the activity queue, close clients

Other processes' config writes arrive by Redis pub/sub (scaled mode) and, as a safety net
for a lost message, by a one-second poll of the config version (both modes).
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

from maestro_app.db.engine import (
    as_background_work,
    make_engine,
    run_migrations,
    session_scope,
    startup_lock,
)
from maestro_app.db.secrets import SecretCipher, use_cipher
from maestro_app.domain.balancing import BalancerState
from maestro_app.domain.snapshot import Snapshot
from maestro_app.gateway.upstream import Timeouts, UpstreamClient
from maestro_app.jobs.scheduler import JobScheduler
from maestro_app.observability.metrics import GatewayMetrics
from maestro_app.observability.metrics_files import forget_dead_workers
from maestro_app.services import bootstrap
from maestro_app.services.config_import import apply_config_file
from maestro_app.services.discovery import discover_in_background
from maestro_app.services.health import check_node
from maestro_app.services.snapshot import build_snapshot, read_config_version
from maestro_app.services.usage_counters import usage_today
from maestro_app.settings import Settings
from maestro_app.shutdown import on_termination
from maestro_app.stores.config_bus import ConfigBus
from maestro_app.stores.job_locks import JobLocks
from maestro_app.stores.journal import JournalLedger
from maestro_app.stores.ledger import Ledger, RedisStreamLedger
from maestro_app.stores.limits import LimitStore, MemoryLimitStore, RedisLimitStore, utc_day
from maestro_app.stores.shared_health import SharedHealth

logger = logging.getLogger(__name__)

CONFIG_POLL_INTERVAL_S = 1.0
METRICS_PUBLISH_INTERVAL_S = 1.0
DRAIN_POLL_S = 0.1
SHUTDOWN_REASON = "the gateway is shutting down"
# Health checks, discovery and warmup: cheap calls, except a model load (warmup sets its own).
JOB_HTTP_TIMEOUT = httpx.Timeout(30.0, connect=5.0)


class Runtime:
    def __init__(
        self, settings: Settings, *, engine: Engine | None = None, metrics: GatewayMetrics | None = None
    ) -> None:
        self.settings = settings
        self.engine = engine or make_engine(settings.db_url)
        # Node secrets are encrypted by their column types with this engine's cipher.
        use_cipher(self.engine, SecretCipher(settings.secrets_encryption_key or ""))
        self.metrics = metrics or GatewayMetrics()
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
        self.config_bus: ConfigBus | None = None
        # Made again in start(): Granian forks its workers after importing the app.
        self.process_id = _process_id()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.started = False
        # True from the stop signal on: /health/ready says so while requests finish.
        self.draining = False
        self._restore_signals: Any = lambda: None
        self._reload_lock = threading.Lock()
        self._config_changed = asyncio.Event()
        self._poll_task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()
        # Nodes the start-up config file (MAESTRO_CONFIG) created or re-addressed.
        self._discover_at_start: list[int] = []

    # -- lifecycle -------------------------------------------------------------------

    def prepare(self) -> None:
        """Blocking start-up work: schema, first-start seeding, first snapshot. Migrations
        and seeding run under one lock: workers and replicas starting together on an empty
        database would otherwise each create the first admin (and the default node)."""
        with startup_lock(self.engine, self.settings.data_dir):
            run_migrations(self.engine, data_dir=self.settings.data_dir, locked=True)
            with session_scope(self.engine) as session:
                bootstrap.seed_first_start(session, settings=self.settings)
        if self.settings.maestro_config is not None:
            # Its own turn of the start-up lock, after the schema and the seed are in place.
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
        self.reload(announce=False)  # nothing changed: nobody to tell

    def redis_key(self, *parts: object) -> str:
        """A Redis key under this deployment's prefix: `redis_key("limits", 3)` -> `maestro:limits:3`."""
        return ":".join((self.settings.redis_key_prefix, *map(str, parts)))

    async def start(self) -> None:
        self.process_id = _process_id()
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
            self.config_bus = ConfigBus(self.redis, channel=self.redis_key("config"))
        self._loop = asyncio.get_running_loop()
        self._http = httpx.AsyncClient(timeout=JOB_HTTP_TIMEOUT)
        await asyncio.to_thread(self.prepare)
        for node_id in self._discover_at_start:
            self.check_new_node_soon(node_id)
        await self.ledger.start()
        self._poll_task = asyncio.create_task(self._follow_config(), name="config-poll")
        if self.config_bus is not None:
            self.spawn(self.config_bus.listen(self._on_announced), name="config-bus")
        if self.metrics.multiprocess_dir is not None:
            forget_dead_workers(self.metrics.multiprocess_dir)
            self.spawn(self._publish_metrics(), name="metrics-publish")
        self.scheduler = JobScheduler(self)
        self.scheduler.start()
        self.started = True
        self._restore_signals = on_termination(self._loop, self.begin_drain)
        logger.info(
            "runtime started: %d node(s), config version %d", len(self.snapshot.nodes), self.snapshot.version
        )

    async def stop(self) -> None:
        self.started = False
        self._restore_signals()
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

    def reload(self, *, announce: bool = True) -> Snapshot:
        """Rebuild the snapshot; concurrent reloads (admin write, poll) never go backwards.

        Called after a write in this process (`announce`): the version is published to the
        other processes (even when this process's poll loaded it first). Reloads caused by
        their announcements or the poll pass False, so one write makes one message, not one
        per process."""
        with self._reload_lock:
            with Session(self.engine) as session:
                snapshot = build_snapshot(session)
            if snapshot.version >= self.snapshot.version:
                self.snapshot = snapshot
            current = self.snapshot
        self._apply_job_settings(current)
        if announce:
            self._announce_soon(current.version)
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

    def check_new_node_soon(self, node_id: int) -> None:
        """A node was added, re-activated or re-addressed: probe its health and then discover
        its models now, in the background, rather than at the jobs' next runs."""
        self.spawn(self._check_new_node(node_id), name=f"check-new-node-{node_id}")

    async def _check_new_node(self, node_id: int) -> None:
        if self._http is not None:  # None only before start() or after stop()
            try:
                await check_node(session_factory=self.session, node_id=node_id, client=self._http)
            except Exception as exc:  # the periodic health job tries again
                logger.warning("first health check of node %d failed: %s", node_id, exc)
            else:
                await asyncio.to_thread(self.reload)
        await discover_in_background(
            session_factory=self.session, node_id=node_id, on_change=self.reload, client=self._http
        )

    async def new_nodes_checked(self) -> None:
        """Wait until the first health checks and discoveries started so far have ended
        (tests, before they count what a node was asked)."""
        pending = [t for t in self._background if t.get_name().startswith("check-new-node-")]
        if pending:
            await asyncio.wait(pending)

    def discover_soon(self, node_id: int) -> None:
        """Rediscover a node's models in the background (after a pull, delete, ...)."""
        self.spawn(
            discover_in_background(
                session_factory=self.session, node_id=node_id, on_change=self.reload, client=self._http
            ),
            name=f"discover-node-{node_id}",
        )

    def _announce_soon(self, version: int) -> None:
        """Publish `version` from the event loop (reload may run in a worker thread)."""
        loop = self._loop
        if self.config_bus is None or loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop is closing: nobody to tell
            loop.call_soon_threadsafe(lambda: self.spawn(self._announce(version), name="config-announce"))

    async def _announce(self, version: int) -> None:
        assert self.config_bus is not None
        try:
            await self.config_bus.announce(version)
        except Exception as exc:  # the others' version poll picks the change up anyway
            logger.warning("announcing config version %d failed: %s", version, exc)

    async def _on_announced(self, version: int) -> None:
        if version > self.snapshot.version:
            self._config_changed.set()

    async def _follow_config(self) -> None:
        """Rebuild when another process's write is announced, or when the one-second poll
        of the version (the safety net for a lost announcement) sees it move."""
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(CONFIG_POLL_INTERVAL_S):
                    await self._config_changed.wait()
            self._config_changed.clear()
            try:
                version = await asyncio.to_thread(self._read_version)
                if version != self.snapshot.version:
                    await asyncio.to_thread(self._reload_in_background)
                    logger.info("config version %d loaded", self.snapshot.version)
            except Exception:
                logger.exception("config poll failed")

    async def _publish_metrics(self) -> None:
        """Several workers: this one's in-flight counts into the summed gauge, each second
        (a scrape answered by another worker reads them from the shared files)."""
        while True:
            await asyncio.sleep(METRICS_PUBLISH_INTERVAL_S)
            try:
                self.metrics.publish_in_flight(self.balancer.in_flight, self.snapshot)
            except Exception:
                logger.exception("publishing the in-flight metrics failed")

    def _reload_in_background(self) -> None:
        with as_background_work():
            self.reload(announce=False)

    def _read_version(self) -> int:
        with as_background_work(), Session(self.engine) as session:
            return read_config_version(session)

    # -- graceful stop -----------------------------------------------------------------

    def open_requests(self) -> int:
        """Upstream calls in flight in this process."""
        return sum(self.balancer.in_flight.values())

    def begin_drain(self) -> None:
        """The server was told to stop (it no longer accepts connections): give the requests
        in flight `shutdown_grace_s`, then end their upstream calls. The server exits when
        the last one is answered; `stop()` then drains the ledger."""
        if self.draining or not self.started:
            return
        self.draining = True
        grace = self.settings.shutdown_grace_s
        logger.info("stop requested: %d request(s) in flight get up to %g s", self.open_requests(), grace)
        self.spawn(self._end_after(grace), name="shutdown-grace")

    async def _end_after(self, grace: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        while self.open_requests() and loop.time() < deadline:
            await asyncio.sleep(DRAIN_POLL_S)
        if self.open_requests():
            logger.warning(
                "%d request(s) still open after the %g s grace period: ending them",
                self.open_requests(),
                grace,
            )
            await self.upstream.abort(SHUTDOWN_REASON)


def _process_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
