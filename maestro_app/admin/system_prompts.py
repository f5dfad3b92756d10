"""/admin/system-prompts: prompts by scope (user, node, group, model, mapping), by id."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from maestro_app.admin.deps import AdminDep, PagingDep, RuntimeDep, SessionDep, commit_and_reload
from maestro_app.admin.routing import ProtectedRoute
from maestro_app.services import system_prompts
from maestro_app.services.common import INT32_MAX, Page
from maestro_app.services.system_prompts import (
    ScopeType,
    SystemPromptCreate,
    SystemPromptPublic,
    SystemPromptUpdate,
)

router = APIRouter(prefix="/system-prompts", route_class=ProtectedRoute, tags=["admin: system prompts"])
PromptId = Annotated[int, Path(ge=1, le=INT32_MAX)]


@router.post("", status_code=201)
def create_system_prompt(
    body: SystemPromptCreate, actor: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> SystemPromptPublic:
    created = system_prompts.create_system_prompt(session=session, data=body, actor=actor)
    commit_and_reload(session, runtime)
    return created


@router.get("")
def list_system_prompts(
    session: SessionDep,
    page: PagingDep,
    scope_type: ScopeType | None = None,
    scope_value: Annotated[str | None, Query(max_length=256)] = None,
) -> Page[SystemPromptPublic]:
    return system_prompts.list_system_prompts(
        session=session, scope_type=scope_type, scope_value=scope_value, limit=page.limit, offset=page.offset
    )


@router.get("/{prompt_id}")
def get_system_prompt(prompt_id: PromptId, session: SessionDep) -> SystemPromptPublic:
    return system_prompts.get_system_prompt(session=session, prompt_id=prompt_id)


@router.put("/{prompt_id}")
def update_system_prompt(
    prompt_id: PromptId, body: SystemPromptUpdate, actor: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> SystemPromptPublic:
    updated = system_prompts.update_system_prompt(
        session=session, prompt_id=prompt_id, data=body, actor=actor
    )
    commit_and_reload(session, runtime)
    return updated


@router.delete("/{prompt_id}", status_code=204, response_class=Response)
def delete_system_prompt(
    prompt_id: PromptId, actor: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> None:
    system_prompts.delete_system_prompt(session=session, prompt_id=prompt_id, actor=actor)
    commit_and_reload(session, runtime)
