"""OpenAI-compatible endpoints (SPEC §2.1) and the Responses API (SPEC §2.4)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from maestro_app.gateway.anthropic_endpoints import anthropic_model, anthropic_models, find_listed
from maestro_app.gateway.catalog import LISTED_SINCE, CatalogEntry, catalog
from maestro_app.gateway.pipeline import Endpoint, Gateway

router = APIRouter(tags=["openai"])

CHAT = Endpoint("/v1/chat/completions", "openai", "chat", stream_default=False)
COMPLETIONS = Endpoint("/v1/completions", "openai", "completion", stream_default=False)
EMBEDDINGS = Endpoint("/v1/embeddings", "openai", "embed", stream_default=False)
RESPONSES = Endpoint("/v1/responses", "openai", "responses", stream_default=False)
# Anthropic clients list models at the same path, and say so with this header.
_ANTHROPIC = "anthropic-version"


def _gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


def _model(entry: CatalogEntry) -> dict[str, object]:
    item: dict[str, object] = {
        "id": entry.name,
        "object": "model",
        "created": LISTED_SINCE,
        "owned_by": "model-maestro"
        if entry.is_group
        else (entry.node.name if entry.node else "model-maestro"),
    }
    if entry.context_length:
        item["max_model_len"] = entry.context_length
    return item


@router.get("/v1/models")
async def list_models(request: Request) -> JSONResponse:
    if _ANTHROPIC in request.headers:
        return anthropic_models(request)
    gateway = _gateway(request)
    snapshot = gateway.rt.snapshot
    user = gateway.auth.user(request.headers.get("authorization"), snapshot)
    return JSONResponse({"object": "list", "data": [_model(entry) for entry in catalog(snapshot, user)]})


@router.get("/v1/models/{model_id:path}")
async def get_model(request: Request, model_id: str) -> JSONResponse:
    if _ANTHROPIC in request.headers:
        return anthropic_model(request, model_id)
    return JSONResponse(_model(find_listed(request, model_id, api_key=False)))


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
