"""Anthropic Messages endpoints (SPEC §2.4), for Claude Code and other Anthropic clients.

    POST /v1/messages                 (and /anthropic/v1/messages)   the gateway pipeline
    POST /v1/messages/count_tokens    (and under /anthropic)         an estimate, no node asked
    GET  /anthropic/v1/models[/{id}]  (and /v1/models[/{id}] with `anthropic-version`)

`/anthropic` is a base URL of its own for clients that need one distinct from the OpenAI
`/v1`. The token comes as `x-api-key` or `Authorization: Bearer`; errors are Anthropic's
`{"type": "error", "error": {...}}` (`gateway.errors`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from maestro_app.domain.errors import BadRequest, NotFound
from maestro_app.domain.names import canonical
from maestro_app.domain.routing import check_allowed
from maestro_app.domain.snapshot import UserView
from maestro_app.gateway.anthropic_body import check_count_tokens_body, check_messages_body
from maestro_app.gateway.body import parse_object, read_limited
from maestro_app.gateway.catalog import LISTED_SINCE, CatalogEntry, catalog
from maestro_app.gateway.errors import anthropic_error_body
from maestro_app.gateway.pipeline import Endpoint, Gateway
from maestro_app.providers.anthropic import anthropic_to_openai_chat
from maestro_app.providers.tokens import context_chars, estimate_tokens

router = APIRouter(tags=["anthropic"])

_CREATED_AT = datetime.fromtimestamp(LISTED_SINCE, UTC).isoformat().replace("+00:00", "Z")
_PAGE_DEFAULT, _PAGE_MAX = 20, 1000


def _prepare_messages(body: dict[str, Any]) -> dict[str, Any]:
    check_messages_body(body)
    return anthropic_to_openai_chat(body)


MESSAGES = Endpoint("/v1/messages", "anthropic", "chat", stream_default=False, prepare=_prepare_messages)


def _gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


def _user(request: Request) -> UserView:
    gateway = _gateway(request)
    return gateway.auth.request_user(request.headers, gateway.rt.snapshot, api_key=True)


@router.post("/v1/messages")
@router.post("/anthropic/v1/messages")
async def messages(request: Request) -> Response:
    return await _gateway(request).handle(request, MESSAGES)


@router.post("/v1/messages/count_tokens")
@router.post("/anthropic/v1/messages/count_tokens")
async def count_tokens(request: Request) -> JSONResponse:
    """Characters / 4 of everything the model would read (system, messages, tool calls and
    results, tool definitions): the estimate the gateway makes wherever a node gave no count.
    Free, as Anthropic's is: no node is asked, no quota used, no activity recorded."""
    user = _user(request)
    snapshot = _gateway(request).rt.snapshot
    body = parse_object(await read_limited(request, int(snapshot.setting("max_body_bytes"))))
    check_count_tokens_body(body)
    check_allowed(user, body["model"])
    return JSONResponse({"input_tokens": estimate_tokens(context_chars(anthropic_to_openai_chat(body)))})


# -- models -------------------------------------------------------------------------------


def _model(entry: CatalogEntry) -> dict[str, Any]:
    return {"type": "model", "id": entry.name, "display_name": entry.name, "created_at": _CREATED_AT}


def _limit(raw: str | None) -> int:
    if raw is None:
        return _PAGE_DEFAULT
    # isascii: "³".isdigit() is true, and int("³") fails.
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= _PAGE_MAX:
        raise BadRequest(f"limit must be an integer from 1 to {_PAGE_MAX}", code="invalid_value")
    return int(raw)


def _page(names: list[str], *, limit: int, after: str | None, before: str | None) -> tuple[slice, bool]:
    """The slice of `names` a page covers, and whether more lie beyond it in that direction."""
    if before is not None:
        end = names.index(before) if before in names else 0
        start = max(0, end - limit)
        return slice(start, end), start > 0
    start = names.index(after) + 1 if after in names else (0 if after is None else len(names))
    return slice(start, start + limit), start + limit < len(names)


def anthropic_models(request: Request) -> JSONResponse:
    """The user's models in Anthropic's list shape, paged by `limit`, `after_id`, `before_id`."""
    entries = catalog(_gateway(request).rt.snapshot, _user(request))
    query = request.query_params
    window, has_more = _page(
        [entry.name for entry in entries],
        limit=_limit(query.get("limit")),
        after=query.get("after_id"),
        before=query.get("before_id"),
    )
    data = [_model(entry) for entry in entries[window]]
    return JSONResponse(
        {
            "data": data,
            "has_more": has_more,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
        }
    )


def find_listed(request: Request, model_id: str, *, api_key: bool) -> CatalogEntry:
    """The catalog entry named `model_id` the user may see, or NotFound."""
    gateway = _gateway(request)
    user = gateway.auth.request_user(request.headers, gateway.rt.snapshot, api_key=api_key)
    wanted = canonical(model_id)
    for entry in catalog(gateway.rt.snapshot, user):
        if canonical(entry.name) == wanted:
            return entry
    raise NotFound(f"Model '{model_id}' not found")


def anthropic_model(request: Request, model_id: str) -> JSONResponse:
    return JSONResponse(_model(find_listed(request, model_id, api_key=True)))


@router.get("/anthropic/v1/models")
async def list_models(request: Request) -> JSONResponse:
    return anthropic_models(request)


@router.get("/anthropic/v1/models/{model_id:path}")
async def get_model(request: Request, model_id: str) -> JSONResponse:
    return anthropic_model(request, model_id)


@router.api_route(
    "/anthropic/{path:path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
    include_in_schema=False,
)
async def not_found(request: Request, path: str) -> JSONResponse:
    message = f"Unknown endpoint {request.method} /anthropic/{path}"
    return JSONResponse(anthropic_error_body(404, message), status_code=404)
