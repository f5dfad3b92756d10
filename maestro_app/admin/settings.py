"""/admin/settings: runtime settings, applied without restart."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from maestro_app.admin.deps import AdminDep, RuntimeDep, SessionDep, commit_and_reload
from maestro_app.admin.routing import ProtectedRoute
from maestro_app.services import settings_service
from maestro_app.services.settings_service import SettingsUpdate

router = APIRouter(prefix="/settings", route_class=ProtectedRoute, tags=["admin: settings"])


@router.get("")
def get_settings(session: SessionDep) -> dict[str, Any]:
    return settings_service.get_settings(session=session)


@router.put("")
def update_settings(
    body: SettingsUpdate, actor: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> dict[str, Any]:
    result = settings_service.update_settings(session=session, data=body, actor=actor)
    commit_and_reload(session, runtime)
    return result
