"""The activity pages (dashboard, request log, audit log, settings, usage tab) without a
browser: every handler's session guard, and the pure logic behind what they show."""

from __future__ import annotations

import asyncio
import inspect
import re
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from maestro_app.services.activity_query import ActivityItem
from maestro_app.services.dashboard import Chart, ChartSeries, ModelRank, UserRank
from maestro_app.services.errors import InvalidInput
from maestro_app.services.settings_service import SettingsUpdate
from maestro_app.ui import charts
from maestro_app.ui import format as fmt
from maestro_app.ui.feedback import error_message
from maestro_app.ui.pages.audit import AuditState, summary
from maestro_app.ui.pages.dashboard import DashboardState, logs_href, rank_rows
from maestro_app.ui.pages.logs import (
    SOURCES,
    LogsState,
    detail_fields,
    filters_from,
    log_row,
    moment_text,
    parse_moment,
    query_arguments,
)
from maestro_app.ui.pages.settings import SettingsState, changed_labels
from maestro_app.ui.pages.settings_form import FIELDS, LABELS, bytes_text, field_text, parse_bytes, read_form
from maestro_app.ui.pages.users_usage import UsageState
from tests.ui.test_page_guards import UNGUARDED, _NoSession

STATES = [DashboardState, LogsState, AuditState, SettingsState, UsageState]
SPECS = {spec.key: spec for spec in FIELDS}


@pytest.mark.parametrize(
    ("state", "handler"),
    [
        (state, name)
        for state in STATES
        for name in sorted(state.event_handlers)
        if name not in UNGUARDED and not name.startswith("set_is_hydrated")
    ],
    ids=lambda v: v if isinstance(v, str) else v.__name__,
)
def test_handler_redirects_to_login_without_a_session(state: type, handler: str) -> None:
    fn = state.event_handlers[handler].fn  # type: ignore[attr-defined]
    params = list(inspect.signature(fn).parameters)[1:]
    assert asyncio.run(fn(_NoSession(), *(None for _ in params))) is _NoSession.redirect


# -- charts and numbers -------------------------------------------------------------------


def _chart(unit: str, buckets: list[datetime], **series: list[int]) -> Chart:
    return Chart(
        chart="requests",
        period="24h" if unit == "hour" else "7d",
        unit=unit,  # type: ignore[arg-type]
        start=buckets[0],
        end=buckets[-1] + timedelta(hours=1),
        buckets=buckets,
        series=[ChartSeries(name=name, values=values, total=sum(values)) for name, values in series.items()],
    )


def test_chart_rows_label_buckets_in_utc() -> None:
    start = datetime(2026, 3, 4, 22, tzinfo=UTC)
    hourly = _chart("hour", [start, start + timedelta(hours=1)], requests=[3, 0], errors=[1, 0])
    assert charts.chart_rows(hourly) == [
        {"label": "22:00", "requests": 3, "errors": 1},
        {"label": "23:00", "requests": 0, "errors": 0},
    ]
    assert charts.series_total(hourly, "requests") == 3 and charts.series_total(hourly, "missing") == 0
    daily = _chart("day", [datetime(2026, 3, 4, tzinfo=UTC)], requests=[7])
    assert charts.chart_rows(daily) == [{"label": "Mar 04", "requests": 7}]


def test_period_or_default_accepts_only_known_periods() -> None:
    assert charts.period_or_default("30d") == "30d"
    assert charts.period_or_default("1y") == "24h"
    assert charts.period_or_default(["7d"], "7d") == "7d"
    assert charts.period_or_default(None, "bogus") == "24h"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "–"),
        (0, "0"),
        (999, "999"),
        (1234, "1.2K"),
        (5_600_000, "5.6M"),
        (120_000, "120K"),
        (2e9, "2B"),
    ],
)
def test_compact(value: float | None, text: str) -> None:
    assert fmt.compact(value) == text


