"""The admin REST API under /admin (SPEC §5): one router per entity, composed here."""

from __future__ import annotations

from fastapi import APIRouter

from maestro_app.admin import (
    config,
    dashboard,
    groups,
    logs,
    mappings,
    model_configs,
    nodes,
    settings,
    system_prompts,
    tool_sets,
    users,
)
from maestro_app.admin.auth import build_auth_router


def build_admin_router() -> APIRouter:
    router = APIRouter(prefix="/admin")
    router.include_router(build_auth_router())
    for module in (
        users,
        nodes,
        mappings,
        groups,
        model_configs,
        tool_sets,
        system_prompts,
        settings,
        logs,
        dashboard,
        config,
    ):
        router.include_router(module.router)
    return router
