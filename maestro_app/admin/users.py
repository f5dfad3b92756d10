"""/admin/users: users, their tokens, model allowlists, daily limits and usage."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from maestro_app.admin.deps import AdminDep, IsoDate, PagingDep, RuntimeDep, SessionDep, commit_and_reload
from maestro_app.admin.routing import ProtectedRoute
from maestro_app.services import activity_query, users
from maestro_app.services.common import Page
from maestro_app.services.users import (
    LimitsUpdate,
    ModelsAdd,
    TokenRotate,
    UserCreate,
    UserLimits,
    UserModels,
    UserPublic,
    UserUpdate,
    UserWithToken,
)

router = APIRouter(prefix="/users", route_class=ProtectedRoute, tags=["admin: users"])
Search = Annotated[str | None, Query(max_length=128)]


@router.post("", status_code=201)
def create_user(body: UserCreate, actor: AdminDep, session: SessionDep, runtime: RuntimeDep) -> UserWithToken:
    created = users.create_user(
        session=session, data=body, actor=actor, jwt_secret=runtime.settings.jwt_secret_key or ""
    )
    commit_and_reload(session, runtime)
    return created


@router.get("")
def list_users(session: SessionDep, page: PagingDep, search: Search = None) -> Page[UserPublic]:
    return users.list_users(session=session, search=search, limit=page.limit, offset=page.offset)


@router.get("/{username}")
def get_user(username: str, session: SessionDep) -> UserPublic:
    return users.get_user(session=session, username=username)


@router.patch("/{username}")
def update_user(
    username: str, body: UserUpdate, actor: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> UserPublic:
    updated = users.update_user(session=session, username=username, data=body, actor=actor)
    commit_and_reload(session, runtime)
    return updated


@router.delete("/{username}", status_code=204, response_class=Response)
def delete_user(username: str, actor: AdminDep, session: SessionDep, runtime: RuntimeDep) -> None:
    users.delete_user(session=session, username=username, actor=actor)
    commit_and_reload(session, runtime)


@router.put("/{username}/token")
def rotate_token(
    username: str, actor: AdminDep, session: SessionDep, runtime: RuntimeDep, body: TokenRotate | None = None
) -> UserWithToken:
    rotated = users.rotate_token(
        session=session,
        username=username,
        actor=actor,
        data=body,
        jwt_secret=runtime.settings.jwt_secret_key or "",
    )
    commit_and_reload(session, runtime)
    return rotated


@router.get("/{username}/models")
def get_models(username: str, session: SessionDep) -> UserModels:
    return users.get_user_models(session=session, username=username)


@router.post("/{username}/models")
def add_models(
    username: str, body: ModelsAdd, actor: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> UserModels:
    result = users.add_user_models(session=session, username=username, models=body.models, actor=actor)
    commit_and_reload(session, runtime)
    return result


@router.post("/{username}/models/all")
def allow_all_models(username: str, actor: AdminDep, session: SessionDep, runtime: RuntimeDep) -> UserModels:
    result = users.allow_all_models(session=session, username=username, actor=actor)
    commit_and_reload(session, runtime)
    return result


@router.delete("/{username}/models/{model:path}")
def remove_model(
    username: str, model: str, actor: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> UserModels:
    result = users.remove_user_model(session=session, username=username, model=model, actor=actor)
    commit_and_reload(session, runtime)
    return result


@router.get("/{username}/limits")
def get_limits(username: str, session: SessionDep) -> UserLimits:
    return users.get_user_limits(session=session, username=username)


@router.post("/{username}/limits")
def set_limits(
    username: str, body: LimitsUpdate, actor: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> UserLimits:
    result = users.set_user_limits(session=session, username=username, data=body, actor=actor)
    commit_and_reload(session, runtime)
    return result


@router.delete("/{username}/limits")
def clear_limits(username: str, actor: AdminDep, session: SessionDep, runtime: RuntimeDep) -> UserLimits:
    result = users.clear_user_limits(session=session, username=username, actor=actor)
    commit_and_reload(session, runtime)
    return result


@router.get("/{username}/usage")
def usage(
    username: str, session: SessionDep, start: IsoDate | None = None, end: IsoDate | None = None
) -> activity_query.UsageReport:
    return activity_query.user_usage(session=session, username=username, start=start, end=end)
