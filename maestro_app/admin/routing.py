"""Route classes of the admin API: the one place where service errors become HTTP answers.

    AdminRoute        refuses NUL characters in the path or query and repeated query
                      parameters; maps ServiceError
                      (and database integrity errors) to JSON 4xx/502 answers, and
                      documents those answers in the OpenAPI document
    ProtectedRoute    AdminRoute that first authenticates the caller (admin token or a
                      dashboard session) before the body is even read; a client that sent
                      too many wrong tokens gets 429 with Retry-After for a while

Errors are re-raised as `HTTPException` rather than answered directly so that they pass
through the request's session dependency, which then rolls the transaction back.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, ClassVar

from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy.exc import DataError, IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

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


class ErrorAnswer(BaseModel):
    """Every admin error: what went wrong, in words."""

    detail: str


class InvalidAnswer(BaseModel):
    """422: a message, or FastAPI's list of what is wrong with the request's fields."""

    detail: str | list[dict[str, Any]]


_ERROR_TEXT = {
    401: "No admin token, a malformed Authorization header, or an expired dashboard session",
    403: "A wrong admin token",
    404: "An entity the request names does not exist",
    409: "The change conflicts with an existing entity",
    422: "Invalid input",
}
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def documented_errors(path: str, methods: set[str], *, protected: bool) -> dict[int | str, dict[str, Any]]:
    """The error answers an admin operation can give, for its OpenAPI document: auth
    failures when protected, 404 when it names an entity (in the path, or in a write's
    body), 409 on writes, 422 always."""
    codes = {422}
    if protected:
        codes |= {401, 403}
    if "{" in path or methods & _WRITES:
        codes.add(404)
    if methods & _WRITES:
        codes.add(409)
    return {
        code: {"model": InvalidAnswer if code == 422 else ErrorAnswer, "description": _ERROR_TEXT[code]}
        for code in sorted(codes)
    }


def _refuse_odd_query(request: Request) -> None:
    """NUL characters (PostgreSQL refuses them) and repeated query parameters (every admin
    parameter is a single value; FastAPI would silently keep the last one)."""
    query = request.query_params.multi_items()
    if "\x00" in request.scope.get("path", "") or any(
        "\x00" in key or "\x00" in value for key, value in query
    ):
        raise HTTPException(422, "NUL characters are not allowed in the path or query")
    names = [key for key, _ in query]
    repeated = sorted({key for key in names if names.count(key) > 1})
    if repeated:
        raise HTTPException(422, f"Query parameter {repeated[0]!r} is given more than once")


class AdminRoute(APIRoute):
    protected: ClassVar[bool] = False

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        methods = {m.upper() for m in kwargs.get("methods") or ()}
        errors = documented_errors(path, methods, protected=self.protected)
        kwargs["responses"] = {**errors, **(kwargs.get("responses") or {})}
        super().__init__(path, endpoint, **kwargs)

    async def before(self, request: Request) -> None:
        _refuse_odd_query(request)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def admin_handler(request: Request) -> Response:
            await self.before(request)
            try:
                return await handler(request)
            except StarletteHTTPException as exc:
                # FastAPI's answer to a body it cannot decode (not UTF-8, not JSON): invalid
                # input like any other, so 422 (SPEC §5), not a bare 400.
                if exc.status_code == 400:
                    raise HTTPException(422, "The body is not valid JSON (it must be UTF-8 text)") from exc
                raise
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
    protected = True

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
