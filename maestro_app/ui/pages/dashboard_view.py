"""Dashboard page: node health, totals, charts, rankings and recent errors (state in
`dashboard`)."""

from __future__ import annotations

import reflex as rx

from maestro_app.ui import charts, routes, styles
from maestro_app.ui.components.ticker import ticker
from maestro_app.ui.components.widgets import (
    empty_state,
    health_badge,
    loading_rows,
    page_header,
    refresh_button,
    stat_card,
    titled_card,
)
from maestro_app.ui.layout import Page, template
from maestro_app.ui.pages.dashboard import LIVE_REFRESH_MS, DashboardState, NodeTile, RankRow
from maestro_app.ui.pages.logs import LogRow

MUTED = {"size": "1", "color": styles.muted_text_color}

# -- nodes ------------------------------------------------------------------------------


def node_tile(node: rx.Var[NodeTile]) -> rx.Component:
    return rx.link(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.text(node.name, weight="medium", trim="both", truncate=True),
                    rx.spacer(),
                    health_badge(node, size="1"),
                    align="center",
                    width="100%",
                    spacing="2",
                ),
                rx.hstack(
                    rx.text(node.node_type, **MUTED),
                    rx.text("·", **MUTED),
                    rx.text(node.models, rx.cond(node.models == 1, " model", " models"), **MUTED),
                    spacing="1",
                ),
                rx.text("checked ", node.last_check, **MUTED),
                spacing="1",
                width="100%",
            ),
            width="100%",
            opacity=rx.cond(node.is_active, "1", "0.6"),
        ),
        href=routes.NODES,
        underline="none",
        color="inherit",
        id="health-" + node.name,
        class_name="node-tile",
    )


def nodes_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Node health", size="4"),
                rx.spacer(),
                rx.text(
                    DashboardState.healthy_nodes,
                    " of ",
                    DashboardState.active_nodes,
                    " active nodes healthy · live",
                    size="2",
                    color=styles.muted_text_color,
                    id="nodes-summary",
                ),
                align="center",
                width="100%",
                wrap="wrap",
            ),
            rx.cond(
                DashboardState.nodes.length() > 0,
                rx.grid(
                    rx.foreach(DashboardState.nodes, node_tile),
                    columns=rx.breakpoints(initial="1", xs="2", md="3", lg="4"),
                    spacing="3",
                    width="100%",
                ),
                empty_state(
                    "server-off",
                    "No nodes yet.",
                    rx.text(
                        "Add an Ollama or vLLM server on the ",
                        rx.link("Nodes page", href=routes.NODES),
                        ".",
                        size="2",
                        color=styles.muted_text_color,
                    ),
                    padding_y="1.25rem",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        **styles.card_style,
        id="node-health",
    )


# -- totals and charts ------------------------------------------------------------------


def totals() -> rx.Component:
    return rx.grid(
        stat_card(
            "Requests",
            DashboardState.requests,
            "activity",
            "iris",
            hint=rx.text(DashboardState.requests_today, " today", **MUTED),
            id="stat-requests",
        ),
        stat_card(
            "Tokens",
            DashboardState.tokens,
            "coins",
            "cyan",
            hint=rx.text(DashboardState.tokens_today, " today", **MUTED),
            id="stat-tokens",
        ),
        stat_card(
            "Error rate",
            DashboardState.error_rate,
            "circle-alert",
            "tomato",
            hint=rx.text(DashboardState.errors, " failed", **MUTED),
            id="stat-error-rate",
        ),
        stat_card(
            "Active users",
            DashboardState.active_users,
            "users",
            "grass",
            hint=rx.text("avg ", DashboardState.avg_duration, " per request", **MUTED),
            id="stat-users",
        ),
        columns=rx.breakpoints(initial="1", xs="2", lg="4"),
        spacing="4",
        width="100%",
    )


def no_traffic() -> rx.Component:
    return empty_state(
        "chart-no-axes-combined",
        "No requests in this period.",
        "Charts appear once clients call the gateway.",
        class_name="chart-empty",
    )


def traffic_charts() -> rx.Component:
    has_traffic = DashboardState.requests > 0
    subtitle = "Per hour or day (UTC), " + DashboardState.period_label
    return rx.grid(
        charts.chart_card(
            "Requests",
            subtitle,
            rx.cond(
                has_traffic,
                charts.time_chart(
                    DashboardState.requests_chart, charts.REQUEST_SERIES, chart_id="requests-chart"
                ),
                no_traffic(),
            ),
        ),
        charts.chart_card(
            "Tokens",
            subtitle,
            rx.cond(
                has_traffic,
                charts.time_chart(
                    DashboardState.tokens_chart, charts.TOKEN_SERIES, chart_id="tokens-chart", stacked=True
                ),
                no_traffic(),
            ),
        ),
        columns=rx.breakpoints(initial="1", lg="2"),
        spacing="4",
        width="100%",
    )


# -- rankings and errors ----------------------------------------------------------------


def rank_row(row: rx.Var[RankRow]) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.link(row.name, href=row.href, size="2", weight="medium", truncate=True),
            rx.spacer(),
            rx.text(row.requests, " req", size="2", white_space="nowrap", class_name="rank-requests"),
            rx.text(row.tokens, " tok", **MUTED, white_space="nowrap", min_width="4rem", text_align="right"),
            align="center",
            width="100%",
            spacing="3",
        ),
        rx.progress(value=row.share, size="1", width="100%"),
        spacing="1",
        width="100%",
        class_name="rank-row",
        custom_attrs={"data-name": row.name},
    )


