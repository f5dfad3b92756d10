"""OpenAI-compatible endpoints (SPEC §2.1) and the Responses API (SPEC §2.4)."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from maestro_app.gateway.catalog import catalog
from maestro_app.gateway.pipeline import Endpoint, Gateway

router = APIRouter(tags=["openai"])

CHAT = Endpoint("/v1/chat/completions", "openai", "chat", stream_default=False)
COMPLETIONS = Endpoint("/v1/completions", "openai", "completion", stream_default=False)
EMBEDDINGS = Endpoint("/v1/embeddings", "openai", "embed", stream_default=False)
RESPONSES = Endpoint("/v1/responses", "openai", "responses", stream_default=False)
_STARTED = int(time.time())


def _gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


@router.get("/v1/models")
async def list_models(request: Request) -> JSONResponse:
    gateway = _gateway(request)
    snapshot = gateway.rt.snapshot
    user = gateway.auth.user(request.headers.get("authorization"), snapshot)
    data = []
    for entry in catalog(snapshot, user):
        item: dict[str, object] = {
            "id": entry.name,
            "object": "model",
            "created": _STARTED,
            "owned_by": "model-maestro"
            if entry.is_group
            else (entry.node.name if entry.node else "model-maestro"),
        }
        if entry.context_length:
            item["max_model_len"] = entry.context_length
        data.append(item)
    return JSONResponse({"object": "list", "data": data})


@router.post("/v1/chat/completions")
async def chat_completions(request: Request) -> Response:
    return await _gateway(request).handle(request, CHAT)


@router.post("/v1/completions")
async def completions(request: Request) -> Response:
    return await _gateway(request).handle(request, COMPLETIONS)


@router.post("/v1/embeddings")
async def embeddings(request: Request) -> Response:
    return await _gateway(request).handle(request, EMBEDDINGS)


@router.post("/v1/responses")
async def responses(request: Request) -> Response:
    return await _gateway(request).handle(request, RESPONSES)
