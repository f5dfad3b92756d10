"""Ollama model management (`/api/pull|push|create|copy|delete`), for managers only.

Allowed for the admin token and for users with `can_manage_models`. The request goes to
the node named with `node:{code}:`, else to the node that holds the model, else (pull,
create) to the best active Ollama node. Progress streams through unchanged; the node's
models are rediscovered afterwards.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from maestro_app.domain.errors import BadRequest, NotFound, ServiceUnavailable, UpstreamFailed
from maestro_app.domain.names import split_node_prefix
from maestro_app.domain.snapshot import NodeView, Snapshot
from maestro_app.gateway.body import parse_object, read_limited
from maestro_app.gateway.upstream import UpstreamError, UpstreamResponse
from maestro_app.observability.request_ids import current_ids, new_ids

ROUTES = (
    ("/api/pull", "POST"),
    ("/api/push", "POST"),
    ("/api/create", "POST"),
    ("/api/copy", "POST"),
    ("/api/delete", "DELETE"),
)
STREAMING_OPS = frozenset({"pull", "push", "create"})

logger = logging.getLogger(__name__)


def rename_names(obj: Any, real: str, display: str) -> Any:
    """Replace the real model name by the display name wherever it is a whole string value."""
    if real == display:
        return obj
    if isinstance(obj, dict):
        return {k: rename_names(v, real, display) for k, v in obj.items()}
    if isinstance(obj, list):
        return [rename_names(v, real, display) for v in obj]
    if obj == real:
        return display
    return obj


def _target(snapshot: Snapshot, op: str, name: str) -> tuple[NodeView, str]:
    pinned = split_node_prefix(name)
    if pinned is not None:
        code, model = pinned
        node = snapshot.node_by_code(code)
        if node is None:
            raise NotFound(f"Node with code '{code}' not found", code="node_not_found")
        if node.node_type != "ollama":
            raise BadRequest(f"Node '{node.name}' is a {node.node_type} node; it cannot manage models")
        mapping = snapshot.mapping_for(model, node.id)
        return node, mapping.real_name if mapping else model
    nodes = [n for n in snapshot.nodes if n.is_active and n.node_type == "ollama"]
    holders: list[tuple[NodeView, str]] = []
    for node in nodes:
        mapping = snapshot.mapping_for(name, node.id)
        real = mapping.real_name if mapping else name
        info = node.find_model(real)
        if info is not None:
            holders.append((node, info.name))
    holders.sort(key=lambda h: (-h[0].priority, h[0].id))
    if holders:
        return holders[0]
    if op in ("pull", "create"):
        healthy = sorted(
            (n for n in nodes if n.health_status != "unhealthy"), key=lambda n: (-n.priority, n.id)
        )
        if not healthy:
            raise ServiceUnavailable("No healthy Ollama node to manage models on")
        return healthy[0], name
    raise NotFound(f"model '{name}' not found")


async def endpoint(request: Request) -> Response:
    from maestro_app.gateway.pipeline import Call, Gateway  # avoid an import cycle

    gateway: Gateway = request.app.state.gateway
    snapshot = gateway.rt.snapshot
    user = gateway.auth.manager(request.headers.get("authorization"), snapshot)
    op = request.url.path.rsplit("/", 1)[-1]
    body = parse_object(await read_limited(request, int(snapshot.setting("max_body_bytes"))))
    key = "source" if op == "copy" else ("model" if "model" in body else "name")
    name = body.get(key)
    if not isinstance(name, str) or not name.strip():
        raise BadRequest(
            f"Missing required field '{'source' if op == 'copy' else 'model'}'", code="missing_field"
        )
    if op == "copy":
        destination = body.get("destination")
        if not isinstance(destination, str) or not destination.strip():
            raise BadRequest("Missing required field 'destination'", code="missing_field")
        pinned = split_node_prefix(destination)
        body["destination"] = pinned[1] if pinned else destination
    node, real = _target(snapshot, op, name)
    body[key] = real
    if key == "model" and "name" in body:
        body["name"] = real
    ids = current_ids() or new_ids()
    call = Call(
        # Ours, never the client's header: the ledger is keyed by it (see request_ids).
        request_id=ids.own,
        client_request_id=ids.client,
        started=time.perf_counter(),
        endpoint=request.url.path,
        source="ollama",
        stream=op in STREAMING_OPS and body.get("stream", True) is not False,
        user=user,
        model=name,
        real_model=real,
        node_id=node.id,
        node_name=node.name,
    )
    try:
        resp = await gateway.rt.upstream.send(
            request.method,
            node.base_url + request.url.path,
            body=orjson.dumps(body),
            headers=node.upstream_headers,
        )
    except UpstreamError as exc:
        await gateway.record(call, status=502, error=str(exc))
        raise UpstreamFailed(f"Node '{node.name}' failed: {exc}") from None
    if call.stream and resp.status < 400:
        return StreamingResponse(_progress(gateway, call, node, resp), media_type="application/x-ndjson")
    try:
        raw = await resp.read()
    except UpstreamError as exc:
        raw = orjson.dumps({"error": str(exc)})
    finally:
        resp.close()
    await gateway.record(
        call, status=resp.status, error=None if resp.status < 400 else raw[:500].decode("utf-8", "replace")
    )
    if resp.status < 400:
        _models_changed(gateway, node)
    return Response(
        raw, status_code=resp.status, media_type=resp.headers.get("content-type", "application/json")
    )


async def _progress(gateway: Any, call: Any, node: NodeView, resp: UpstreamResponse) -> AsyncIterator[bytes]:
    status, error = 200, None
    try:
        async for chunk in resp.iter_chunks():
            yield chunk
    except UpstreamError as exc:
        status, error = 502, str(exc)
        yield orjson.dumps({"error": f"node '{node.name}' broke off: {exc}"}) + b"\n"
    finally:
        resp.close()
        await gateway.record(call, status=status, error=error)
        _models_changed(gateway, node)


def _models_changed(gateway: Any, node: NodeView) -> None:
    """Ask for a rediscovery. The node has done the work by now: a failure here is logged,
    never turned into an error for the client (who might retry a copy or a create)."""
    try:
        gateway.after_models_changed(node.id)
    except Exception:
        logger.exception("could not schedule a rediscovery of node %s", node.name)
