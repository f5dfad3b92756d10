"""Dashboard (the home page) state: node health at a glance, traffic of a period as charts,
the busiest models and users, the error rate and the newest failures.

Drawn in `dashboard_view`. Totals, rankings and charts come from `services.dashboard` (the
hourly rollups, cheap at any size); node health from `services.node_status`, refreshed by a
ticker every few seconds without reloading the page.
"""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import urlencode

import reflex as rx

from maestro_app.services import dashboard
from maestro_app.services.dashboard import DashboardStats, ModelRank, UserRank
from maestro_app.services.node_status import NodeStatus, list_node_status
from maestro_app.ui import charts, routes, styles
from maestro_app.ui import format as fmt
from maestro_app.ui.data import call_service
from maestro_app.ui.pages.logs import LogRow, log_row
from maestro_app.ui.state import AuthState, admin_event

TOP = 5
LIVE_REFRESH_MS = 10_000
NO_MODEL = "(none)"


@dataclasses.dataclass
class NodeTile:
    name: str = ""
    node_type: str = ""
    is_active: bool = True
    health: str = "unknown"
    health_color: str = "gray"
    last_check: str = ""
    last_error: str = ""
    models: int = 0


@dataclasses.dataclass
class RankRow:
    name: str = ""
    requests: int = 0
    tokens: str = ""
    share: int = 0  # percent of the busiest row's requests (the bar's length)
    href: str = ""


def logs_href(**filters: str | None) -> str:
    """The request log opened with these filters (empty ones left out)."""
    query = urlencode({k: v for k, v in filters.items() if v})
    return f"{routes.LOGS}?{query}" if query else routes.LOGS


def node_tile(node: NodeStatus) -> NodeTile:
    health = node.health_status if node.is_active else "inactive"
    return NodeTile(
        name=node.name,
        node_type=node.node_type,
        is_active=node.is_active,
        health=health,
        health_color=styles.HEALTH_COLORS.get(health, "gray"),
        last_check=fmt.when(node.last_health_check),
        last_error=node.last_error or "",
        models=len(node.models),
    )


def rank_rows(ranks: list[ModelRank] | list[UserRank], *, filter_name: str) -> list[RankRow]:
    """Rankings with their bar lengths and a link to the log filtered to each row."""
    busiest = max((r.requests for r in ranks), default=0) or 1
    rows = []
    for rank in ranks:
        name = rank.model if isinstance(rank, ModelRank) else rank.username
        rows.append(
            RankRow(
                name=name or NO_MODEL,
                requests=rank.requests,
                tokens=fmt.compact(rank.total_tokens),
                share=round(100 * rank.requests / busiest),
                href=logs_href(**{filter_name: name}) if name else routes.LOGS,
            )
        )
    return rows


class DashboardState(AuthState):
    period: str = "24h"
    loaded: bool = False
    refreshed_at: str = ""

    nodes: list[NodeTile] = []

    requests: int = 0
    requests_today: int = 0
    errors: int = 0
    error_rate: str = "0%"
    tokens: str = "0"
    tokens_today: str = "0"
    active_users: int = 0
    avg_duration: str = "–"

    requests_chart: list[dict[str, Any]] = []
    tokens_chart: list[dict[str, Any]] = []
    top_models: list[RankRow] = []
    top_users: list[RankRow] = []
    recent_errors: list[LogRow] = []

    @rx.var
    def healthy_nodes(self) -> int:
        return sum(1 for n in self.nodes if n.health == "healthy")

    @rx.var
    def active_nodes(self) -> int:
        return sum(1 for n in self.nodes if n.is_active)

    @rx.var
    def period_label(self) -> str:
        return charts.PERIOD_LABELS.get(self.period, self.period)

    @admin_event
    async def load(self) -> None:
        self.period = charts.period_or_default(self.router.url.query_parameters.get("period"), self.period)
        await self._refresh_all()

    @admin_event
    async def refresh(self) -> None:
        await self._refresh_all()

    @admin_event
    async def set_period(self, value: str | list[str]) -> None:
        self.period = charts.period_or_default(value, self.period)
        await self._refresh_traffic()

    @admin_event
    async def tick(self) -> None:
        """The live refresh: node health only (cheap; the charts keep their scale)."""
        await self._refresh_nodes()

    async def _refresh_all(self) -> None:
        await self._refresh_nodes()
        await self._refresh_traffic()
        self.loaded = True

    async def _refresh_nodes(self) -> None:
        self.nodes = [node_tile(n) for n in await call_service(list_node_status)]
        self.refreshed_at = fmt.clock()

    async def _refresh_traffic(self) -> None:
        period = charts.period_or_default(self.period)
        stats = await call_service(dashboard.dashboard_stats, period=period, top=TOP)
        requests = await call_service(dashboard.chart, kind="requests", period=period)
        tokens = await call_service(dashboard.chart, kind="tokens", period=period)
        self._show_stats(stats)
        self.requests_chart = charts.chart_rows(requests)
        self.tokens_chart = charts.chart_rows(tokens)

    def _show_stats(self, stats: DashboardStats) -> None:
        totals = stats.last_period
        self.requests = totals.requests
        self.requests_today = stats.today.requests
        self.errors = totals.errors
        self.error_rate = fmt.percent(totals.error_rate)
        self.tokens = fmt.compact(totals.total_tokens)
        self.tokens_today = fmt.compact(stats.today.total_tokens)
        self.active_users = totals.active_users
        self.avg_duration = fmt.duration(totals.avg_duration_ms)
        self.top_models = rank_rows(stats.top_models, filter_name="model")
        self.top_users = rank_rows(stats.top_users, filter_name="user")
        self.recent_errors = [log_row(item) for item in stats.recent_errors]
