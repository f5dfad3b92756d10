"""Ollama-native endpoints (SPEC §2.2): inference, listings, and model management."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from maestro_app.domain.errors import NotFound, UpstreamFailed
from maestro_app.domain.names import canonical
from maestro_app.domain.routing import shown_attempt
from maestro_app.gateway import management
from maestro_app.gateway.body import check_fields, parse_object, read_limited
from maestro_app.gateway.catalog import CatalogEntry, catalog
from maestro_app.gateway.pipeline import Endpoint, Gateway
from maestro_app.gateway.upstream import UpstreamError

router = APIRouter(tags=["ollama"])

CHAT = Endpoint("/api/chat", "ollama", "chat", stream_default=True)
GENERATE = Endpoint("/api/generate", "ollama", "generate", stream_default=True)
EMBED = Endpoint("/api/embed", "ollama", "embed", stream_default=False)
EMBEDDINGS = Endpoint("/api/embeddings", "ollama", "embed_legacy", stream_default=False)
OLLAMA_COMPAT_VERSION = "0.12.6"
_EPOCH = datetime(2024, 1, 1, tzinfo=UTC).isoformat().replace("+00:00", "Z")


def _gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


@router.post("/api/chat")
async def chat(request: Request) -> Response:
    return await _gateway(request).handle(request, CHAT)


@router.post("/api/generate")
async def generate(request: Request) -> Response:
    return await _gateway(request).handle(request, GENERATE)


@router.post("/api/embed")
async def embed(request: Request) -> Response:
    return await _gateway(request).handle(request, EMBED)


@router.post("/api/embeddings")
async def embeddings(request: Request) -> Response:
    return await _gateway(request).handle(request, EMBEDDINGS)


@router.get("/api/version")
async def version() -> JSONResponse:
    return JSONResponse({"version": OLLAMA_COMPAT_VERSION})


def _tag(entry: CatalogEntry) -> dict[str, Any]:
    info = entry.info
    details = dict(info.details) if info else {}
    return {
        "name": entry.name,
        "model": entry.name,
        "modified_at": details.pop("modified_at", _EPOCH),
        "size": (info.size if info and info.size else 0),
        "digest": details.pop("digest", ""),
        "details": {
            "format": details.get("format", "gguf"),
            "family": (info.family if info and info.family else details.get("family", "")),
            "families": details.get("families") or None,
            "parameter_size": details.get("parameter_size", ""),
            "quantization_level": details.get("quantization_level", ""),
        },
    }


@router.get("/api/tags")
async def tags(request: Request) -> JSONResponse:
    gateway = _gateway(request)
    snapshot = gateway.rt.snapshot
    user = gateway.auth.user(request.headers.get("authorization"), snapshot)
    return JSONResponse({"models": [_tag(e) for e in catalog(snapshot, user)]})


@router.post("/api/show")
async def show(request: Request) -> Response:
    gateway = _gateway(request)
    snapshot = gateway.rt.snapshot
    user = gateway.auth.user(request.headers.get("authorization"), snapshot)
    body = parse_object(await read_limited(request, int(snapshot.setting("max_body_bytes"))))
    if "model" not in body and isinstance(body.get("name"), str):
        body["model"] = body["name"]
    check_fields(body, ("model",))
    requested: str = body["model"]
    attempt = shown_attempt(snapshot, requested, user=user, state=gateway.rt.balancer)
    wanted = canonical(requested)  # `qwen3` is `qwen3:latest`
    entry = next((e for e in catalog(snapshot, user) if canonical(e.name) == wanted), None)
    info = attempt.node.find_model(attempt.real_model)
    mapping = attempt.mapping
    context_length = (
        (entry.context_length if entry else None)
        or (mapping.context_length if mapping else None)
        or (info.context_length if info else None)
    )
    answer: dict[str, Any] | None = None
    if attempt.node.node_type == "ollama":
        try:
            resp = await gateway.rt.upstream.send(
                "POST",
                attempt.node.base_url + "/api/show",
                body=orjson.dumps(dict(body, model=attempt.real_model)),
                headers=attempt.node.upstream_headers,
                read_timeout=30,
            )
            raw = await resp.read()
            resp.close()
        except UpstreamError as exc:
            raise UpstreamFailed(f"Node '{attempt.node.name}' did not answer /api/show: {exc}") from None
        if resp.status == 404:
            raise NotFound(f"model '{requested}' not found")
        if resp.status < 400:
            try:
                parsed = orjson.loads(raw)
            except orjson.JSONDecodeError:
                parsed = None
            answer = parsed if isinstance(parsed, dict) else None
    if answer is None:
        if info is None and entry is None and mapping is None:
            # A vLLM node is not asked: a name it does not advertise is unknown (SPEC §2).
            raise NotFound(f"model '{requested}' not found")
        answer = {
            "modelfile": "",
            "parameters": "",
            "template": "",
            "details": {
                "format": "safetensors" if attempt.node.node_type != "ollama" else "gguf",
                "family": (info.family if info and info.family else ""),
                "parameter_size": "",
                "quantization_level": "",
            },
            "model_info": {},
            "capabilities": list(entry.capabilities if entry else ("completion",)),
        }
    model_info = answer.setdefault("model_info", {})
    if context_length:
        arch = (
            model_info.get("general.architecture") or (answer.get("details") or {}).get("family") or "llama"
        )
        model_info["general.architecture"] = arch
        model_info[f"{arch}.context_length"] = context_length
    if mapping and mapping.capabilities:
        answer["capabilities"] = list(mapping.capabilities)  # the admin's word over the node's
    elif entry and entry.capabilities and not answer.get("capabilities"):
        answer["capabilities"] = list(entry.capabilities)
    answer = management.rename_names(answer, attempt.real_model, requested)
    if isinstance(answer.get("modelfile"), str):
        # `ollama show` writes the model's own name into the Modelfile text (`FROM <name>`).
        answer["modelfile"] = _rename_in_text(answer["modelfile"], attempt.real_model, requested)
    return Response(orjson.dumps(answer), media_type="application/json")


def _rename_in_text(text: str, real: str, display: str) -> str:
    """Replace `real` where it stands as a whole model name inside free text."""
    if real == display or real not in text:
        return text
    pattern = re.compile(r"(?<![\w.:/-])" + re.escape(real) + r"(?![\w.:/-])")
    return pattern.sub(lambda _: display, text)


@router.get("/api/ps")
async def ps(request: Request) -> JSONResponse:
    gateway = _gateway(request)
    snapshot = gateway.rt.snapshot
    user = gateway.auth.user(request.headers.get("authorization"), snapshot)
    nodes = [n for n in snapshot.nodes if n.is_active and n.node_type == "ollama"]

    async def running(node: Any) -> list[dict[str, Any]]:
        try:
            resp = await gateway.rt.upstream.send(
                "GET", node.base_url + "/api/ps", headers=node.upstream_headers, read_timeout=5
            )
            raw = await resp.read()
            resp.close()
            if resp.status != 200:
                return []
            models = orjson.loads(raw).get("models") or []
        except (UpstreamError, ValueError, AttributeError):
            return []
        out = []
        for m in models:
            if not isinstance(m, dict):
                continue
            display = snapshot.display_name(str(m.get("name") or m.get("model") or ""), node.id)
            if user.may_use(display):
                out.append(dict(m, name=display, model=display))
        return out

    results = await asyncio.gather(*(running(n) for n in nodes))
    return JSONResponse({"models": [m for group in results for m in group]})


for _path, _method in management.ROUTES:
    router.add_api_route(
        _path,
        management.endpoint,
        methods=[_method],
        include_in_schema=True,
        name=f"manage{_path.replace('/', '_')}",
    )
