"""/admin/activity and /admin/audit-logs: the request log and the audit trail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from maestro_app.admin.deps import IsoDateTime, PagingDep, SessionDep
from maestro_app.admin.routing import ProtectedRoute
from maestro_app.services import activity_query, audit
from maestro_app.services.activity_query import ActivityItem
from maestro_app.services.audit import AuditItem
from maestro_app.services.common import Page

router = APIRouter(route_class=ProtectedRoute, tags=["admin: logs"])
Filter = Annotated[str | None, Query(max_length=256)]


@router.get("/activity")
def list_activity(
    session: SessionDep,
    page: PagingDep,
    user: Filter = None,
    model: Filter = None,
    node: Filter = None,
    source: Filter = None,
    status: Annotated[str | None, Query(max_length=8)] = None,
    start: IsoDateTime | None = None,
    end: IsoDateTime | None = None,
) -> Page[ActivityItem]:
    return activity_query.list_activity(
        session=session,
        user=user,
        model=model,
        node=node,
        source=source,
        status=status,
        start=start,
        end=end,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/activity/{request_id}")
def get_activity(request_id: Annotated[str, Path(max_length=64)], session: SessionDep) -> ActivityItem:
    return activity_query.get_activity(session=session, request_id=request_id)


@router.get("/audit-logs")
def list_audit(
    session: SessionDep,
    page: PagingDep,
    action: Filter = None,
    entity_type: Filter = None,
    actor: Filter = None,
) -> Page[AuditItem]:
    return audit.list_audit(
        session=session,
        action=action,
        entity_type=entity_type,
        actor=actor,
        limit=page.limit,
        offset=page.offset,
    )
