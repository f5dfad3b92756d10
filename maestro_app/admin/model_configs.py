"""/admin/model-config: per-model request rules by name prefix (by id or prefix)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from maestro_app.admin.deps import AdminDep, PagingDep, RuntimeDep, SessionDep, commit_and_reload
from maestro_app.admin.routing import ProtectedRoute
from maestro_app.services import model_configs
from maestro_app.services.common import Page
from maestro_app.services.model_configs import ModelConfigCreate, ModelConfigPublic, ModelConfigUpdate

router = APIRouter(prefix="/model-config", route_class=ProtectedRoute, tags=["admin: model config"])


@router.post("", status_code=201)
def create_model_config(
    body: ModelConfigCreate, actor: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> ModelConfigPublic:
    created = model_configs.create_model_config(session=session, data=body, actor=actor)
    commit_and_reload(session, runtime)
    return created


@router.get("")
def list_model_configs(
    session: SessionDep, page: PagingDep, search: Annotated[str | None, Query(max_length=256)] = None
) -> Page[ModelConfigPublic]:
    return model_configs.list_model_configs(
        session=session, search=search, limit=page.limit, offset=page.offset
    )


@router.get("/{ref:path}")
def get_model_config(ref: str, session: SessionDep) -> ModelConfigPublic:
    return model_configs.get_model_config(session=session, ref=ref)


@router.put("/{ref:path}")
def update_model_config(
    ref: str, body: ModelConfigUpdate, actor: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> ModelConfigPublic:
    updated = model_configs.update_model_config(session=session, ref=ref, data=body, actor=actor)
    commit_and_reload(session, runtime)
    return updated


@router.delete("/{ref:path}", status_code=204, response_class=Response)
def delete_model_config(ref: str, actor: AdminDep, session: SessionDep, runtime: RuntimeDep) -> None:
    model_configs.delete_model_config(session=session, ref=ref, actor=actor)
    commit_and_reload(session, runtime)
