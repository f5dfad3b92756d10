"""/admin/nodes: CRUD with masked secrets, ordering, health checks and discovery."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest
from sqlmodel import Session, select

from maestro_app.db.models import ModelMapping, Node, NodeHealthEvent
from tests.admin.conftest import FAKE_MODELS, audit_actions, create_node
from tests.conftest import LiveGateway
from tests.fakes.upstream import FakeModel, FakeUpstream
from tests.support import wait_for

SECRET = "sk-live-0123456789abcd"


def _node_row(live: LiveGateway, node_id: int) -> Node:
    with Session(live.runtime.engine) as session:
        return session.exec(select(Node).where(Node.id == node_id)).one()


def test_create_masks_secrets_and_derives_a_code(live: LiveGateway, admin: httpx.Client) -> None:
    node = create_node(
        admin,
        "GPU Box #1",
        api_key=SECRET,
        priority=5,
        weight=3,
        headers={"X-Tenant": "tenant-secret-value", "X-Short": "abc"},
    )
    assert node["id"] > 0 and node["code"] == "gpu-box-1"
    assert node["api_key"] == "sk-…abcd"
    assert node["headers"] == {"X-Tenant": "ten…alue", "X-Short": "…"}
    assert node["health_status"] == "unknown" and node["last_health_check"] is None
    assert node["models_count"] == 0
    assert SECRET not in admin.get("/admin/nodes").text
    assert SECRET not in admin.get("/admin/audit-logs").text
    row = _node_row(live, node["id"])
    assert row.api_key == SECRET and row.headers["X-Tenant"] == "tenant-secret-value"
    view = live.runtime.snapshot.node(node["id"])
    assert view is not None and view.code == "gpu-box-1" and view.priority == 5
    second = create_node(admin, "gpu box 1!")
    assert second["code"] == "gpu-box-1-2"
    assert audit_actions(admin) == ["node.create", "node.create"]


def test_duplicates_are_409(admin: httpx.Client, audit_count: Callable[[], int]) -> None:
    create_node(admin, "n1", code="alpha")
    before = audit_count()
    assert (
        admin.post(
            "/admin/nodes", json={"name": "n1", "base_url": "http://h:1", "node_type": "ollama"}
        ).status_code
        == 409
    )
    assert (
        admin.post(
            "/admin/nodes",
            json={"name": "n2", "base_url": "http://h:1", "node_type": "vllm", "code": "alpha"},
        ).status_code
        == 409
    )
    other = create_node(admin, "n3")
    assert admin.patch(f"/admin/nodes/{other['id']}", json={"code": "alpha"}).status_code == 409
    assert admin.patch(f"/admin/nodes/{other['id']}", json={"name": "n1"}).status_code == 409
    assert audit_count() == before + 1
    assert admin.get("/admin/nodes").json()["total"] == 2


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "base_url": "ftp://h", "node_type": "ollama"},
        {"name": "x", "base_url": "not a url", "node_type": "ollama"},
        {"name": "x", "base_url": "http://", "node_type": "ollama"},
        {"name": "x", "base_url": "http://h:99999", "node_type": "ollama"},
        {"name": "x", "base_url": "http://h?x=1", "node_type": "ollama"},
        {"name": "x", "base_url": "http://h", "node_type": "openai"},
        {"name": "x", "base_url": "http://h"},
        {"name": "", "base_url": "http://h", "node_type": "ollama"},
        {"name": "x", "base_url": "http://h", "node_type": "ollama", "weight": -1},
        {"name": "x", "base_url": "http://h", "node_type": "ollama", "priority": 2**40},
        {"name": "x", "base_url": "http://h", "node_type": "ollama", "code": "Bad Code"},
        {"name": "x", "base_url": "http://h", "node_type": "ollama", "headers": {"Bad Name": "v"}},
        {"name": "x", "base_url": "http://h", "node_type": "ollama", "headers": {"Host": "v"}},
        {"name": "x", "base_url": "http://h", "node_type": "ollama", "headers": {"X-A": "a\r\nb"}},
        {"name": "x", "base_url": "http://h", "node_type": "ollama", "headers": {"X-A": 5}},
        {"name": "x", "base_url": "http://h", "node_type": "ollama", "api_key": "a\nb"},
        {"name": "x", "base_url": "http://h", "node_type": "ollama", "health_check_url": "nope"},
        {"name": "x", "base_url": "http://h", "node_type": "ollama", "is_active": "maybe"},
        {"name": "x", "base_url": "http://h", "node_type": "ollama", "surprise": True},
        {"name": "x\x00", "base_url": "http://h", "node_type": "ollama"},
    ],
)
def test_bad_node_bodies_are_422(
    admin: httpx.Client, audit_count: Callable[[], int], body: dict[str, object]
) -> None:
    resp = admin.post("/admin/nodes", json=body)
    assert resp.status_code == 422, resp.text
    assert audit_count() == 0
    assert admin.get("/admin/nodes").json()["total"] == 0


def test_patch_keeps_secrets_sent_back_masked(live: LiveGateway, admin: httpx.Client) -> None:
    node = create_node(admin, "n1", api_key=SECRET, headers={"X-Tenant": "tenant-secret-value"})
    # A form that sends back everything it was shown changes no secret.
    shown = admin.get(f"/admin/nodes/{node['id']}").json()
    resp = admin.patch(
        f"/admin/nodes/{node['id']}",
        json={
            "api_key": shown["api_key"],
            "headers": {**shown["headers"], "X-New": "fresh-value-123456"},
            "priority": 9,
        },
    )
    assert resp.status_code == 200, resp.text
    row = _node_row(live, node["id"])
    assert row.api_key == SECRET
    assert row.headers == {"X-Tenant": "tenant-secret-value", "X-New": "fresh-value-123456"}
    assert row.priority == 9
    resp = admin.patch(f"/admin/nodes/{node['id']}", json={"api_key": "sk-new-key-9999999999"})
    assert resp.json()["api_key"] == "sk-…9999"
    assert _node_row(live, node["id"]).api_key == "sk-new-key-9999999999"
    resp = admin.patch(f"/admin/nodes/{node['id']}", json={"api_key": None, "headers": {}})
    assert resp.json()["api_key"] is None and resp.json()["headers"] == {}
    update = admin.get("/admin/audit-logs", params={"action": "node.update"}).json()["items"]
    assert "sk-new-key" not in str(update) and SECRET not in str(update)
    assert update[0]["details"]["changes"] == {"api_key": None, "headers": []}
    assert update[1]["details"]["changes"] == {"api_key": "***"}
    assert update[2]["details"]["changes"] == {
        "headers": ["X-New", "X-Tenant"],
        "priority": {"old": 0, "new": 9},
    }
    assert admin.patch(f"/admin/nodes/{node['id']}", json={"name": None}).status_code == 422
    assert admin.patch("/admin/nodes/999", json={"priority": 1}).status_code == 404


def test_toggle_get_delete(live: LiveGateway, admin: httpx.Client) -> None:
    node = create_node(admin, "n1")
    other = create_node(admin, "n2")
    resp = admin.patch(f"/admin/nodes/{node['id']}/toggle")
    assert resp.status_code == 200 and resp.json()["is_active"] is False
    assert live.runtime.snapshot.node(node["id"]).is_active is False  # type: ignore[union-attr]
    assert admin.patch(f"/admin/nodes/{node['id']}/toggle").json()["is_active"] is True
    assert admin.get(f"/admin/nodes/{node['id']}").json()["name"] == "n1"
    assert admin.get("/admin/nodes/424242").status_code == 404
    assert admin.get("/admin/nodes/abc").status_code == 422
    # Mappings scoped to the deleted node alone go with it; others stop naming it.
    only = admin.post(
        "/admin/model-mappings", json={"display_name": "a", "real_name": "x", "node_ids": [node["id"]]}
    ).json()
    both = admin.post(
        "/admin/model-mappings",
        json={"display_name": "b", "real_name": "y", "node_ids": [node["id"], other["id"]]},
    ).json()
    assert admin.delete(f"/admin/nodes/{node['id']}").status_code == 204
    assert admin.get(f"/admin/nodes/{node['id']}").status_code == 404
    assert admin.get(f"/admin/model-mappings/{only['id']}").status_code == 404
    assert admin.get(f"/admin/model-mappings/{both['id']}").json()["node_ids"] == [other["id"]]
    assert live.runtime.snapshot.node(node["id"]) is None
    assert admin.delete(f"/admin/nodes/{node['id']}").status_code == 404
    assert audit_actions(admin, entity_type="node")[:3] == ["node.delete", "node.toggle", "node.toggle"]


def test_batch_priority(live: LiveGateway, admin: httpx.Client) -> None:
    a, b, c = (create_node(admin, name) for name in ("a", "b", "c"))
    resp = admin.patch(
        "/admin/nodes/batch/priority",
        json={
            "priorities": [
                {"id": a["id"], "priority": 1},
                {"id": b["id"], "priority": 30},
                {"id": c["id"], "priority": 20},
            ]
        },
    )
    assert resp.status_code == 200, resp.text
    assert [n["name"] for n in resp.json()] == ["b", "c", "a"]
    assert [n["name"] for n in admin.get("/admin/nodes").json()["items"]] == ["b", "c", "a"]
    assert live.runtime.snapshot.node(b["id"]).priority == 30  # type: ignore[union-attr]
    assert (
        admin.patch(
            "/admin/nodes/batch/priority",
            json={"priorities": [{"id": a["id"], "priority": 5}, {"id": 999, "priority": 1}]},
        ).status_code
        == 404
    )
    assert (
        admin.patch(
            "/admin/nodes/batch/priority",
            json={"priorities": [{"id": a["id"], "priority": 5}, {"id": a["id"], "priority": 6}]},
        ).status_code
        == 422
    )
    assert admin.patch("/admin/nodes/batch/priority", json={"priorities": []}).status_code == 422
    assert admin.get(f"/admin/nodes/{a['id']}").json()["priority"] == 1
    assert audit_actions(admin, action="node.priorities") == ["node.priorities"]


def test_discovery_upserts_and_keeps_overrides(
    live: LiveGateway, admin: httpx.Client, fake: FakeUpstream
) -> None:
    node = create_node(admin, "ollama-1", base_url=fake.url, is_active=False)
    resp = admin.post(f"/admin/nodes/{node['id']}/discover")
    assert resp.status_code == 200, resp.text
    result = resp.json()
    assert result["changed"] is True and sorted(result["added"]) == ["llama3:latest", "qwen2.5:7b"]
    models = {m["name"]: m for m in admin.get(f"/admin/nodes/{node['id']}/models").json()["items"]}
    assert models["qwen2.5:7b"]["context_length"] == 32768
    assert models["qwen2.5:7b"]["capabilities"] == ["completion", "tools", "vision"]
    assert models["qwen2.5:7b"]["family"] == "qwen2" and models["qwen2.5:7b"]["size"] > 0
    assert models["llama3:latest"]["is_available"] is True
    assert live.runtime.snapshot.node(node["id"]).find_model("llama3") is not None  # type: ignore[union-attr]
    assert admin.get(f"/admin/nodes/{node['id']}").json()["models_count"] == 2
    # The admin switches one model off; a later discovery keeps that choice.
    resp = admin.patch(f"/admin/nodes/{node['id']}/models/llama3:latest", json={"is_available": False})
    assert resp.status_code == 200 and resp.json()["is_available"] is False
    assert live.runtime.snapshot.node(node["id"]).find_model("llama3") is None  # type: ignore[union-attr]
    fake.models = [FakeModel("qwen2.5:7b", context_length=65536, family="qwen2")]
    result = admin.post(f"/admin/nodes/{node['id']}/discover").json()
    assert result["vanished"] == ["llama3:latest"] and result["updated"] == ["qwen2.5:7b"]
    fake.models = list(FAKE_MODELS_BACK)
    admin.post(f"/admin/nodes/{node['id']}/discover")
    models = {m["name"]: m for m in admin.get(f"/admin/nodes/{node['id']}/models").json()["items"]}
    assert models["llama3:latest"]["is_present"] is True
    assert models["llama3:latest"]["availability_override"] is False
    assert models["llama3:latest"]["is_available"] is False
    # null hands the choice back to discovery.
    resp = admin.patch(f"/admin/nodes/{node['id']}/models/llama3", json={"is_available": None})
    assert resp.json()["is_available"] is True
    assert (
        admin.patch(f"/admin/nodes/{node['id']}/models/ghost", json={"is_available": True}).status_code == 404
    )
    assert admin.patch(f"/admin/nodes/{node['id']}/models/llama3", json={}).status_code == 422
    assert audit_actions(admin, action="node.discover") == ["node.discover"] * 3


FAKE_MODELS_BACK = [FakeModel("llama3:latest"), FakeModel("qwen2.5:7b", context_length=65536, family="qwen2")]


def test_vllm_discovery_and_api_key(
    live: LiveGateway, admin: httpx.Client, upstream_factory: Callable[..., FakeUpstream]
) -> None:
    fake = upstream_factory([FakeModel("meta/llama-3-8b", context_length=16384)], api_key="sk-upstream-key-1")
    node = create_node(
        admin,
        "vllm-1",
        base_url=fake.url,
        node_type="vllm",
        api_key="sk-upstream-key-1",
        headers={"X-Team": "blue"},
        is_active=False,
    )
    resp = admin.post(f"/admin/nodes/{node['id']}/discover")
    assert resp.status_code == 200, resp.text
    assert [(m["name"], m["context_length"]) for m in resp.json()["models"]] == [("meta/llama-3-8b", 16384)]
    sent = [r for r in fake.requests if r.path == "/v1/models"][-1]
    assert sent.headers["authorization"] == "Bearer sk-upstream-key-1"
    assert sent.headers["x-team"] == "blue"


def test_discovery_of_unreachable_node_is_502(admin: httpx.Client) -> None:
    node = create_node(admin, "dead", is_active=False)
    resp = admin.post(f"/admin/nodes/{node['id']}/discover")
    assert resp.status_code == 502
    assert "api/tags" in resp.json()["detail"]
    assert admin.post("/admin/nodes/999/discover").status_code == 404


def test_creating_a_node_discovers_in_the_background(
    live: LiveGateway, admin: httpx.Client, fake: FakeUpstream
) -> None:
    node = create_node(admin, "auto", base_url=fake.url)
    assert wait_for(lambda: admin.get(f"/admin/nodes/{node['id']}").json()["models_count"] == 2)
    assert wait_for(lambda: live.runtime.snapshot.node(node["id"]).find_model("qwen2.5:7b"))  # type: ignore[union-attr]


def test_reactivating_a_node_discovers_it_again(
    live: LiveGateway, admin: httpx.Client, fake: FakeUpstream
) -> None:
    node = create_node(admin, "dormant", base_url=fake.url, is_active=False)
    models = lambda: admin.get(f"/admin/nodes/{node['id']}").json()["models_count"]  # noqa: E731
    # An inactive node is not discovered when it is added ...
    assert (models(), fake.hits["/api/tags"]) == (0, 0)
    # ... but right after it is switched on (toggle), without waiting for the periodic job.
    assert admin.patch(f"/admin/nodes/{node['id']}/toggle").json()["is_active"] is True
    assert wait_for(lambda: models() == 2, 5)
    assert wait_for(lambda: live.runtime.snapshot.node(node["id"]).find_model("qwen2.5:7b"))  # type: ignore[union-attr]

    # Switched off and on again with PATCH: a model pulled meanwhile is found at once.
    assert admin.patch(f"/admin/nodes/{node['id']}", json={"is_active": False}).json()["is_active"] is False
    fake.models = [*FAKE_MODELS, FakeModel("fresh:latest", context_length=4096)]
    tags = fake.hits["/api/tags"]
    assert admin.patch(f"/admin/nodes/{node['id']}", json={"is_active": True}).json()["is_active"] is True
    assert wait_for(lambda: models() == 3, 5)
    assert fake.hits["/api/tags"] == tags + 1
    assert wait_for(lambda: live.runtime.snapshot.node(node["id"]).find_model("fresh"))  # type: ignore[union-attr]
    # An edit that leaves the node's address alone does not rediscover it.
    assert admin.patch(f"/admin/nodes/{node['id']}", json={"priority": 3}).status_code == 200
    assert live.runtime.snapshot.node(node["id"]).priority == 3  # type: ignore[union-attr]
    time.sleep(0.3)  # a discovery started by the edit would have asked by now
    assert fake.hits["/api/tags"] == tags + 1


def test_an_added_node_is_health_checked_at_once(
    live: LiveGateway, admin: httpx.Client, fake: FakeUpstream
) -> None:
    """Not at the health job's next run (every 30 s by default): routing knows at once."""
    assert admin.get("/admin/settings").json()["health_check_interval_s"] >= 30
    node = create_node(admin, "fresh", base_url=fake.url)
    shown = lambda: admin.get(f"/admin/nodes/{node['id']}").json()  # noqa: E731
    assert wait_for(lambda: shown()["health_status"] == "healthy", 5)
    assert shown()["last_health_check"] is not None and fake.hits["/api/version"] >= 1
    assert wait_for(lambda: live.runtime.snapshot.node(node["id"]).health_status == "healthy")  # type: ignore[union-attr]
    assert wait_for(lambda: shown()["models_count"] == 2, 5)