def test_percent_duration_and_status_colours() -> None:
    assert [fmt.percent(r) for r in (0, 0.0004, 0.025, 0.5, 1)] == ["0%", "<0.1%", "2.5%", "50%", "100%"]
    assert [fmt.duration(ms) for ms in (None, 12.4, 1530)] == ["–", "12 ms", "1.53 s"]
    assert [fmt.status_color(c) for c in (200, 302, 404, 499, 502, 0)] == [
        "grass",
        "blue",
        "amber",
        "amber",
        "tomato",
        "gray",
    ]


# -- dashboard ----------------------------------------------------------------------------


def test_rankings_link_to_the_filtered_log_and_scale_their_bars() -> None:
    rows = rank_rows(
        [
            ModelRank(model="chat", requests=10, total_tokens=12345),
            ModelRank(model=None, requests=5, total_tokens=0),
        ],
        filter_name="model",
    )
    assert [(r.name, r.requests, r.tokens, r.share, r.href) for r in rows] == [
        ("chat", 10, "12.3K", 100, "/logs?model=chat"),
        ("(none)", 5, "0", 50, "/logs"),
    ]
    users = rank_rows([UserRank(username="a b&c", requests=1, total_tokens=1)], filter_name="user")
    assert users[0].href == "/logs?user=a+b%26c"
    assert logs_href() == "/logs" and logs_href(request="abc", user=None) == "/logs?request=abc"


# -- request log --------------------------------------------------------------------------


def test_parse_moment_reads_dates_and_local_times_as_utc() -> None:
    assert parse_moment("", label="From") is None
    assert parse_moment("2026-03-04", label="From") == datetime(2026, 3, 4, tzinfo=UTC)
    assert parse_moment("2026-03-04T05:06", label="From") == datetime(2026, 3, 4, 5, 6, tzinfo=UTC)
    assert parse_moment("2026-03-04T05:06+02:00", label="From") == datetime(2026, 3, 4, 3, 6, tzinfo=UTC)
    with pytest.raises(InvalidInput, match="To: 'yesterday' is not a date"):
        parse_moment("yesterday", label="To")


def test_filters_from_a_form_or_query() -> None:
    found = filters_from({"user": " alice ", "status": "any", "source": "curl", "other": "x", "model": None})
    assert found == {
        "user": "alice",
        "model": "",
        "node": "",
        "source": "curl",
        "status": "",
        "start": "",
        "end": "",
    }
    arguments = query_arguments({**found, "start": "2026-03-04T05:06"})
    assert arguments["user"] == "alice" and arguments["status"] is None
    assert arguments["start"] == datetime(2026, 3, 4, 5, 6, tzinfo=UTC) and arguments["end"] is None
    assert moment_text(arguments["start"]) == "2026-03-04T05:06"
    assert moment_text(datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)) == "2026-03-04T05:06:07"
    assert moment_text(None) == ""


def test_sources_offer_every_detected_name_once() -> None:
    assert SOURCES[0] == "any" and len(SOURCES) == len(set(SOURCES))
    assert {"cursor", "claude-code", "openai-sdk", "curl", "openai", "ollama", "anthropic"} <= set(SOURCES)


def _item(**fields: object) -> ActivityItem:
    values: dict[str, object] = {
        "id": 1,
        "request_id": "r1",
        "username": None,
        "model": "chat",
        "real_model": "llama3:8b",
        "node": "gpu-1",
        "endpoint": "/v1/chat/completions",
        "source": "curl",
        "stream": True,
        "status_code": 502,
        "prompt_tokens": 1200,
        "completion_tokens": 34,
        "total_tokens": 1234,
        "estimated": True,
        "duration_ms": 1530.0,
        "ttfb_ms": None,
        "error": "upstream down",
        "created_at": datetime(2026, 3, 4, 5, 6, 7),
    }
    values.update(fields)
    return ActivityItem.model_validate(values)


