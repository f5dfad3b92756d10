"""What every Grafana Assistant endpoint shares: envelopes, errors, authentication, the DB.

envelope(data)           {"status": "success", "data": ...}
error_response(...)      {"status": "error", "errorType": <code>, "error": <message>}
GrafanaRoute             authenticates the user token before the endpoint runs, and is
                         the one place where gateway and service errors become the
                         endpoint's error envelope (401 without a token, 404 for
                         another user's chat, 400 for bad input, ...)
in_db(runtime, fn, ...)  a service call in its own session, off the event loop
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import orjson
from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.responses import JSONResponse

from maestro_app.db.engine import as_background_work
from maestro_app.domain.errors import BadRequest, GatewayError
from maestro_app.domain.snapshot import UserView
from maestro_app.gateway.body import parse_json, parse_object, read_limited
from maestro_app.runtime import Runtime
from maestro_app.services.common import contains_nul
from maestro_app.services.errors import EntityConflict, EntityNotFound, InvalidInput, ServiceError

logger = logging.getLogger(__name__)

USER_STATE_KEY = "grafana_user"
T = TypeVar("T")

_SERVICE_STATUS: tuple[tuple[type[ServiceError], int, str], ...] = (
    (EntityNotFound, 404, "not_found"),
    (EntityConflict, 409, "conflict"),
    (InvalidInput, 400, "invalid_request"),
)


def envelope(data: Any, *, status_code: int = 200) -> Response:
    return Response(
        orjson.dumps({"status": "success", "data": data}),
        status_code=status_code,
        media_type="application/json",
    )


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(
        {"status": "error", "errorType": code, "error": message}, status_code=status, headers=headers
    )


def gateway_error_response(err: GatewayError) -> Response:
    return error_response(err.status, err.code, err.message, err.headers())


def service_error_response(err: ServiceError) -> Response:
    status, code = next(((s, c) for kind, s, c in _SERVICE_STATUS if isinstance(err, kind)), (400, "invalid"))
    return error_response(status, code, err.message)


class GrafanaRoute(APIRoute):
    """Authenticated like every gateway route: `Authorization: Bearer <user token>`."""

    authenticated = True

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        authenticated = self.authenticated

        async def handle(request: Request) -> Response:
            try:
                if authenticated:
                    gateway = request.app.state.gateway
                    user = gateway.auth.user(request.headers.get("authorization"), gateway.rt.snapshot)
                    setattr(request.state, USER_STATE_KEY, user)
                return await handler(request)
            except GatewayError as err:
                return gateway_error_response(err)
            except ServiceError as err:
                return service_error_response(err)

        return handle


class OpenGrafanaRoute(GrafanaRoute):
    """For the JSON 404 of unknown paths: nothing there to protect."""

    authenticated = False


def current_user(request: Request) -> UserView:
    user: UserView = getattr(request.state, USER_STATE_KEY)
    return user


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def in_db(runtime: Runtime, work: Callable[..., T], /, **kwargs: Any) -> T:
    """Run a service function off the event loop, in a session committed when it returns.

    Marked as background work: chats are not routing, and the hot-path test (no SQL while
    proxying) keeps meaning what it says."""

    def run() -> T:
        with as_background_work(), runtime.session() as session:
            return work(session=session, **kwargs)

    return await asyncio.to_thread(run)


def query_int(request: Request, name: str, default: int, *, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"Query parameter '{name}' must be an integer", code="invalid_value") from None
    if not low <= value <= high:
        raise BadRequest(f"Query parameter '{name}' must be from {low} to {high}", code="invalid_value")
    return value


def query_bool(request: Request, name: str, default: bool) -> bool:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise BadRequest(f"Query parameter '{name}' must be true or false", code="invalid_value")


async def read_json(request: Request, runtime: Runtime, *, objects_only: bool = True) -> Any:
    """The JSON body within the size limit; NUL characters refused (PostgreSQL text cannot
    hold them), so bad input fails here and writes nothing."""
    raw = await read_limited(request, int(runtime.snapshot.setting("max_body_bytes")))
    body = parse_object(raw) if objects_only else parse_json(raw, expected="JSON")
    if contains_nul(body):
        raise BadRequest("Text must not contain NUL characters", code="invalid_value")
    return body
