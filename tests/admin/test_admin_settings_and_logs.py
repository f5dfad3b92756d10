"""/admin/settings, /admin/activity and /admin/audit-logs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from maestro_app.db.models import ActivityRecord
from maestro_app.domain.snapshot import DEFAULT_SETTINGS
from maestro_app.services import audit
from tests.admin.conftest import audit_actions, create_user
from tests.conftest import LiveGateway
from tests.support import store_activity


def test_settings_read_and_update(live: LiveGateway, admin: httpx.Client) -> None:
    assert admin.get("/admin/settings").json() == DEFAULT_SETTINGS
    resp = admin.put(
        "/admin/settings",
        json={"routing_strategy": "least_busy", "max_body_bytes": 1048576, "grafana_model": "chat"},
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["routing_strategy"] == "least_busy"
    assert resp.json()["health_check_interval_s"] == DEFAULT_SETTINGS["health_check_interval_s"]
    assert live.runtime.snapshot.setting("routing_strategy") == "least_busy"
    assert live.runtime.snapshot.setting("max_body_bytes") == 1048576
    assert admin.get("/admin/settings").json()["grafana_model"] == "chat"
    assert admin.put("/admin/settings", json={"grafana_model": None}).json()["grafana_model"] is None
    audit = admin.get("/admin/audit-logs", params={"entity_type": "settings"}).json()["items"]
    assert [a["action"] for a in audit] == ["settings.update", "settings.update"]
    assert audit[1]["details"]["changes"]["routing_strategy"] == {"old": "priority", "new": "least_busy"}
    # Sending the current values again is not a change.
    version = live.runtime.snapshot.version
    assert admin.put("/admin/settings", json={"routing_strategy": "least_busy"}).status_code == 200
    assert live.runtime.snapshot.version == version
    assert len(audit_actions(admin, action="settings")) == 2


@pytest.mark.parametrize(
    "body",
    [
        {"routing_strategy": "random"},
        {"health_check_interval_s": 0},
        {"discovery_interval_s": -3},
        {"log_retention_days": "ten"},
        {"max_body_bytes": 1.5},
        {"warmup_interval_s": None},
        {"grafana_model": 7},
        {"unknown_key": 1},
        {"node_cooldown_s": True},
        [],
    ],
)
def test_bad_settings_are_422(
    live: LiveGateway, admin: httpx.Client, body: object, audit_count: Callable[[], int]
) -> None:
    resp = admin.put("/admin/settings", json=body)
    assert resp.status_code == 422, resp.text
    assert admin.get("/admin/settings").json() == DEFAULT_SETTINGS
    assert audit_count() == 0


def _record(live: LiveGateway, n: int, **fields: object) -> None:
    values: dict[str, object] = {
        "request_id": f"req-{n}",
        "user_id": 1,
        "username": "alice",
        "model": "chat",
        "real_model": "llama3:8b",
        "node_id": 1,
        "node_name": "gpu-1",
        "endpoint": "/v1/chat/completions",
        "source": "openai",
        "status_code": 200,
        "prompt_tokens": 3,
        "completion_tokens": 4,
        "total_tokens": 7,
        "duration_ms": 12.5,
        "ttfb_ms": 3.0,
        "created_at": datetime.now(UTC) - timedelta(minutes=n),
    }
    values.update(fields)
    store_activity(live.runtime.engine, [ActivityRecord(**values)])  # type: ignore[arg-type]


def test_activity_filters(live: LiveGateway, admin: httpx.Client) -> None:
    _record(live, 1)
    _record(live, 2, username="bob", status_code=502, error="upstream down", source="curl")
    _record(live, 3, model="embed", real_model="nomic", status_code=404, node_name="gpu-2")
    _record(live, 4, status_code=429, created_at=datetime.now(UTC) - timedelta(days=2))
    page = admin.get("/admin/activity").json()
    assert page["total"] == 4 and [i["request_id"] for i in page["items"]] == [
        "req-1",
        "req-2",
        "req-3",
        "req-4",
    ]
    item = page["items"][0]
    for key in (
        "request_id",
        "username",
        "model",
        "real_model",
        "node",
        "endpoint",
        "source",
        "status_code",
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "estimated",
        "duration_ms",
        "ttfb_ms",
        "error",
        "created_at",
    ):
        assert key in item
    assert item["node"] == "gpu-1"

    def ids(**params: object) -> list[str]:
        resp = admin.get("/admin/activity", params=params)
        assert resp.status_code == 200, resp.text
        return [i["request_id"] for i in resp.json()["items"]]

    assert ids(user="bob") == ["req-2"]
    assert ids(model="nomic") == ["req-3"] and ids(model="chat") == ["req-1", "req-2", "req-4"]
    assert ids(node="gpu-2") == ["req-3"]
    assert ids(source="curl") == ["req-2"]
    assert ids(status="5xx") == ["req-2"] and ids(status="4XX") == ["req-3", "req-4"]
    assert ids(status="200") == ["req-1"]
    since = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    assert ids(start=since) == ["req-1", "req-2", "req-3"]
    assert ids(end=since) == ["req-4"]
    assert ids(start=(datetime.now(UTC) - timedelta(days=3)).date().isoformat(), limit=1, offset=3) == [
        "req-4"
    ]
    for bad in (
        {"status": "5x"},
        {"status": "600"},
        {"start": "soon"},
        {"limit": 0},
        {"limit": 5000},
        {"offset": -1},
        {"start": "2024-01-02", "end": "2024-01-01"},
    ):
        assert admin.get("/admin/activity", params=bad).status_code == 422, bad


def test_one_activity_record_by_request_id(live: LiveGateway, admin: httpx.Client) -> None:
    _record(live, 1, status_code=502, error="upstream down", stream=True, estimated=True)
    resp = admin.get("/admin/activity/req-1")
    assert resp.status_code == 200, resp.text
    item = resp.json()
    assert item == admin.get("/admin/activity").json()["items"][0]
    assert (item["status_code"], item["error"], item["stream"], item["estimated"]) == (
        502,
        "upstream down",
        True,
        True,
    )
    missing = admin.get("/admin/activity/req-404")
    assert missing.status_code == 404 and "req-404" in missing.json()["detail"]
    assert admin.get("/admin/activity/" + "x" * 65).status_code == 422


def test_audit_log_filters(admin: httpx.Client) -> None:
    create_user(admin, "alice")
    create_user(admin, "bob")
    admin.patch("/admin/users/bob", json={"is_active": False})
    admin.put("/admin/settings", json={"log_retention_days": 7})
    assert audit_actions(admin) == ["settings.update", "user.update", "user.create", "user.create"]
    assert audit_actions(admin, action="user.create") == ["user.create", "user.create"]
    assert audit_actions(admin, action="user") == ["user.update", "user.create", "user.create"]
    assert audit_actions(admin, entity_type="settings") == ["settings.update"]
    assert audit_actions(admin, actor="admin-token") == audit_actions(admin)
    assert audit_actions(admin, actor="someone-else") == []
    assert audit_actions(admin, action="user", entity_type="settings") == []
    page = admin.get("/admin/audit-logs", params={"limit": 1, "offset": 1}).json()
    assert page["total"] == 4 and page["items"][0]["action"] == "user.update"
    assert page["items"][0]["entity_id"] == "bob"


def test_audit_facets_list_the_values_the_filters_take(live: LiveGateway, admin: httpx.Client) -> None:
    create_user(admin, "alice")
    admin.put("/admin/settings", json={"log_retention_days": 7})
    with live.runtime.session() as session:
        facets = audit.audit_facets(session=session)
    assert facets.actions == ["settings.update", "user.create"]
    assert facets.entity_types == ["settings", "user"]
    assert len(facets.actors) == 1 and facets.actors[0]