def test_log_rows_and_detail_fields() -> None:
    row = log_row(_item())
    assert (row.username, row.model, row.real_model, row.tokens, row.duration) == (
        "admin token",
        "chat",
        "llama3:8b",
        "1,234",
        "1.53 s",
    )
    assert (row.status, row.status_color, row.when) == (502, "tomato", "2026-03-04 05:06:07")
    assert log_row(_item(real_model="chat")).real_model == ""
    fields = {f.label: f.value for f in detail_fields(_item())}
    assert fields["Tokens"].startswith("1,200 prompt + 34 completion = 1,234 (estimated")
    assert (fields["Error"], fields["Streamed"], fields["Time to first byte"]) == (
        "upstream down",
        "yes",
        "–",
    )


# -- audit, settings ----------------------------------------------------------------------


def test_audit_summary_names_the_changed_fields() -> None:
    assert summary({"changes": {"a": {}, "b": {}}}) == "a, b"
    assert summary({"name": "x", "base_url": "y"}) == "name, base_url"
    assert summary({str(n): n for n in range(10)}) == "0, 1, 2, 3, 4, 5, 6, 7 +2 more"


@pytest.mark.parametrize(
    ("text", "size"),
    [("1024", 1024), ("32M", 32 << 20), ("32 MiB", 32 << 20), ("512kb", 512 << 10), ("1.5G", 3 << 29)],
)
def test_parse_bytes(text: str, size: int) -> None:
    assert parse_bytes(text, label="Body size limit") == size


def test_sizes_and_context_lengths_read_back_as_written() -> None:
    assert [bytes_text(n) for n in (32 << 20, 1 << 40, 1536, 1000)] == ["32M", "1T", "1536", "1000"]
    assert field_text(SPECS["max_body_bytes"], 32 << 20) == "32M"
    assert field_text(SPECS["default_context_length"], 5000) == "5000"
    assert field_text(SPECS["default_context_length"], 8192) == "8K"
    assert field_text(SPECS["grafana_model"], None) == ""
    with pytest.raises(InvalidInput, match="Body size limit: 'lots' is not a size"):
        parse_bytes("lots", label="Body size limit")


def test_read_form_types_every_field_for_the_service() -> None:
    body = read_form(
        {
            "routing_strategy": "least_busy",
            "node_cooldown_s": "20",
            "max_body_bytes": "64M",
            "default_context_length": "16K",
            "health_check_interval_s": "0.5",
            "discovery_interval_s": "0",
            "log_retention_days": "1_000",
            "grafana_model": " ",
        }
    )
    assert body == {
        "routing_strategy": "least_busy",
        "node_cooldown_s": 20,
        "max_body_bytes": 64 << 20,
        "default_context_length": 16384,
        "health_check_interval_s": 0.5,
        "discovery_interval_s": 0.0,
        "log_retention_days": 1000,
        "grafana_model": None,
    }
    update = SettingsUpdate.model_validate(body)
    assert update.discovery_interval_s == 0 and update.health_check_interval_s == 0.5


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"log_retention_days": "abc"}, "Keep activity (days): 'abc' is not a whole number"),
        ({"health_check_interval_s": ""}, "Health check interval (s): required"),
        ({"warmup_interval_s": "nan"}, "Warmup interval (s): must be a finite number"),
        ({"default_context_length": "lots"}, "Default context length: 'lots' is not a number"),
    ],
)
def test_unreadable_fields_are_refused_by_label(form: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(message)):
        read_form(form)


def test_refused_values_name_the_field_by_label() -> None:
    with pytest.raises(ValidationError) as caught:
        SettingsUpdate.model_validate(read_form({"health_check_interval_s": "0", "log_retention_days": "0"}))
    message = error_message(caught.value, labels=LABELS)
    assert "Health check interval (s): Input should be greater than or equal to 0.1" in message
    assert "Keep activity (days): Input should be greater than or equal to 1" in message


def test_changed_labels() -> None:
    assert changed_labels({"log_retention_days": 90, "node_cooldown_s": 15}, {"log_retention_days": 30}) == [
        "Node cooldown (s)",
        "Keep activity (days)",
    ]
