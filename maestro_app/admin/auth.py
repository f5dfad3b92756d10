"""`POST /admin/auth/login`: dashboard credentials -> a 12-hour admin session token."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, StringConstraints

from maestro_app.admin.deps import RuntimeDep, SessionDep
from maestro_app.admin.routing import AdminRoute, ErrorAnswer
from maestro_app.services import admins
from maestro_app.services.common import Body


class LoginBody(Body):
    username: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class LoginAnswer(BaseModel):
    token: str
    expires_at: datetime
    username: str


def build_auth_router() -> APIRouter:
    router = APIRouter(prefix="/auth", route_class=AdminRoute, tags=["admin: auth"])
    throttle = admins.LoginThrottle()

    @router.post(
        "/login",
        responses={
            401: {"model": ErrorAnswer, "description": "Wrong username or password"},
            429: {"model": ErrorAnswer, "description": "Too many failed logins from this client"},
        },
    )
    def login(body: LoginBody, request: Request, session: SessionDep, runtime: RuntimeDep) -> LoginAnswer:
        issued = admins.login(
            session=session,
            username=body.username,
            password=body.password,
            secret=runtime.settings.jwt_secret_key or "",
            throttle=throttle,
            client=request.client.host if request.client else "unknown",
        )
        session.commit()
        return LoginAnswer(token=issued.token, expires_at=issued.expires_at, username=issued.username)

    return router
