"""Node health checks: probe over HTTP, then record the outcome with hysteresis.

    unknown --success--> healthy --2 failures in a row--> unhealthy --success--> healthy

A node stays `unknown` until its first check and turns `unhealthy` only after two
consecutive failures, so one lost probe does not take it out of rotation. A status change
writes a `NodeHealthEvent` and bumps the config version (routing skips unhealthy nodes).
The HTTP probe is async; the database work is a short sync step run off the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime

import httpx
from pydantic import BaseModel
from sqlmodel import Session, select

from maestro_app.db.models import Node, NodeHealthEvent, utcnow
from maestro_app.services.audit import record_audit
from maestro_app.services.node_target import NodeTarget, SessionFactory, load_target
from maestro_app.services.nodes import load_node
from maestro_app.services.snapshot import bump_config_version

logger = logging.getLogger(__name__)

HEALTH_TIMEOUT_S = 5.0
FAILURES_BEFORE_UNHEALTHY = 2


class HealthResult(BaseModel):
    node_id: int
    status: str
    previous_status: str
    changed: bool
    ok: bool
    url: str
    http_status: int | None
    latency_ms: float
    error: str | None
    consecutive_failures: int
    checked_at: datetime


@dataclass(frozen=True, slots=True)
class Probe:
    ok: bool
    url: str
    http_status: int | None
    latency_ms: float
    error: str | None


def probe_urls(target: NodeTarget) -> list[str]:
    """Ollama: `/api/version`; vLLM: `/health`, then `/v1/models`; or the node's own URL."""
    if target.health_check_url:
        return [target.url(target.health_check_url)]
    if target.node_type == "vllm":
        return [target.url("/health"), target.url("/v1/models")]
    return [target.url("/api/version")]


def _describe(exc: httpx.HTTPError) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def probe_node(
    *, target: NodeTarget, client: httpx.AsyncClient, timeout_s: float = HEALTH_TIMEOUT_S
) -> Probe:
    """One probe of the node; the first URL that answers 2xx wins."""
    started = time.perf_counter()
    outcome = Probe(False, "", None, 0.0, "no probe URL")
    for url in probe_urls(target):
        try:
            response = await client.get(url, headers=target.request_headers(), timeout=timeout_s)
        except httpx.HTTPError as exc:
            outcome = Probe(False, url, None, 0.0, _describe(exc))
            continue
        except ValueError as exc:  # a header or URL httpx refuses to send
            outcome = Probe(False, url, None, 0.0, f"invalid request: {exc}")
            continue
        if response.is_success:
            outcome = Probe(True, url, response.status_code, 0.0, None)
            break
        outcome = Probe(False, url, response.status_code, 0.0, f"HTTP {response.status_code}")
    latency = round((time.perf_counter() - started) * 1000, 1)
    return Probe(outcome.ok, outcome.url, outcome.http_status, latency, outcome.error)


def record_probe(*, session: Session, node_id: int, probe: Probe, actor: str | None = None) -> HealthResult:
    """Apply one probe outcome to the node's health state (hysteresis in the module doc)."""
    node = load_node(session, node_id, for_update=True)
    previous = node.health_status
    now = utcnow()
    node.last_health_check = now
    if probe.ok:
        node.consecutive_failures = 0
        node.last_error = None
        status = "healthy"
    else:
        node.consecutive_failures += 1
        node.last_error = probe.error
        status = "unhealthy" if node.consecutive_failures >= FAILURES_BEFORE_UNHEALTHY else previous
    changed = status != previous
    node.health_status = status
    session.add(node)
    if changed:
        session.add(
            NodeHealthEvent(
                node_id=node_id,
                old_status=previous,
                new_status=status,
                reason=probe.error or f"{probe.url} answered",
            )
        )
        bump_config_version(session)
        logger.info("node %s (%d) is now %s (was %s)", node.name, node_id, status, previous)
    if actor is not None:
        record_audit(
            session=session,
            actor=actor,
            action="node.health_check",
            entity_type="node",
            entity_id=node_id,
            details={"status": status, "ok": probe.ok, "error": probe.error},
        )
    session.flush()
    return HealthResult(
        node_id=node_id,
        status=status,
        previous_status=previous,
        changed=changed,
        ok=probe.ok,
        url=probe.url,
        http_status=probe.http_status,
        latency_ms=probe.latency_ms,
        error=probe.error,
        consecutive_failures=node.consecutive_failures,
        checked_at=now,
    )


def _record(session_factory: SessionFactory, node_id: int, probe: Probe, actor: str | None) -> HealthResult:
    with session_factory() as session:
        return record_probe(session=session, node_id=node_id, probe=probe, actor=actor)


async def check_node(
    *,
    session_factory: SessionFactory,
    node_id: int,
    client: httpx.AsyncClient,
    actor: str | None = None,
    timeout_s: float = HEALTH_TIMEOUT_S,
) -> HealthResult:
    """Probe the node now and record the outcome; `actor` set = audited (an admin asked)."""
    target = await asyncio.to_thread(load_target, session_factory, node_id)
    probe = await probe_node(target=target, client=client, timeout_s=timeout_s)
    return await asyncio.to_thread(_record, session_factory, node_id, probe, actor)


def _active_node_ids(session_factory: SessionFactory) -> list[int]:
    with session_factory() as session:
        return [i for i in session.exec(select(Node.id).where(Node.is_active == True)) if i]  # noqa: E712


async def check_active_nodes(
    *, session_factory: SessionFactory, client: httpx.AsyncClient, timeout_s: float = HEALTH_TIMEOUT_S
) -> list[HealthResult]:
    """Check every active node concurrently (the periodic job); failures of one node's
    bookkeeping are logged and do not stop the others."""
    node_ids = await asyncio.to_thread(_active_node_ids, session_factory)
    outcomes = await asyncio.gather(
        *(
            check_node(session_factory=session_factory, node_id=i, client=client, timeout_s=timeout_s)
            for i in node_ids
        ),
        return_exceptions=True,
    )
    results: list[HealthResult] = []
    for node_id, outcome in zip(node_ids, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            logger.warning("health check of node %d failed: %s", node_id, outcome)
        else:
            results.append(outcome)
    return results
