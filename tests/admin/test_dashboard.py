"""/admin/dashboard/stats and /admin/dashboard/charts/{chart}, on SQLite and PostgreSQL.

Activity is written straight into the test's database (the ledger's job is tested
elsewhere); expectations are computed from those records and the window the answer reports,
so a test that straddles an hour boundary still holds.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from maestro_app.db.models import ActivityRecord, Node
from maestro_app.gateway.app import create_gateway_app
from maestro_app.services.time_buckets import floor_to
from tests.admin.conftest import create_node, create_user
from tests.conftest import LiveGateway
from tests.support import store_activity


def _seed(live: LiveGateway, rows: list[dict[str, Any]]) -> list[ActivityRecord]:
    records = []
    for n, fields in enumerate(rows):
        values: dict[str, Any] = {
            "request_id": f"dash-{n}",
            "user_id": 1,
            "username": "alice",
            "model": "chat",
            "real_model": "llama3:8b",
            "node_id": 1,
            "node_name": "gpu-1",
            "endpoint": "/v1/chat/completions",
            "source": "openai-sdk",
            "status_code": 200,
            "prompt_tokens": 10,
            "completion_tokens": 5,
            "total_tokens": 15,
            "duration_ms": 100.0,
        }
        values.update(fields)
        values["total_tokens"] = values["prompt_tokens"] + values["completion_tokens"]
        records.append(ActivityRecord(**values))
    store_activity(live.runtime.engine, records)
    with live.runtime.session() as session:
        return list(session.exec(select(ActivityRecord)).all())


def _traffic(now: datetime) -> list[dict[str, Any]]:
    """Requests spread over 40 days: several users, models and failures."""
    rows: list[dict[str, Any]] = []
    spec = [
        # (age, username, model, status, prompt, completion)
        (timedelta(minutes=1), "alice", "chat", 200, 100, 50),
        (timedelta(minutes=2), "alice", "chat", 502, 40, 0),
        (timedelta(minutes=3), "bob", "code", 200, 7, 3),
        (timedelta(minutes=70), "bob", "chat", 429, 0, 0),
        (timedelta(hours=5), "carol", "embed", 200, 30, 0),
        (timedelta(hours=30), "alice", "code", 200, 11, 22),
        (timedelta(days=3), "dave", "vision", 200, 5, 5),
        (timedelta(days=3, hours=2), "erin", "tiny", 404, 1, 0),
        (timedelta(days=6, hours=23), "alice", "rare", 200, 1, 1),
        (timedelta(days=10), "frank", "chat", 200, 9, 9),
        (timedelta(days=29), "bob", "code", 500, 2, 0),
        (timedelta(days=40), "alice", "chat", 200, 1000, 1000),
    ]
    for age, user, model, status, prompt, completion in spec:
        rows.append(
            {
                "username": user,
                "user_id": {"alice": 1, "bob": 2, "carol": 3, "dave": 4, "erin": 5, "frank": 6}[user],
                "model": model,
                "status_code": status,
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "duration_ms": 10.0 * (len(rows) + 1),
                "error": None if status < 400 else f"failed with {status}",
                "created_at": now - age,
            }
        )
    # One request made with the admin token: counted, but no user to rank.
    rows.append({"username": None, "user_id": None, "created_at": now - timedelta(minutes=4)})
    return rows


def _in(record: ActivityRecord, start: str, end: str) -> bool:
    return datetime.fromisoformat(start) <= record.created_at < datetime.fromisoformat(end)


def _totals(records: list[ActivityRecord], window: dict[str, Any]) -> dict[str, Any]:
    inside = [r for r in records if _in(r, window["start"], window["end"])]
    errors = sum(r.status_code >= 400 for r in inside)
    return {
        "requests": len(inside),
        "errors": errors,
        "error_rate": round(errors / len(inside), 6) if inside else 0.0,
        "prompt_tokens": sum(r.prompt_tokens for r in inside),
        "completion_tokens": sum(r.completion_tokens for r in inside),
        "total_tokens": sum(r.total_tokens for r in inside),
        "active_users": len({r.username for r in inside if r.username}),
        "avg_duration_ms": round(sum(r.duration_ms for r in inside) / len(inside), 3) if inside else None,
    }


@pytest.mark.parametrize("period", ["24h", "7d", "30d"])
def test_stats_match_the_ledger(live: LiveGateway, admin: httpx.Client, period: str) -> None:
    records = _seed(live, _traffic(datetime.now(UTC)))
    resp = admin.get("/admin/dashboard/stats", params={"period": period, "top": 3})
    assert resp.status_code == 200, resp.text
    stats = resp.json()
    assert stats["period"] == period
    for key in ("today", "last_period"):
        window = stats[key]
        assert {k: window[k] for k in _totals(records, window)} == _totals(records, window), key
    generated = datetime.fromisoformat(stats["generated_at"])
    assert datetime.fromisoformat(stats["today"]["start"]) == floor_to(generated, "day")
    span = datetime.fromisoformat(stats["last_period"]["end"]) - datetime.fromisoformat(
        stats["last_period"]["start"]
    )
    assert span == {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}[period]

    inside = [r for r in records if _in(r, stats["last_period"]["start"], stats["last_period"]["end"])]
    by_model = Counter(r.model for r in inside)
    expected_models = sorted(by_model.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    assert [(m["model"], m["requests"]) for m in stats["top_models"]] == expected_models
    by_user = Counter(r.username for r in inside if r.username)
    expected_users = sorted(by_user.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    assert [(u["username"], u["requests"]) for u in stats["top_users"]] == expected_users
    tokens = defaultdict(int)
    for r in inside:
        tokens[r.username] += r.total_tokens
    assert all(u["total_tokens"] == tokens[u["username"]] for u in stats["top_users"])

    failed = sorted((r for r in inside if r.status_code >= 400), key=lambda r: r.created_at, reverse=True)
    assert [e["request_id"] for e in stats["recent_errors"]] == [r.request_id for r in failed]
    assert all(e["error"] and e["status_code"] >= 400 for e in stats["recent_errors"])


def test_stats_count_nodes_by_health(live: LiveGateway, admin: httpx.Client) -> None:
    empty = admin.get("/admin/dashboard/stats").json()
    assert empty["nodes"] == {
        "total": 0,
        "active": 0,
        "inactive": 0,
        "healthy": 0,
        "unhealthy": 0,
        "unknown": 0,
    }
    assert empty["today"]["requests"] == 0 and empty["today"]["avg_duration_ms"] is None
    assert empty["top_models"] == empty["top_users"] == empty["recent_errors"] == []
    for name in ("up-1", "up-2", "down", "new", "off"):
        create_node(admin, name, is_active=name != "off")
    with live.runtime.session() as session:
        for node in session.exec(select(Node)).all():
            node.health_status = {
                "up-1": "healthy",
                "up-2": "healthy",
                "down": "unhealthy",
                "off": "healthy",
            }.get(node.name, "unknown")
    nodes = admin.get("/admin/dashboard/stats").json()["nodes"]
    assert nodes == {"total": 5, "active": 4, "inactive": 1, "healthy": 2, "unhealthy": 1, "unknown": 1}


def test_recent_errors_are_the_ten_newest(live: LiveGateway, admin: httpx.Client) -> None:
    now = datetime.now(UTC)
    rows = [{"status_code": 500, "created_at": now - timedelta(minutes=n + 1)} for n in range(14)]
    rows.append({"status_code": 200, "created_at": now - timedelta(seconds=5)})
    _seed(live, rows)
    errors = admin.get("/admin/dashboard/stats", params={"period": "24h"}).json()["recent_errors"]
    assert [e["request_id"] for e in errors] == [f"dash-{n}" for n in range(10)]


def _expected_series(records: list[ActivityRecord], chart: dict[str, Any], value: Any) -> list[int]:
    step = timedelta(hours=1) if chart["unit"] == "hour" else timedelta(days=1)
    starts = [datetime.fromisoformat(b) for b in chart["buckets"]]
    sums = [0] * len(starts)
    for r in records:
        for i, start in enumerate(starts):
            if start <= r.created_at < start + step:
                sums[i] += value(r)
    return sums


@pytest.mark.parametrize(
    ("period", "unit", "count"), [("24h", "hour", 24), ("7d", "day", 7), ("30d", "day", 30)]
)
def test_charts_are_zero_filled_buckets(
    live: LiveGateway, admin: httpx.Client, period: str, unit: str, count: int
) -> None:
    records = _seed(live, _traffic(datetime.now(UTC)))
    for name in ("requests", "tokens", "models"):
        resp = admin.get(f"/admin/dashboard/charts/{name}", params={"period": period, "top": 2})
        assert resp.status_code == 200, resp.text
        chart = resp.json()
        assert (chart["chart"], chart["period"], chart["unit"]) == (name, period, unit)
        starts = [datetime.fromisoformat(b) for b in chart["buckets"]]
        step = timedelta(hours=1) if unit == "hour" else timedelta(days=1)
        assert len(starts) == count and all(b - a == step for a, b in zip(starts, starts[1:], strict=False))
        assert starts[0] == datetime.fromisoformat(chart["start"])
        assert starts[-1] + step == datetime.fromisoformat(chart["end"])
        assert starts[-1] <= datetime.now(UTC) < starts[-1] + step + timedelta(minutes=1)
        assert all(len(s["values"]) == count and s["total"] == sum(s["values"]) for s in chart["series"])
        series = {s["name"]: s["values"] for s in chart["series"]}
        if name == "requests":
            assert series == {
                "requests": _expected_series(records, chart, lambda r: 1),
                "errors": _expected_series(records, chart, lambda r: int(r.status_code >= 400)),
            }
        elif name == "tokens":
            assert series == {
                "prompt_tokens": _expected_series(records, chart, lambda r: r.prompt_tokens),
                "completion_tokens": _expected_series(records, chart, lambda r: r.completion_tokens),
                "total_tokens": _expected_series(records, chart, lambda r: r.total_tokens),
            }
        else:
            inside = [r for r in records if _in(r, chart["start"], chart["end"])]
            ranked = sorted(Counter(r.model for r in inside).items(), key=lambda kv: (-kv[1], kv[0]))
            top = [m for m, _ in ranked[:2]]
            assert [s["name"] for s in chart["series"] if not s["other"]] == top
            for m in top:
                assert series[m] == _expected_series(records, chart, lambda r, m=m: int(r.model == m))
            others = [s for s in chart["series"] if s["other"]]
            if len(ranked) > 2:
                assert len(others) == 1 and others[0]["name"] == "other"
                assert others[0]["values"] == _expected_series(
                    [r for r in records if r.model not in top], chart, lambda r: 1
                )
            else:
                assert others == []


@pytest.mark.parametrize("period", ["24h", "30d"])
def test_user_charts_count_that_user_only(live: LiveGateway, admin: httpx.Client, period: str) -> None:
    create_user(admin, "bob")
    records = [r for r in _seed(live, _traffic(datetime.now(UTC))) if r.username == "bob"]
    params = {"period": period, "user": "bob"}
    requests = admin.get("/admin/dashboard/charts/requests", params=params)
    assert requests.status_code == 200, requests.text
    chart = requests.json()
    assert {s["name"]: s["values"] for s in chart["series"]} == {
        "requests": _expected_series(records, chart, lambda r: 1),
        "errors": _expected_series(records, chart, lambda r: int(r.status_code >= 400)),
    }
    tokens = admin.get("/admin/dashboard/charts/tokens", params=params).json()
    assert {s["name"]: s["values"] for s in tokens["series"]} == {
        "total_tokens": _expected_series(records, tokens, lambda r: r.total_tokens)
    }
    assert sum(chart["series"][0]["values"]) > 0


def test_user_charts_refuse_unknown_users_and_the_models_chart(admin: httpx.Client) -> None:
    create_user(admin, "bob")
    unknown = admin.get("/admin/dashboard/charts/requests", params={"user": "nobody"})
    assert unknown.status_code == 404 and "nobody" in unknown.json()["detail"]
    models = admin.get("/admin/dashboard/charts/models", params={"user": "bob"})
    assert models.status_code == 422 and "requests or tokens" in models.json()["detail"]
    assert admin.get("/admin/dashboard/charts/tokens", params={"user": "b" * 129}).status_code == 422


def test_charts_follow_deleted_activity(live: LiveGateway, admin: httpx.Client) -> None:
    """Retention deletes records; the charts (read from the rollups) follow."""
    records = _seed(live, _traffic(datetime.now(UTC)))
    before = admin.get("/admin/dashboard/charts/requests", params={"period": "30d"}).json()
    with live.runtime.session() as session:
        for record in session.exec(select(ActivityRecord).where(col(ActivityRecord.username) == "bob")).all():
            session.delete(record)
    after = admin.get("/admin/dashboard/charts/requests", params={"period": "30d"}).json()
    removed = [r for r in records if r.username == "bob" and _in(r, after["start"], after["end"])]
    assert before["series"][0]["total"] - after["series"][0]["total"] == len(removed) > 0


def test_bad_requests(live: LiveGateway, admin: httpx.Client, anon: httpx.Client) -> None:
    assert admin.get("/admin/dashboard/stats", params={"period": "1y"}).status_code == 422
    assert admin.get("/admin/dashboard/charts/requests", params={"period": "7"}).status_code == 422
    assert admin.get("/admin/dashboard/charts/requests", params={"top": 0}).status_code == 422
    assert admin.get("/admin/dashboard/stats", params={"top": 51}).status_code == 422
    unknown = admin.get("/admin/dashboard/charts/latency")
    assert unknown.status_code == 404 and "requests, tokens, models" in unknown.json()["detail"]
    assert anon.get("/admin/dashboard/stats").status_code == 401
    assert anon.get("/admin/dashboard/charts/requests").status_code == 401
    assert live.client("wrong-token").get("/admin/dashboard/charts/models").status_code == 403


def test_openapi_documents_the_shapes(live: LiveGateway) -> None:
    schema = create_gateway_app(live.runtime).openapi()
    stats = schema["paths"]["/admin/dashboard/stats"]["get"]
    chart = schema["paths"]["/admin/dashboard/charts/{chart}"]["get"]
    assert stats["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/DashboardStats"
    )
    assert chart["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/Chart")
    period = next(p for p in stats["parameters"] if p["name"] == "period")
    assert period["schema"]["enum"] == ["24h", "7d", "30d"]
    components = schema["components"]["schemas"]
    assert {"today", "last_period", "nodes", "top_models", "top_users", "recent_errors"} <= set(
        components["DashboardStats"]["properties"]
    )
    assert {"buckets", "series", "unit"} <= set(components["Chart"]["properties"])
