"""Node health checks: probe over HTTP, then record the outcome with hysteresis.

    unknown --success--> healthy --2 failures in a row--> unhealthy --success--> healthy

A node stays `unknown` until its first check and turns `unhealthy` only after two
consecutive failures, so one lost probe does not take it out of rotation (rule in
`domain.health`). A status change writes a `NodeHealthEvent` and bumps the config version
(routing skips unhealthy nodes). The HTTP probe is async; the database work is a short
sync step run off the event loop.

Probes are cheap: Ollama `GET /api/version` and `GET /api/ps` (which models are loaded),
vLLM `GET /health` (then `/v1/models`). `run_health_checks` is the periodic job: in scaled
mode each node is probed once per interval by one process, the counter lives in Redis
(`stores.shared_health`) and the database mirrors it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import httpx
from pydantic import BaseModel
from sqlmodel import Session, col, select

from maestro_app.db.models import Node, NodeHealthEvent, utcnow
from maestro_app.domain.balancing import BalancerState
from maestro_app.domain.health import NodeHealthView, next_health
from maestro_app.domain.names import canonical
from maestro_app.services.audit import record_audit
from maestro_app.services.node_target import NodeTarget, SessionFactory, load_target, read_target
from maestro_app.services.nodes import load_node
from maestro_app.services.snapshot import bump_config_version
from maestro_app.stores.job_locks import JobLocks
from maestro_app.stores.shared_health import SharedHealth

logger = logging.getLogger(__name__)

HEALTH_TIMEOUT_S = 5.0


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
    # Ollama nodes: the models in memory at this check (`/api/ps`); empty otherwise
    loaded_models: list[str] = []


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


async def read_loaded_models(
    *, target: NodeTarget, client: httpx.AsyncClient, timeout_s: float = HEALTH_TIMEOUT_S
) -> frozenset[str]:
    """Canonical names of the models an Ollama node has in memory (`GET /api/ps`); empty
    when the node does not say (residency is a preference, never a reason to fail)."""
    try:
        response = await client.get(
            target.url("/api/ps"), headers=target.request_headers(), timeout=timeout_s
        )
        listing = response.json() if response.is_success else None
    except (httpx.HTTPError, ValueError):
        return frozenset()
    entries = listing.get("models") if isinstance(listing, dict) else None
    if not isinstance(entries, list):
        return frozenset()
    names = (e.get("model") or e.get("name") for e in entries if isinstance(e, dict))
    return frozenset(canonical(n) for n in names if isinstance(n, str) and n)


def record_probe(
    *,
    session: Session,
    node_id: int,
    probe: Probe,
    actor: str | None = None,
    outcome: tuple[str, int] | None = None,
    checked_at: datetime | None = None,
    loaded: frozenset[str] = frozenset(),
) -> HealthResult:
    """Apply one probe outcome to the node's health state (hysteresis in the module doc).

    `outcome` (status, consecutive failures) is given when the shared counter in Redis
    already decided it; the row then mirrors that decision instead of counting itself.
    """
    node = load_node(session, node_id, for_update=True)
    previous = node.health_status
    now = checked_at or utcnow()
    node.last_health_check = now
    status, node.consecutive_failures = outcome or next_health(previous, node.consecutive_failures, probe.ok)
    node.last_error = None if probe.ok else probe.error
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
        loaded_models=sorted(loaded),
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


# -- the periodic job -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Checked:
    target: NodeTarget
    status: str
    failures: int
    never_checked: bool


def _active_nodes(session_factory: SessionFactory) -> list[_Checked]:
    with session_factory() as session:
        nodes = session.exec(select(Node).where(col(Node.is_active)).order_by(col(Node.id)))
        return [
            _Checked(
                read_target(session, n.id or 0),
                n.health_status,
                n.consecutive_failures,
                n.last_health_check is None,
            )
            for n in nodes
        ]


def _mirror(
    session_factory: SessionFactory,
    node_id: int,
    probe: Probe,
    outcome: tuple[str, int] | None,
    checked_at: datetime,
    loaded: frozenset[str],
) -> HealthResult:
    with session_factory() as session:
        return record_probe(
            session=session,
            node_id=node_id,
            probe=probe,
            outcome=outcome,
            checked_at=checked_at,
            loaded=loaded,
        )


async def _check_active_node(
    node: _Checked,
    *,
    session_factory: SessionFactory,
    client: httpx.AsyncClient,
    state: BalancerState,
    shared: SharedHealth | None,
    locks: JobLocks | None,
    interval_s: float,
    timeout_s: float,
) -> HealthResult | None:
    target = node.target
    if locks is not None and await locks.claim(f"health-node-{target.id}", interval_s=interval_s) is None:
        return None  # another process checks this node in this interval
    probe = await probe_node(target=target, client=client, timeout_s=timeout_s)
    loaded: frozenset[str] = frozenset()
    if probe.ok and target.node_type == "ollama":
        loaded = await read_loaded_models(target=target, client=client, timeout_s=timeout_s)
    checked_at = utcnow()
    outcome: tuple[str, int] | None = None
    if shared is not None:
        decided = await shared.record(
            target.id,
            ok=probe.ok,
            seed_status=node.status,
            seed_failures=node.failures,
            checked_at=checked_at.timestamp(),
            loaded=loaded,
            error=probe.error,
            ttl_s=interval_s * 10,
            reseed=node.never_checked,
        )
        outcome = (decided.status, decided.failures)
    result = await asyncio.to_thread(_mirror, session_factory, target.id, probe, outcome, checked_at, loaded)
    state.health[target.id] = NodeHealthView(
        status=result.status,
        checked_at=checked_at.timestamp(),
        failures=result.consecutive_failures,
        loaded=loaded,
    )
    return result


async def run_health_checks(
    *,
    session_factory: SessionFactory,
    client: httpx.AsyncClient,
    state: BalancerState,
    interval_s: float,
    shared: SharedHealth | None = None,
    locks: JobLocks | None = None,
    timeout_s: float = HEALTH_TIMEOUT_S,
    on_change: Callable[[], object] | None = None,
) -> list[HealthResult]:
    """The periodic health job: probe every active node concurrently, record the outcomes,
    and put them in `state.health` (what routing reads, with the loaded models).

    Scaled mode (`shared` and `locks` given): each node is probed by one process per
    interval; the counter is Redis's, the database mirrors it. `on_change` (sync, e.g. a
    snapshot reload) runs in a thread when some node's status changed.
    """
    nodes = await asyncio.to_thread(_active_nodes, session_factory)
    outcomes = await asyncio.gather(
        *(
            _check_active_node(
                node,
                session_factory=session_factory,
                client=client,
                state=state,
                shared=shared,
                locks=locks,
                interval_s=interval_s,
                timeout_s=timeout_s,
            )
            for node in nodes
        ),
        return_exceptions=True,
    )
    results: list[HealthResult] = []
    for node, outcome in zip(nodes, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            logger.warning("health check of node %d failed: %s", node.target.id, outcome)
        elif outcome is not None:
            results.append(outcome)
    if on_change is not None and any(r.changed for r in results):
        await asyncio.to_thread(on_change)
    return results
