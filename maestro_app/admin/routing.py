"""Route classes of the admin API: the one place where service errors become HTTP answers.

    AdminRoute        refuses NUL characters in the path or query; maps ServiceError
                      (and database integrity errors) to JSON 4xx/502 answers
    ProtectedRoute    AdminRoute that first authenticates the caller (admin token or a
                      dashboard session) before the body is even read; a client that sent
                      too many wrong tokens gets 429 with Retry-After for a while

Errors are re-raised as `HTTPException` rather than answered directly so that they pass
through the request's session dependency, which then rolls the transaction back.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.exc import DataError, IntegrityError
from starlette.concurrency import run_in_threadpool

from maestro_app.admin.deps import ACTOR_STATE_KEY, authenticate, bearer_token, check_not_throttled
from maestro_app.gateway.deps import get_runtime
from maestro_app.services.errors import (
    EntityConflict,
    EntityNotFound,
    InvalidCredentials,
    InvalidInput,
    ServiceError,
    TooManyAttempts,
    UpstreamError,
)

_STATUS: tuple[tuple[type[ServiceError], int], ...] = (
    (EntityNotFound, 404),
    (EntityConflict, 409),
    (InvalidInput, 422),
    (InvalidCredentials, 401),
    (TooManyAttempts, 429),
    (UpstreamError, 502),
)


def http_error(exc: ServiceError) -> HTTPException:
    status = next((code for kind, code in _STATUS if isinstance(exc, kind)), 400)
    headers = None
    if isinstance(exc, TooManyAttempts):
        headers = {"Retry-After": str(exc.retry_after)}
    elif isinstance(exc, InvalidCredentials):
        headers = {"WWW-Authenticate": "Bearer"}
    return HTTPException(status, exc.message, headers=headers)


def _refuse_nul(request: Request) -> None:
    query = request.query_params.multi_items()
    if "\x00" in request.scope.get("path", "") or any(
        "\x00" in key or "\x00" in value for key, value in query
    ):
        raise HTTPException(422, "NUL characters are not allowed in the path or query")


class AdminRoute(APIRoute):
    async def before(self, request: Request) -> None:
        _refuse_nul(request)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def admin_handler(request: Request) -> Response:
            await self.before(request)
            try:
                return await handler(request)
            except ServiceError as exc:
                raise http_error(exc) from exc
            except IntegrityError as exc:
                raise HTTPException(
                    409,
                    "The change conflicts with an existing entity "
                    "(it was probably created or changed meanwhile)",
                ) from exc
            except DataError as exc:
                raise HTTPException(422, "A value does not fit the database column") from exc

        return admin_handler


class ProtectedRoute(AdminRoute):
    async def before(self, request: Request) -> None:
        token = bearer_token(request)
        throttle = request.app.state.admin_throttle
        client = request.client.host if request.client else "unknown"
        # While throttled even the right token is refused: a guesser learns nothing more.
        check_not_throttled(throttle, client)
        try:
            actor = await run_in_threadpool(authenticate, get_runtime(request), token)
        except HTTPException as exc:
            if exc.status_code == 403:
                throttle.failed(client)
            raise
        setattr(request.state, ACTOR_STATE_KEY, actor)
        await super().before(request)
