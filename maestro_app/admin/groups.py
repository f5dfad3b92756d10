"""/admin/model-groups: groups, their members, and the members' order."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from maestro_app.admin.deps import AdminDep, PagingDep, RuntimeDep, SessionDep, commit_and_reload
from maestro_app.admin.routing import ProtectedRoute
from maestro_app.services import groups
from maestro_app.services.common import INT32_MAX, Page
from maestro_app.services.groups import (
    GroupCreate,
    GroupPublic,
    GroupUpdate,
    MemberCreate,
    MemberOrder,
    MemberPublic,
    MemberUpdate,
)

router = APIRouter(prefix="/model-groups", route_class=ProtectedRoute, tags=["admin: model groups"])
MemberId = Annotated[int, Path(ge=1, le=INT32_MAX)]

# Group names may contain "/", so `{name:path}`; the member routes are declared before the
# group routes so that `.../members/...` is never read as part of a group name.


@router.post("", status_code=201)
def create_group(body: GroupCreate, actor: AdminDep, session: SessionDep, runtime: RuntimeDep) -> GroupPublic:
    created = groups.create_group(session=session, data=body, actor=actor)
    commit_and_reload(session, runtime)
    return created


@router.get("")
def list_groups(
    session: SessionDep, page: PagingDep, search: Annotated[str | None, Query(max_length=256)] = None
) -> Page[GroupPublic]:
    return groups.list_groups(session=session, search=search, limit=page.limit, offset=page.offset)


@router.put("/{name:path}/members/order")
def reorder_members(
    name: str, body: MemberOrder, actor: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> GroupPublic:
    result = groups.reorder_members(session=session, name=name, data=body, actor=actor)
    commit_and_reload(session, runtime)
    return result


@router.post("/{name:path}/members", status_code=201)
def add_member(
    name: str, body: MemberCreate, actor: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> MemberPublic:
    member = groups.add_member(session=session, name=name, data=body, actor=actor)
    commit_and_reload(session, runtime)
    return member


@router.put("/{name:path}/members/{member_id}")
def update_member(
    name: str,
    member_id: MemberId,
    body: MemberUpdate,
    actor: AdminDep,
    session: SessionDep,
    runtime: RuntimeDep,
) -> MemberPublic:
    member = groups.update_member(session=session, name=name, member_id=member_id, data=body, actor=actor)
    commit_and_reload(session, runtime)
    return member


@router.delete("/{name:path}/members/{member_id}", status_code=204, response_class=Response)
def delete_member(
    name: str, member_id: MemberId, actor: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> None:
    groups.delete_member(session=session, name=name, member_id=member_id, actor=actor)
    commit_and_reload(session, runtime)


@router.get("/{name:path}")
def get_group(name: str, session: SessionDep) -> GroupPublic:
    return groups.get_group(session=session, name=name)


@router.put("/{name:path}")
def update_group(
    name: str, body: GroupUpdate, actor: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> GroupPublic:
    updated = groups.update_group(session=session, name=name, data=body, actor=actor)
    commit_and_reload(session, runtime)
    return updated


@router.delete("/{name:path}", status_code=204, response_class=Response)
def delete_group(name: str, actor: AdminDep, session: SessionDep, runtime: RuntimeDep) -> None:
    groups.delete_group(session=session, name=name, actor=actor)
    commit_and_reload(session, runtime)