def ranking_card(title: str, rows: rx.Var[list[RankRow]], *, card_id: str, empty: str) -> rx.Component:
    return titled_card(
        title,
        "By requests, " + DashboardState.period_label,
        rx.cond(
            rows.length() > 0,
            rx.vstack(rx.foreach(rows, rank_row), spacing="3", width="100%"),
            empty_state("inbox", empty, "Nothing in this period.", padding_y="1.25rem"),
        ),
        id=card_id,
    )


def error_row(row: rx.Var[LogRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row.when, size="2", white_space="nowrap")),
        rx.table.cell(rx.badge(row.status, color_scheme=row.status_color, variant="soft")),
        rx.table.cell(rx.text(row.username, size="2")),
        rx.table.cell(rx.text(row.model, size="2")),
        rx.table.cell(rx.text(row.node, size="2")),
        rx.table.cell(rx.text(row.error, size="2", color=styles.muted_text_color), max_width="28rem"),
        rx.table.cell(
            rx.link(
                rx.icon("arrow-up-right", size=16),
                href=routes.LOGS + "?request=" + row.request_id,
                aria_label="Open in the request log",
            )
        ),
        class_name="error-row",
        align="center",
    )


def errors_card() -> rx.Component:
    headers = ("Time (UTC)", "Status", "User", "Model", "Node", "Error", "")
    table = rx.table.root(
        rx.table.header(rx.table.row(*(rx.table.column_header_cell(h) for h in headers))),
        rx.table.body(rx.foreach(DashboardState.recent_errors, error_row)),
        variant="ghost",
        size="1",
        width="100%",
    )
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Recent errors", size="4"),
                rx.spacer(),
                rx.link("All 4xx", href=routes.LOGS + "?status=4xx", size="2"),
                rx.link("All 5xx", href=routes.LOGS + "?status=5xx", size="2"),
                align="center",
                width="100%",
            ),
            rx.cond(
                DashboardState.recent_errors.length() > 0,
                rx.scroll_area(table, type="hover", scrollbars="horizontal"),
                empty_state("circle-check", "No failed requests.", "Nothing failed in this period."),
            ),
            spacing="3",
            width="100%",
        ),
        **styles.card_style,
        id="recent-errors",
    )


@template(route=routes.DASHBOARD, title="Dashboard", on_load=DashboardState.load)
def dashboard_page() -> rx.Component:
    return rx.fragment(
        page_header(
            "Dashboard",
            "Nodes, traffic and failures at a glance.",
            rx.text("Updated ", DashboardState.refreshed_at, size="1", color=styles.muted_text_color),
            charts.period_switch(DashboardState.period, DashboardState.set_period, switch_id="period"),
            refresh_button(DashboardState.refresh),
        ),
        rx.cond(
            DashboardState.loaded,
            rx.fragment(
                nodes_card(),
                totals(),
                traffic_charts(),
                rx.grid(
                    ranking_card(
                        "Top models", DashboardState.top_models, card_id="top-models", empty="No models used."
                    ),
                    ranking_card(
                        "Top users", DashboardState.top_users, card_id="top-users", empty="No users."
                    ),
                    columns=rx.breakpoints(initial="1", md="2"),
                    spacing="4",
                    width="100%",
                ),
                errors_card(),
            ),
            loading_rows(6),
        ),
        ticker(on_tick=DashboardState.tick, interval_ms=LIVE_REFRESH_MS),
    )


page: Page = dashboard_page
