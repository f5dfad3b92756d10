"""/admin/model-mappings: display name -> real name, global or per node set."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from maestro_app.admin.deps import AdminDep, PagingDep, RuntimeDep, SessionDep, commit_and_reload
from maestro_app.admin.routing import ProtectedRoute
from maestro_app.services import mappings
from maestro_app.services.common import Page
from maestro_app.services.mappings import MappingCreate, MappingPublic, MappingUpdate

router = APIRouter(prefix="/model-mappings", route_class=ProtectedRoute, tags=["admin: model mappings"])


@router.post("", status_code=201)
def create_mapping(
    body: MappingCreate, actor: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> MappingPublic:
    created = mappings.create_mapping(session=session, data=body, actor=actor)
    commit_and_reload(session, runtime)
    return created


@router.get("")
def list_mappings(
    session: SessionDep, page: PagingDep, search: Annotated[str | None, Query(max_length=256)] = None
) -> Page[MappingPublic]:
    return mappings.list_mappings(session=session, search=search, limit=page.limit, offset=page.offset)


@router.get("/{ref:path}")
def get_mapping(ref: str, session: SessionDep) -> MappingPublic:
    return mappings.get_mapping(session=session, ref=ref)


@router.put("/{ref:path}")
def update_mapping(
    ref: str, body: MappingUpdate, actor: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> MappingPublic:
    updated = mappings.update_mapping(session=session, ref=ref, data=body, actor=actor)
    commit_and_reload(session, runtime)
    return updated


@router.delete("/{ref:path}", status_code=204, response_class=Response)
def delete_mapping(ref: str, actor: AdminDep, session: SessionDep, runtime: RuntimeDep) -> None:
    mappings.delete_mapping(session=session, ref=ref, actor=actor)
    commit_and_reload(session, runtime)
