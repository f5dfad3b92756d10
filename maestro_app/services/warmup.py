"""Warmup: keep the models people use loaded on the nodes that ask for it.

    Ollama  POST /api/generate {"model": m, "prompt": "", "keep_alive": "<seconds>s"}
            an empty prompt only loads the model and sets how long it stays in memory
    vLLM    nothing: a vLLM server loads its model at start and keeps it loaded

Which models: on each active Ollama node with `warmup_enabled`, the models that exist there
(discovered, present, not switched off by an admin) and that the gateway served on that
node within `RECENT_USE_S`. Warming every model a node has would make a node with more
models than memory load and evict them in turn every interval; warming the ones in use keeps
the first request after a quiet spell fast. Models load one at a time per node, least
recently used first, so the most recent ones are the last loaded if memory runs short.

`keep_alive` covers the interval, the longest wait for open streams and a margin, so a
model does not expire just before the next warmup. Warmup requests go straight to the node
with the runtime's HTTP client: never through the gateway pipeline, so no user is billed, no
limit is counted and no activity record is written. What each node type gets is stated for
the dashboard in `domain.warmup` (`NodePublic.warmup`).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from pydantic import BaseModel
from sqlalchemy import func
from sqlmodel import Session, col, select

from maestro_app.db.models import ActivityRecord, Node, NodeModel, utcnow
from maestro_app.domain.names import canonical
from maestro_app.services.node_idle import NodeBusy, wait_until_idle
from maestro_app.services.node_target import NodeTarget, SessionFactory, read_target

logger = logging.getLogger(__name__)

RECENT_USE_S = 24 * 3600
KEEP_ALIVE_MARGIN_S = 60
# A model load reads gigabytes from disk; connecting must still be quick.
WARMUP_TIMEOUT = httpx.Timeout(300.0, connect=5.0)


class WarmupResult(BaseModel):
    node_id: int
    node_name: str
    model: str
    ok: bool
    http_status: int | None
    error: str | None
    waited_s: float
    duration_ms: float


@dataclass(frozen=True, slots=True)
class WarmupPlan:
    target: NodeTarget
    # The node's own spelling, least recently used first
    models: tuple[str, ...]


def keep_alive_for(interval_s: float, stream_wait_s: float) -> str:
    return f"{math.ceil(interval_s + stream_wait_s + KEEP_ALIVE_MARGIN_S)}s"


def plan_warmup(session: Session, *, since: datetime) -> list[WarmupPlan]:
    """Per warmup-enabled Ollama node, the models it has that were used since `since`."""
    nodes = session.exec(
        select(Node)
        .where(col(Node.is_active), col(Node.warmup_enabled), Node.node_type == "ollama")
        .order_by(col(Node.id))
    ).all()
    if not nodes:
        return []
    ids = [n.id for n in nodes]
    last_use: dict[int, dict[str, datetime]] = defaultdict(dict)
    used = session.exec(
        select(ActivityRecord.node_id, ActivityRecord.real_model, func.max(ActivityRecord.created_at))
        .where(col(ActivityRecord.created_at) >= since)
        .where(col(ActivityRecord.node_id).in_(ids))
        .where(col(ActivityRecord.status_code) < 400)
        .group_by(col(ActivityRecord.node_id), col(ActivityRecord.real_model))
    )
    for node_id, real_model, at in used:
        if node_id is not None and real_model:
            name = canonical(real_model)
            last_use[node_id][name] = max(at, last_use[node_id].get(name, at))
    plans: list[WarmupPlan] = []
    for node in nodes:
        rows = session.exec(select(NodeModel).where(NodeModel.node_id == node.id)).all()
        uses = last_use.get(node.id or 0, {})
        present = [r for r in rows if r.is_present and r.is_available and canonical(r.name) in uses]
        present.sort(key=lambda r: (uses[canonical(r.name)], r.name))
        if present:
            plans.append(WarmupPlan(read_target(session, node.id or 0), tuple(r.name for r in present)))
    return plans


def _plans(session_factory: SessionFactory, since: datetime) -> list[WarmupPlan]:
    with session_factory() as session:
        return plan_warmup(session, since=since)


async def warm_model(
    *, target: NodeTarget, model: str, client: httpx.AsyncClient, keep_alive: str, waited_s: float = 0.0
) -> WarmupResult:
    """Ask an Ollama node to load `model` and keep it for `keep_alive`."""
    started = time.perf_counter()
    status: int | None = None
    error: str | None = None
    try:
        response = await client.post(
            target.url("/api/generate"),
            json={"model": model, "prompt": "", "keep_alive": keep_alive},
            headers=target.request_headers(),
            timeout=WARMUP_TIMEOUT,
        )
        status = response.status_code
        if not response.is_success:
            error = f"HTTP {status}: {response.text[:200]}"
    except (httpx.HTTPError, ValueError) as exc:
        error = f"{type(exc).__name__}: {exc}".rstrip(": ")
    if error:
        logger.warning("warmup of %s on node %s failed: %s", model, target.name, error)
    return WarmupResult(
        node_id=target.id,
        node_name=target.name,
        model=model,
        ok=error is None,
        http_status=status,
        error=error,
        waited_s=round(waited_s, 3),
        duration_ms=round((time.perf_counter() - started) * 1000, 1),
    )


async def _warm_node(
    plan: WarmupPlan,
    *,
    client: httpx.AsyncClient,
    keep_alive: str,
    node_busy: NodeBusy | None,
    stream_wait_s: float,
) -> list[WarmupResult]:
    # One wait budget per node: every model waits for open requests, together at most this.
    deadline = time.monotonic() + stream_wait_s
    results = []
    for model in plan.models:
        budget = max(0.0, deadline - time.monotonic())
        waited = await wait_until_idle(node_id=plan.target.id, busy=node_busy, max_wait_s=budget)
        results.append(
            await warm_model(
                target=plan.target, model=model, client=client, keep_alive=keep_alive, waited_s=waited
            )
        )
    return results


async def warm_nodes(
    *,
    session_factory: SessionFactory,
    client: httpx.AsyncClient,
    interval_s: float,
    node_busy: NodeBusy | None = None,
    stream_wait_s: float = 0.0,
    now: datetime | None = None,
) -> list[WarmupResult]:
    """The periodic warmup job: every warmup-enabled Ollama node concurrently, its models one
    at a time, each after the node has no request in flight (or `stream_wait_s` passed)."""
    since = (now or utcnow()) - timedelta(seconds=RECENT_USE_S)
    plans = await asyncio.to_thread(_plans, session_factory, since)
    keep_alive = keep_alive_for(interval_s, stream_wait_s)
    outcomes = await asyncio.gather(
        *(
            _warm_node(
                plan, client=client, keep_alive=keep_alive, node_busy=node_busy, stream_wait_s=stream_wait_s
            )
            for plan in plans
        ),
        return_exceptions=True,
    )
    results: list[WarmupResult] = []
    for plan, outcome in zip(plans, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            logger.warning("warmup of node %s failed: %s", plan.target.name, outcome)
        else:
            results.extend(outcome)
    return results
