"""Model discovery: ask a node which models it serves and upsert them as `NodeModel` rows.

    Ollama  GET /api/tags, then POST /api/show per model (context length, capabilities)
    vLLM    GET /v1/models (`max_model_len`)

Models that disappeared are kept with `is_present = False`, so an admin's availability
override survives until the model comes back. The HTTP part is async; the upsert is one
short sync transaction run off the event loop, retried once when a concurrent discovery of
the same node inserted the same rows first. The periodic job waits while a node has
requests in flight (`services.node_idle`), up to a bound, so it never stalls a live stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from maestro_app.db.models import Node, NodeModel, utcnow
from maestro_app.services.audit import record_audit
from maestro_app.services.errors import ServiceError, UpstreamError
from maestro_app.services.node_idle import NodeBusy, wait_until_idle
from maestro_app.services.node_models import NodeModelPublic
from maestro_app.services.node_target import NodeTarget, SessionFactory, load_target
from maestro_app.services.nodes import load_node
from maestro_app.services.snapshot import bump_config_version

logger = logging.getLogger(__name__)

DISCOVERY_TIMEOUT_S = 10.0
SHOW_CONCURRENCY = 4
_TRACKED = ("size", "family", "parameter_size", "quantization", "context_length", "capabilities", "details")


@dataclass(slots=True)
class FoundModel:
    name: str
    size: int | None = None
    family: str | None = None
    parameter_size: str | None = None
    quantization: str | None = None
    context_length: int | None = None
    capabilities: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


class DiscoveryResult(BaseModel):
    node_id: int
    changed: bool
    added: list[str]
    updated: list[str]
    vanished: list[str]
    models: list[NodeModelPublic]


# -- reading the node ---------------------------------------------------------------------


def _text(value: Any, limit: int) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _context_length(model_info: Any) -> int | None:
    if not isinstance(model_info, dict):
        return None
    arch = model_info.get("general.architecture")
    value = model_info.get(f"{arch}.context_length") if isinstance(arch, str) else None
    if value is None:
        value = next((v for k, v in model_info.items() if str(k).endswith(".context_length")), None)
    length = _count(value)
    return length if length and length < 2**31 else None


async def _get_json(
    client: httpx.AsyncClient, method: str, url: str, target: NodeTarget, timeout_s: float, body: Any = None
) -> Any:
    try:
        response = await client.request(
            method, url, json=body, headers=target.request_headers(), timeout=timeout_s
        )
    except (httpx.HTTPError, ValueError) as exc:
        raise UpstreamError(f"{method} {url} failed: {type(exc).__name__}: {exc}") from exc
    if not response.is_success:
        raise UpstreamError(f"{method} {url} answered HTTP {response.status_code}")
    try:
        return response.json()
    except ValueError as exc:
        raise UpstreamError(f"{method} {url} did not answer JSON") from exc


async def _ollama_models(target: NodeTarget, client: httpx.AsyncClient, timeout_s: float) -> list[FoundModel]:
    tags = await _get_json(client, "GET", target.url("/api/tags"), target, timeout_s)
    entries = tags.get("models") if isinstance(tags, dict) else None
    if not isinstance(entries, list):
        raise UpstreamError(f"{target.url('/api/tags')} did not list models")
    found: list[FoundModel] = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        name = entry.get("name") or entry.get("model")
        if not isinstance(name, str) or not name or len(name) > 256:
            continue
        raw_details = entry.get("details")
        details: dict[str, Any] = raw_details if isinstance(raw_details, dict) else {}
        extra = {k: entry[k] for k in ("digest", "modified_at") if isinstance(entry.get(k), str)}
        found.append(
            FoundModel(
                name=name,
                size=_count(entry.get("size")),
                family=_text(details.get("family"), 128),
                parameter_size=_text(details.get("parameter_size"), 32),
                quantization=_text(details.get("quantization_level"), 32),
                details={**details, **extra},
            )
        )
    gate = asyncio.Semaphore(SHOW_CONCURRENCY)

    async def show(model: FoundModel) -> None:
        async with gate:
            try:
                info = await _get_json(
                    client, "POST", target.url("/api/show"), target, timeout_s, body={"model": model.name}
                )
            except UpstreamError as exc:
                logger.warning("node %s: /api/show %s failed: %s", target.name, model.name, exc)
                return
        if not isinstance(info, dict):
            return
        model.context_length = _context_length(info.get("model_info"))
        caps = info.get("capabilities")
        if isinstance(caps, list):
            model.capabilities = sorted({c for c in caps if isinstance(c, str)})

    await asyncio.gather(*(show(m) for m in found))
    return found


async def _vllm_models(target: NodeTarget, client: httpx.AsyncClient, timeout_s: float) -> list[FoundModel]:
    listing = await _get_json(client, "GET", target.url("/v1/models"), target, timeout_s)
    entries = listing.get("data") if isinstance(listing, dict) else None
    if not isinstance(entries, list):
        raise UpstreamError(f"{target.url('/v1/models')} did not list models")
    found: list[FoundModel] = []
    for entry in entries:
        name = entry.get("id") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name or len(name) > 256:
            continue
        length = _count(entry.get("max_model_len"))
        details = {
            k: entry[k]
            for k in ("owned_by", "root", "parent", "created")
            if isinstance(entry.get(k), str | int) and not isinstance(entry.get(k), bool)
        }
        found.append(
            FoundModel(
                name=name, context_length=length if length and length < 2**31 else None, details=details
            )
        )
    return found


async def fetch_models(
    *, target: NodeTarget, client: httpx.AsyncClient, timeout_s: float = DISCOVERY_TIMEOUT_S
) -> list[FoundModel]:
    """The node's models as it reports them; `UpstreamError` when it cannot be read."""
    if target.node_type == "vllm":
        models = await _vllm_models(target, client, timeout_s)
    else:
        models = await _ollama_models(target, client, timeout_s)
    unique: dict[str, FoundModel] = {}
    for model in models:
        unique.setdefault(model.name, model)
    return list(unique.values())