def test_health_check_hysteresis(live: LiveGateway, admin: httpx.Client, fake: FakeUpstream) -> None:
    node = create_node(admin, "h", base_url=fake.url, api_key="sk-health-key-0000", is_active=False)
    check = lambda: admin.post(f"/admin/nodes/{node['id']}/health-check").json()  # noqa: E731
    first = check()
    assert first["ok"] is True and first["status"] == "healthy" and first["changed"] is True
    assert first["url"].endswith("/api/version")
    assert fake.requests[-1].headers["authorization"] == "Bearer sk-health-key-0000"
    assert live.runtime.snapshot.node(node["id"]).health_status == "healthy"  # type: ignore[union-attr]
    fake.fail_health(True)
    once = check()
    assert once["ok"] is False and once["status"] == "healthy" and once["consecutive_failures"] == 1
    twice = check()
    assert twice["status"] == "unhealthy" and twice["changed"] is True
    assert live.runtime.snapshot.node(node["id"]).health_status == "unhealthy"  # type: ignore[union-attr]
    shown = admin.get(f"/admin/nodes/{node['id']}").json()
    assert shown["health_status"] == "unhealthy" and shown["last_health_check"] is not None
    assert "503" in shown["last_error"]
    fake.fail_health(False)
    assert check()["status"] == "healthy"
    with Session(live.runtime.engine) as session:
        events = session.exec(select(NodeHealthEvent).order_by(NodeHealthEvent.id)).all()
    assert [(e.old_status, e.new_status) for e in events] == [
        ("unknown", "healthy"),
        ("healthy", "unhealthy"),
        ("unhealthy", "healthy"),
    ]
    assert audit_actions(admin, action="node.health_check") == ["node.health_check"] * 4
    assert admin.post("/admin/nodes/999/health-check").status_code == 404


def test_mapping_cleanup_is_in_the_same_transaction(live: LiveGateway, admin: httpx.Client) -> None:
    node = create_node(admin, "n1")
    admin.post(
        "/admin/model-mappings", json={"display_name": "a", "real_name": "x", "node_ids": [node["id"]]}
    )
    admin.delete(f"/admin/nodes/{node['id']}")
    with Session(live.runtime.engine) as session:
        assert session.exec(select(ModelMapping)).all() == []
