"""/admin/dashboard: the numbers behind the dashboard's home page and its charts."""

from __future__ import annotations

from typing import Annotated, get_args

from fastapi import APIRouter, Path, Query

from maestro_app.admin.deps import SessionDep
from maestro_app.admin.routing import ProtectedRoute
from maestro_app.services import dashboard
from maestro_app.services.dashboard import MAX_TOP, Chart, ChartKind, DashboardStats
from maestro_app.services.errors import EntityNotFound
from maestro_app.services.time_buckets import Period

router = APIRouter(prefix="/dashboard", route_class=ProtectedRoute, tags=["admin: dashboard"])
_CHARTS: tuple[str, ...] = get_args(ChartKind)

PeriodQuery = Annotated[
    Period, Query(description="24h: hourly buckets; 7d and 30d: daily buckets (UTC), today included")
]
TopQuery = Annotated[int, Query(ge=1, le=MAX_TOP, description="how many models/users to rank")]


@router.get("/stats")
def stats(session: SessionDep, period: PeriodQuery = "7d", top: TopQuery = 5) -> DashboardStats:
    """Totals for today and for the period, nodes by health, the busiest models and users of
    the period and its most recent failed requests."""
    return dashboard.dashboard_stats(session=session, period=period, top=top)


@router.get("/charts/{chart}")
def chart(
    session: SessionDep,
    chart: Annotated[str, Path(description=" | ".join(_CHARTS))],
    period: PeriodQuery = "7d",
    top: TopQuery = 5,
    user: Annotated[
        str | None, Query(max_length=128, description="one user's requests or tokens (total only)")
    ] = None,
) -> Chart:
    """Zero-filled time series: `requests` (requests, errors), `tokens` (prompt, completion,
    total) or `models` (requests of the `top` busiest display models, the rest as `other`).
    With `user`: that user's `requests` (requests, errors) or `tokens` (total)."""
    if chart not in _CHARTS:
        raise EntityNotFound(f"Unknown chart {chart!r}; charts are {', '.join(_CHARTS)}")
    return dashboard.chart(session=session, kind=chart, period=period, top=top, user=user)  # type: ignore[arg-type]