# -- recording ----------------------------------------------------------------------------


def record_models(
    *, session: Session, node_id: int, found: list[FoundModel], actor: str | None = None
) -> DiscoveryResult:
    """Upsert `found` as the node's models; mark the others vanished (overrides kept)."""
    load_node(session, node_id, for_update=True)
    rows = {r.name: r for r in session.exec(select(NodeModel).where(NodeModel.node_id == node_id))}
    now = utcnow()
    added, updated = [], []
    for model in found:
        row = rows.get(model.name)
        values = {k: getattr(model, k) for k in _TRACKED}
        if row is None:
            row = NodeModel(node_id=node_id, name=model.name, **values)
            rows[model.name] = row
            added.append(model.name)
        elif not row.is_present or any(getattr(row, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(row, key, value)
            updated.append(model.name)
        row.is_present = True
        row.last_seen_at = now
        session.add(row)
    names = {m.name for m in found}
    vanished = sorted(n for n, r in rows.items() if n not in names and r.is_present)
    for name in vanished:
        rows[name].is_present = False
        session.add(rows[name])
    changed = bool(added or updated or vanished)
    if changed:
        bump_config_version(session)
    if actor is not None:
        record_audit(
            session=session,
            actor=actor,
            action="node.discover",
            entity_type="node",
            entity_id=node_id,
            details={"added": added, "updated": updated, "vanished": vanished, "found": len(found)},
        )
    session.flush()
    return DiscoveryResult(
        node_id=node_id,
        changed=changed,
        added=added,
        updated=updated,
        vanished=vanished,
        models=[NodeModelPublic.from_row(r) for r in sorted(rows.values(), key=lambda r: r.name)],
    )


def _record(
    session_factory: SessionFactory, node_id: int, found: list[FoundModel], actor: str | None
) -> DiscoveryResult:
    try:
        with session_factory() as session:
            return record_models(session=session, node_id=node_id, found=found, actor=actor)
    except IntegrityError:
        # A concurrent discovery of this node inserted some of the same rows; now they exist.
        with session_factory() as session:
            return record_models(session=session, node_id=node_id, found=found, actor=actor)


async def discover_node(
    *,
    session_factory: SessionFactory,
    node_id: int,
    client: httpx.AsyncClient,
    actor: str | None = None,
    timeout_s: float = DISCOVERY_TIMEOUT_S,
) -> DiscoveryResult:
    """Read the node's models now and record them; `actor` set = audited (an admin asked)."""
    target = await asyncio.to_thread(load_target, session_factory, node_id)
    found = await fetch_models(target=target, client=client, timeout_s=timeout_s)
    return await asyncio.to_thread(_record, session_factory, node_id, found, actor)


async def discover_in_background(
    *,
    session_factory: SessionFactory,
    node_id: int,
    on_change: Callable[[], object] | None = None,
    timeout_s: float = DISCOVERY_TIMEOUT_S,
    client: httpx.AsyncClient | None = None,
) -> DiscoveryResult | None:
    """Discovery for fire-and-forget use (a node was added or re-activated): failures are
    logged, `on_change` (sync, e.g. a snapshot reload) runs in a thread when the model list
    changed. Uses `client` (the runtime's) when given, else a client of its own."""
    try:
        async with contextlib.AsyncExitStack() as stack:
            if client is None:
                client = await stack.enter_async_context(httpx.AsyncClient())
            result = await discover_node(
                session_factory=session_factory, node_id=node_id, client=client, timeout_s=timeout_s
            )
    except ServiceError as exc:
        logger.warning("discovery of node %d failed: %s", node_id, exc.message)
        return None
    except Exception:
        logger.exception("discovery of node %d failed", node_id)
        return None
    if result.changed and on_change is not None:
        await asyncio.to_thread(on_change)
    logger.info(
        "node %d: %d model(s) discovered (%d new, %d gone)",
        node_id,
        len(result.models),
        len(result.added),
        len(result.vanished),
    )
    return result


def _active_node_ids(session_factory: SessionFactory) -> list[int]:
    with session_factory() as session:
        return [i for i in session.exec(select(Node.id).where(col(Node.is_active))) if i]


async def _discover_when_idle(
    *,
    session_factory: SessionFactory,
    node_id: int,
    client: httpx.AsyncClient,
    timeout_s: float,
    node_busy: NodeBusy | None,
    stream_wait_s: float,
) -> DiscoveryResult:
    await wait_until_idle(node_id=node_id, busy=node_busy, max_wait_s=stream_wait_s)
    return await discover_node(
        session_factory=session_factory, node_id=node_id, client=client, timeout_s=timeout_s
    )


async def discover_active_nodes(
    *,
    session_factory: SessionFactory,
    client: httpx.AsyncClient,
    timeout_s: float = DISCOVERY_TIMEOUT_S,
    node_busy: NodeBusy | None = None,
    stream_wait_s: float = 0.0,
    on_change: Callable[[], object] | None = None,
) -> list[DiscoveryResult]:
    """Discover every active node concurrently (the periodic job); one node's failure is
    logged and does not stop the others. A node `node_busy` reports busy is discovered once
    it is idle, or after `stream_wait_s` anyway; `on_change` runs in a thread when some
    node's model list changed."""
    node_ids = await asyncio.to_thread(_active_node_ids, session_factory)
    outcomes = await asyncio.gather(
        *(
            _discover_when_idle(
                session_factory=session_factory,
                node_id=i,
                client=client,
                timeout_s=timeout_s,
                node_busy=node_busy,
                stream_wait_s=stream_wait_s,
            )
            for i in node_ids
        ),
        return_exceptions=True,
    )
    results: list[DiscoveryResult] = []
    for node_id, outcome in zip(node_ids, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            logger.warning("discovery of node %d failed: %s", node_id, outcome)
        else:
            results.append(outcome)
    if on_change is not None and any(r.changed for r in results):
        await asyncio.to_thread(on_change)
    return results
