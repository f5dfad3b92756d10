"""The Users page's usage tab: one user's requests and tokens over time, per model, and the
busiest users of the period.

Charts come from `services.dashboard.chart(user=...)` (the per-user hourly rollup, as
`/admin/dashboard/charts/{chart}?user=` answers), the per-model table from
`services.activity_query.user_usage` (whole UTC days, as `/admin/users/{name}/usage`).
The tab opens from a user's row menu, or as `/users?tab=usage&user=<name>`.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import reflex as rx
from reflex.event import EventSpec

from maestro_app.services import activity_query, dashboard, users
from maestro_app.services.dashboard import UserRank
from maestro_app.services.time_buckets import Window, window
from maestro_app.ui import charts, styles
from maestro_app.ui import format as fmt
from maestro_app.ui.components.widgets import empty_state, stat_card, titled_card
from maestro_app.ui.data import call_service
from maestro_app.ui.feedback import INPUT_ERRORS, failure_toast
from maestro_app.ui.state import AuthState, admin_event

TABS = ("users", "usage")
BUSIEST = 10
USER_CHOICES = 500


@dataclasses.dataclass
class UsageRow:
    name: str = ""
    requests: int = 0
    errors: int = 0
    tokens: str = ""


def busiest_rows(ranks: list[UserRank]) -> list[UsageRow]:
    return [
        UsageRow(name=r.username or "", requests=r.requests, tokens=fmt.compact(r.total_tokens))
        for r in ranks[:BUSIEST]
        if r.username
    ]


def usage_days(span: Window) -> tuple[datetime, datetime]:
    """The whole UTC days a window touches (the per-model report counts whole days)."""
    return span.start, span.end - timedelta(microseconds=1)


class UsageState(AuthState):
    tab: str = "users"
    period: str = "7d"
    username: str = ""
    user_choices: list[str] = []
    busiest: list[UsageRow] = []
    loaded: bool = False

    requests: int = 0
    errors: int = 0
    tokens: str = "0"
    requests_chart: list[dict[str, Any]] = []
    tokens_chart: list[dict[str, Any]] = []
    models: list[UsageRow] = []
    days: str = ""

    @rx.var
    def period_label(self) -> str:
        return charts.PERIOD_LABELS.get(self.period, self.period)

    async def _refresh(self) -> EventSpec | None:
        span = window(charts.period_or_default(self.period, "7d"), now=datetime.now(UTC))
        listed = await call_service(users.list_users, limit=USER_CHOICES, offset=0)
        ranks = await call_service(dashboard.users_by_requests, start=span.start, end=span.end)
        self.busiest = busiest_rows(ranks)
        names = sorted((u.username for u in listed.items), key=str.lower)
        if self.username and self.username not in names:
            names.append(self.username)  # beyond the first USER_CHOICES, still choosable
        self.user_choices = names
        if not self.username:
            self.username = self.busiest[0].name if self.busiest else (names[0] if names else "")
        self.loaded = True
        return await self._show_user(span) if self.username else None

    async def _show_user(self, span: Window) -> EventSpec | None:
        period = charts.period_or_default(self.period, "7d")
        first, last = usage_days(span)
        try:
            requests = await call_service(dashboard.chart, kind="requests", period=period, user=self.username)
            tokens = await call_service(dashboard.chart, kind="tokens", period=period, user=self.username)
            report = await call_service(
                activity_query.user_usage, username=self.username, start=first.date(), end=last.date()
            )
        except INPUT_ERRORS as exc:  # the user was deleted meanwhile
            self.username = ""
            self.requests_chart, self.tokens_chart, self.models = [], [], []
            return failure_toast(exc)
        self.requests = charts.series_total(requests, "requests")
        self.errors = charts.series_total(requests, "errors")
        self.tokens = fmt.compact(charts.series_total(tokens, "total_tokens"))
        self.requests_chart = charts.chart_rows(requests)
        self.tokens_chart = charts.chart_rows(tokens)
        self.models = [
            UsageRow(
                name=m.model or "(none)", requests=m.requests, errors=m.errors, tokens=f"{m.total_tokens:,}"
            )
            for m in report.models
        ]
        self.days = f"{report.start.isoformat()} to {report.end.isoformat()}"
        return None

    @admin_event
    async def load(self) -> EventSpec | None:
        params = self.router.url.query_parameters
        self.tab = params.get("tab") if params.get("tab") in TABS else "users"
        self.username = str(params.get("user") or "")[:128]
        self.loaded = False
        return await self._refresh() if self.tab == "usage" else None

    @admin_event
    async def set_tab(self, value: str) -> EventSpec | None:
        self.tab = value if value in TABS else "users"
        return await self._refresh() if self.tab == "usage" else None

    @admin_event
    async def show_user(self, username: str) -> EventSpec | None:
        self.tab = "usage"
        self.username = username[:128]
        return await self._refresh()

    @admin_event
    async def set_period(self, value: str | list[str]) -> EventSpec | None:
        self.period = charts.period_or_default(value, self.period)
        return await self._refresh()


# -- view -------------------------------------------------------------------------------

MUTED = {"size": "1", "color": styles.muted_text_color}


def busiest_row(row: rx.Var[UsageRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.link(row.name, on_click=UsageState.show_user(row.name), cursor="pointer", size="2"),
        ),
        rx.table.cell(rx.text(row.requests, size="2"), text_align="right"),
        rx.table.cell(rx.text(row.tokens, size="2"), text_align="right"),
        align="center",
    )


def model_row(row: rx.Var[UsageRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row.name, size="2")),
        rx.table.cell(rx.text(row.requests, size="2"), text_align="right"),
        rx.table.cell(rx.text(row.errors, size="2"), text_align="right"),
        rx.table.cell(rx.text(row.tokens, size="2"), text_align="right"),
        class_name="usage-model-row",
        align="center",
    )


def small_table(headers: tuple[str, ...], body: rx.Component) -> rx.Component:
    return rx.table.root(
        rx.table.header(rx.table.row(*(rx.table.column_header_cell(h) for h in headers))),
        body,
        variant="ghost",
        size="1",
        width="100%",
    )


def user_picker() -> rx.Component:
    return rx.hstack(
        rx.text("User", as_="label", html_for="usage-user", size="2", weight="medium"),
        rx.select(
            UsageState.user_choices,
            value=UsageState.username,
            on_change=UsageState.show_user,
            id="usage-user",
            placeholder="Choose a user",
        ),
        rx.spacer(),
        charts.period_switch(UsageState.period, UsageState.set_period, switch_id="usage-period"),
        align="center",
        spacing="3",
        width="100%",
        wrap="wrap",
    )


def user_usage() -> rx.Component:
    subtitle = UsageState.username + ", per hour or day (UTC), " + UsageState.period_label
    return rx.vstack(
        rx.grid(
            stat_card("Requests", UsageState.requests, "activity", "iris", id="usage-requests"),
            stat_card("Failed", UsageState.errors, "circle-alert", "tomato", id="usage-errors"),
            stat_card("Tokens", UsageState.tokens, "coins", "cyan", id="usage-tokens"),
            columns=rx.breakpoints(initial="1", xs="3"),
            spacing="4",
            width="100%",
        ),
        rx.grid(
            charts.chart_card(
                "Requests",
                subtitle,
                charts.time_chart(
                    UsageState.requests_chart, charts.REQUEST_SERIES, chart_id="usage-requests-chart"
                ),
            ),
            charts.chart_card(
                "Tokens",
                subtitle,
                charts.time_chart(
                    UsageState.tokens_chart, charts.USER_TOKEN_SERIES, chart_id="usage-tokens-chart"
                ),
            ),
            columns=rx.breakpoints(initial="1", lg="2"),
            spacing="4",
            width="100%",
        ),
        spacing="4",
        width="100%",
    )


def side_tables() -> rx.Component:
    models = rx.cond(
        UsageState.models.length() > 0,
        small_table(
            ("Model", "Requests", "Failed", "Tokens"),
            rx.table.body(rx.foreach(UsageState.models, model_row)),
        ),
        rx.text("No requests on these days.", **MUTED),
    )
    busiest = rx.cond(
        UsageState.busiest.length() > 0,
        small_table(
            ("User", "Requests", "Tokens"), rx.table.body(rx.foreach(UsageState.busiest, busiest_row))
        ),
        rx.text("Nobody called the gateway in this period.", **MUTED),
    )
    return rx.grid(
        titled_card("Per model", "UTC days " + UsageState.days, models, id="usage-models"),
        titled_card("Busiest users", UsageState.period_label, busiest, id="usage-busiest"),
        columns=rx.breakpoints(initial="1", md="2"),
        spacing="4",
        width="100%",
    )


def usage_tab() -> rx.Component:
    return rx.vstack(
        user_picker(),
        rx.cond(
            UsageState.username != "",
            rx.fragment(user_usage(), side_tables()),
            rx.cond(
                UsageState.loaded,
                empty_state(
                    "users", "No users yet.", "Create a user; its usage shows here once it calls the gateway."
                ),
            ),
        ),
        spacing="4",
        width="100%",
    )
