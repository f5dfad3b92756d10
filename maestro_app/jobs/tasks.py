"""The background jobs. Each is one call into a service, given what the runtime holds: the
session factory, the shared HTTP client, the balancer state, the current settings.

Locking, time limits and scheduling are `jobs.scheduler`'s business, not the jobs'.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from maestro_app.services.discovery import discover_active_nodes
from maestro_app.services.health import run_health_checks
from maestro_app.services.retention import purge_expired
from maestro_app.services.shared_state import sync_shared_state
from maestro_app.services.warmup import warm_nodes

if TYPE_CHECKING:
    from maestro_app.runtime import Runtime

logger = logging.getLogger(__name__)


def _seconds(rt: Runtime, key: str) -> float:
    return float(rt.snapshot.setting(key))


async def health_checks(rt: Runtime) -> None:
    await run_health_checks(
        session_factory=rt.session,
        client=rt.http,
        state=rt.balancer,
        interval_s=_seconds(rt, "health_check_interval_s"),
        shared=rt.shared_health,
        locks=rt.job_locks,
        on_change=rt.reload,
    )


async def discovery(rt: Runtime) -> None:
    await discover_active_nodes(
        session_factory=rt.session,
        client=rt.http,
        node_busy=rt.balancer.busy,
        stream_wait_s=_seconds(rt, "job_stream_wait_s"),
        on_change=rt.reload,
    )


async def warmup(rt: Runtime) -> None:
    results = await warm_nodes(
        session_factory=rt.session,
        client=rt.http,
        interval_s=_seconds(rt, "warmup_interval_s"),
        node_busy=rt.balancer.busy,
        stream_wait_s=_seconds(rt, "job_stream_wait_s"),
    )
    if results:
        logger.info("warmup: %d of %d model load(s) succeeded", sum(r.ok for r in results), len(results))


async def retention(rt: Runtime) -> None:
    result = await purge_expired(
        session_factory=rt.session, retention_days=int(rt.snapshot.setting("log_retention_days"))
    )
    if result.activity_deleted or result.health_events_deleted:
        logger.info(
            "retention: %d activity record(s) and %d health event(s) older than %s deleted",
            result.activity_deleted,
            result.health_events_deleted,
            result.cutoff.isoformat(timespec="seconds"),
        )


async def shared_state(rt: Runtime) -> None:
    if rt.shared_health is not None:
        await sync_shared_state(
            shared=rt.shared_health, state=rt.balancer, node_ids=[n.id for n in rt.snapshot.nodes]
        )
