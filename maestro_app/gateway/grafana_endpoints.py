"""The Grafana Assistant API (SPEC §2.5) under `/grafana/assistant/api/v1/`.

The Grafana Assistant plugin talks to a backend shaped like Grafana Cloud's assistant API;
given the base URL `{gateway}/grafana`, it finds that backend here. Every endpoint takes
the user token in `Authorization` and answers the envelope `{"status": "success", "data"}`
(errors: `{"status": "error", "errorType", "error"}`), except OFREP, which speaks the
OpenFeature Remote Evaluation Protocol as its clients expect.

This module: the settings and capability probes the plugin makes at start, and the JSON 404
of unknown paths. Chats: `grafana_chat_endpoints`; the prompt: `grafana_prompt`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.responses import JSONResponse

from maestro_app.gateway import grafana_chat_endpoints, grafana_prompt
from maestro_app.gateway.grafana_route import (
    GrafanaRoute,
    OpenGrafanaRoute,
    current_user,
    envelope,
    error_response,
    read_json,
    runtime_of,
)
from maestro_app.stores.limits import seconds_to_midnight

logger = logging.getLogger(__name__)

PREFIX = "/grafana/assistant/api/v1"
# What this backend offers the plugin: chat with streamed answers and tools. Grafana
# Cloud's investigations, infrastructure discovery, hosted MCP servers, skills, rules and
# quickstarts have no counterpart in a self-hosted gateway.
FEATURES = {
    "chat": True,
    "streaming": True,
    "tools": True,
    "investigations": False,
    "infrastructureDiscovery": False,
    "mcp": False,
    "skills": False,
    "rules": False,
    "quickstarts": False,
}
# A self-hosted gateway has no terms of service of its own: they count as accepted.
TERMS = {"accepted": True, "required": False, "version": None}

probes = APIRouter(route_class=GrafanaRoute)


def public_base_url(request: Request) -> str:
    """`scheme://host` the client reached us at (a reverse proxy's forwarded values first)."""
    scheme = request.headers.get("x-forwarded-proto", "").split(",")[0].strip() or request.url.scheme
    host = request.headers.get("x-forwarded-host", "").split(",")[0].strip() or request.url.netloc
    root = request.scope.get("root_path", "").rstrip("/")
    return f"{scheme}://{host}{root}"


@probes.get("/settings")
async def settings(request: Request) -> Response:
    model = runtime_of(request).snapshot.setting("grafana_model")
    return envelope(
        {
            "assistantApiUrl": public_base_url(request) + "/grafana",
            "model": model,
            "modelConfigured": bool(model),
            "features": FEATURES,
            "terms": TERMS,
        }
    )


@probes.get("/settings/terms")
async def terms(request: Request) -> Response:
    return envelope(TERMS)


@probes.put("/settings/accept-terms")
async def accept_terms(request: Request) -> Response:
    return envelope(TERMS)


@probes.get("/discovery/infra/status")
async def infra_status(request: Request) -> Response:
    return envelope({"available": False})


@probes.get("/quickstarts")
@probes.get("/rules")
@probes.get("/mcp-tools")
@probes.get("/skills")
async def empty_list(request: Request) -> Response:
    return envelope([])


@probes.post("/ofrep/v1/evaluate/flags")
async def evaluate_flags(request: Request) -> Response:
    """OFREP bulk evaluation: no flags of our own, so the plugin keeps its defaults."""
    body = await read_json(request, runtime_of(request))
    if "context" in body and not isinstance(body["context"], dict):
        return error_response(400, "invalid_context", "Field 'context' must be an object")
    return JSONResponse({"flags": []})


@probes.post("/ofrep/v1/evaluate/flags/{key}")
async def evaluate_flag(request: Request, key: str) -> Response:
    return JSONResponse(
        {"key": key, "errorCode": "FLAG_NOT_FOUND", "errorDetails": f"Flag '{key}' is not defined"},
        status_code=404,
    )


async def _daily_requests(request: Request) -> Response:
    """The user's daily request quota: every prompt and investigation counts against it."""
    user = current_user(request)
    runtime = runtime_of(request)
    used, _tokens = await runtime.limits.usage(user.id)
    limit = user.request_limit
    now = runtime.limits.clock()
    reset = datetime.fromtimestamp(now + seconds_to_midnight(now), UTC).replace(microsecond=0)
    data: dict[str, Any] = {
        "period": "day",
        "limit": limit,
        "used": used,
        "remaining": None if limit is None else max(0, limit - used),
        "unlimited": limit is None,
        "resetAt": reset.isoformat().replace("+00:00", "Z"),
    }
    return envelope(data)


probes.add_api_route("/usage/limits/prompt", _daily_requests, methods=["GET"])
probes.add_api_route("/usage/limits/investigation", _daily_requests, methods=["GET"])

api = APIRouter(prefix=PREFIX)
api.include_router(probes)
api.include_router(grafana_chat_endpoints.router)
api.include_router(grafana_prompt.router)


async def _not_found(request: Request, path: str) -> Response:
    logger.warning("unknown Grafana Assistant endpoint %s /grafana/%s", request.method, path)
    return error_response(404, "not_found", f"Unknown endpoint {request.method} /grafana/{path}")


router = APIRouter(tags=["grafana assistant"])
router.include_router(api)
router.add_api_route(
    "/grafana/{path:path}",
    _not_found,
    methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
    include_in_schema=False,
    route_class_override=OpenGrafanaRoute,
)
