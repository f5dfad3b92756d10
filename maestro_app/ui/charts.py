"""Time-series charts of the dashboard: a service `Chart` as recharts rows, and the chart.

    rows = chart_rows(chart)          # [{"label": "14:00", "requests": 3, "errors": 0}, ...]
    time_chart(State.rows, REQUEST_SERIES, chart_id="requests-chart")

The rows are plain dicts (what recharts reads), one per bucket, oldest first, labelled in UTC:
`14:00` for hourly buckets, `Mar 04` for daily ones. Animation is off: the live refresh
redraws the charts, and a chart that re-animates every few seconds is noise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import reflex as rx

from maestro_app.services.dashboard import Chart
from maestro_app.services.time_buckets import Period
from maestro_app.ui.components.widgets import titled_card

PERIODS: tuple[str, ...] = ("24h", "7d", "30d")
PERIOD_LABELS: dict[str, str] = {"24h": "last 24 hours", "7d": "last 7 days", "30d": "last 30 days"}


@dataclass(frozen=True, slots=True)
class SeriesStyle:
    key: str  # the series name in the service's chart
    label: str  # what the legend and tooltip say
    color: str  # a Radix colour


REQUEST_SERIES = (SeriesStyle("requests", "Requests", "iris"), SeriesStyle("errors", "Errors", "tomato"))
TOKEN_SERIES = (
    SeriesStyle("prompt_tokens", "Prompt tokens", "cyan"),
    SeriesStyle("completion_tokens", "Completion tokens", "amber"),
)
USER_TOKEN_SERIES = (SeriesStyle("total_tokens", "Tokens", "cyan"),)


def period_or_default(value: object, default: str = "24h") -> Period:
    """A period the services know, whatever the browser sent."""
    chosen = value if isinstance(value, str) and value in PERIODS else default
    return cast(Period, chosen if chosen in PERIODS else "24h")


def bucket_label(moment: datetime, unit: str) -> str:
    """The x-axis label of a bucket: `14:00` (hour) or `Mar 04` (day), in UTC."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%H:00") if unit == "hour" else moment.strftime("%b %d")


def chart_rows(chart: Chart) -> list[dict[str, Any]]:
    """One dict per bucket: its `label`, then each series' value under the series' name."""
    rows: list[dict[str, Any]] = [{"label": bucket_label(b, chart.unit)} for b in chart.buckets]
    for series in chart.series:
        for row, value in zip(rows, series.values, strict=True):
            row[series.name] = value
    return rows


def series_total(chart: Chart, name: str) -> int:
    return next((s.total for s in chart.series if s.name == name), 0)


def time_chart(
    data: rx.Var[list[dict[str, Any]]],
    series: Sequence[SeriesStyle],
    *,
    chart_id: str,
    stacked: bool = False,
    height: int = 240,
) -> rx.Component:
    """An area chart over `data` (rows of `chart_rows`), one area per series."""
    areas = [
        rx.recharts.area(
            data_key=s.key,
            name=s.label,
            stroke=rx.color(s.color, 9),
            fill=rx.color(s.color, 6),
            fill_opacity=0.35,
            type_="monotone",
            stack_id="stack" if stacked else None,
            is_animation_active=False,
            dot=False,
        )
        for s in series
    ]
    return rx.box(
        rx.recharts.area_chart(
            rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False, stroke=rx.color("gray", 5)),
            *areas,
            rx.recharts.x_axis(
                data_key="label",
                interval="preserveStartEnd",
                tick_line=False,
                stroke=rx.color("gray", 9),
                font_size=12,
            ),
            rx.recharts.y_axis(
                allow_decimals=False, width=56, tick_line=False, stroke=rx.color("gray", 9), font_size=12
            ),
            rx.recharts.graphing_tooltip(is_animation_active=False),
            rx.recharts.legend(icon_type="circle", icon_size=10),
            data=data,
            height=height,
            margin={"top": 8, "right": 8, "left": 0, "bottom": 0},
        ),
        id=chart_id,
        class_name="time-chart",
        width="100%",
    )


def period_switch(value: rx.Var[str], on_change: Any, *, switch_id: str) -> rx.Component:
    """24h / 7d / 30d as a segmented control."""
    return rx.segmented_control.root(
        *(rx.segmented_control.item(p, value=p) for p in PERIODS),
        value=value,
        on_change=on_change,
        id=switch_id,
        size="2",
    )


def chart_card(title: str, subtitle: rx.Var[str] | str, body: rx.Component) -> rx.Component:
    return titled_card(title, subtitle, body)
