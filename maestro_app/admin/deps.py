"""Dependencies of the admin endpoints: who is calling, a database session, paging.

Authentication itself runs in `admin.routing.ProtectedRoute` before the request body is
read, so an unauthenticated caller learns nothing about body validation; `AdminDep` reads
the actor it established.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Query, Request
from pydantic import BeforeValidator
from sqlmodel import Session

from maestro_app.gateway.deps import RuntimeDep
from maestro_app.runtime import Runtime
from maestro_app.services.admins import LoginThrottle, verify_admin_session
from maestro_app.services.audit import ADMIN_TOKEN_ACTOR
from maestro_app.services.common import INT32_MAX, MAX_PAGE_SIZE

ACTOR_STATE_KEY = "admin_actor"
_BEARER = {"WWW-Authenticate": "Bearer"}
# Wrong admin tokens per client address: after this many in the window, 429 until the
# oldest leaves it. Admin tokens are long random strings; this stops a guessing loop early.
ADMIN_TOKEN_MAX_FAILURES = 10
ADMIN_TOKEN_WINDOW_S = 60.0

__all__ = [
    "AdminDep",
    "IsoDate",
    "IsoDateTime",
    "NodeIdPath",
    "Paging",
    "PagingDep",
    "RuntimeDep",
    "SessionDep",
    "commit_and_reload",
]


def bearer_token(request: Request) -> str:
    """The token of `Authorization: Bearer <token>`; 401 when missing or malformed."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise HTTPException(
            401, "Missing or malformed Authorization header; expected 'Bearer <admin token>'", headers=_BEARER
        )
    return token


def authenticate(runtime: Runtime, token: str) -> str:
    """The actor behind `token`: the admin token, or a dashboard admin's session.

    Blocking (a session is checked against the database): call it off the event loop.
    """
    admin_token = runtime.settings.admin_token or ""
    if admin_token and secrets.compare_digest(token.encode(), admin_token.encode()):
        return ADMIN_TOKEN_ACTOR
    secret = runtime.settings.jwt_secret_key or ""
    if secret and token.count(".") == 2:
        with runtime.session() as session:
            check = verify_admin_session(session=session, token=token, secret=secret)
        if check.username is not None:
            return check.username
        if check.expired:
            raise HTTPException(401, "Dashboard session expired; log in again", headers=_BEARER)
    raise HTTPException(403, "Wrong admin token")


def new_admin_throttle() -> LoginThrottle:
    """The wrong-admin-token throttle of one app (kept in `app.state.admin_throttle`)."""
    return LoginThrottle(max_failures=ADMIN_TOKEN_MAX_FAILURES, window_s=ADMIN_TOKEN_WINDOW_S)


def check_not_throttled(throttle: LoginThrottle, client: str) -> None:
    wait = throttle.retry_after(client)
    if wait is not None:
        raise HTTPException(
            429,
            f"Too many wrong admin tokens from this client; try again in {wait} seconds",
            headers={"Retry-After": str(wait)},
        )


def current_actor(request: Request) -> str:
    actor = getattr(request.state, ACTOR_STATE_KEY, None)
    if not isinstance(actor, str):
        # Only reachable if an endpoint using AdminDep sits on an unprotected router.
        raise HTTPException(401, "Admin authentication required", headers=_BEARER)
    return actor


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    """A session that commits at the end of the request and rolls back on any error."""
    with runtime.session() as session:
        yield session


@dataclass(frozen=True, slots=True)
class Paging:
    limit: int
    offset: int


# Path ids: an id outside the 32-bit id columns is invalid input, not a database error.
NodeIdPath = Annotated[int, Path(ge=1, le=INT32_MAX)]


_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def _iso_text(value: Any) -> Any:
    """Dates in a query are ISO 8601 text, as the OpenAPI document says (`format: date`,
    `date-time`); pydantic alone would also read a number as a Unix timestamp."""
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        raise ValueError("must be an ISO 8601 date or date-time, like 2025-01-31 or 2025-01-31T12:00:00Z")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_text)]
IsoDateTime = Annotated[datetime, BeforeValidator(_iso_text)]


def paging(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**53)] = 0,
) -> Paging:
    return Paging(limit, offset)


def commit_and_reload(session: Session, runtime: Runtime) -> None:
    """Commit an admin write, then rebuild this worker's routing snapshot at once (other
    workers follow through the config version)."""
    session.commit()
    runtime.reload()


AdminDep = Annotated[str, Depends(current_actor)]
SessionDep = Annotated[Session, Depends(get_session)]
PagingDep = Annotated[Paging, Depends(paging)]
