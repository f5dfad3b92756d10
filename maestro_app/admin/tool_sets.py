"""/admin/tool-sets: named tool lists (by name; `tools: null` = every tool)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from maestro_app.admin.deps import AdminDep, PagingDep, RuntimeDep, SessionDep, commit_and_reload
from maestro_app.admin.routing import ProtectedRoute
from maestro_app.services import tool_sets
from maestro_app.services.common import Page
from maestro_app.services.tool_sets import ToolSetCreate, ToolSetPublic, ToolSetUpdate

router = APIRouter(prefix="/tool-sets", route_class=ProtectedRoute, tags=["admin: tool sets"])


@router.post("", status_code=201)
def create_tool_set(
    body: ToolSetCreate, actor: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> ToolSetPublic:
    created = tool_sets.create_tool_set(session=session, data=body, actor=actor)
    commit_and_reload(session, runtime)
    return created


@router.get("")
def list_tool_sets(
    session: SessionDep, page: PagingDep, search: Annotated[str | None, Query(max_length=128)] = None
) -> Page[ToolSetPublic]:
    return tool_sets.list_tool_sets(session=session, search=search, limit=page.limit, offset=page.offset)


@router.get("/{name:path}")
def get_tool_set(name: str, session: SessionDep) -> ToolSetPublic:
    return tool_sets.get_tool_set(session=session, name=name)


@router.put("/{name:path}")
def update_tool_set(
    name: str, body: ToolSetUpdate, actor: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> ToolSetPublic:
    updated = tool_sets.update_tool_set(session=session, name=name, data=body, actor=actor)
    commit_and_reload(session, runtime)
    return updated


@router.delete("/{name:path}", status_code=204, response_class=Response)
def delete_tool_set(name: str, actor: AdminDep, session: SessionDep, runtime: RuntimeDep) -> None:
    tool_sets.delete_tool_set(session=session, name=name, actor=actor)
    commit_and_reload(session, runtime)
