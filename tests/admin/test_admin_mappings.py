"""/admin/model-mappings: context-length parsing, overlap rules, lookup by display name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.admin.conftest import audit_actions, create_node
from tests.conftest import LiveGateway


def _create(
    admin: httpx.Client, display: str = "chat", real: str = "llama3:8b", **fields: Any
) -> httpx.Response:
    return admin.post("/admin/model-mappings", json={"display_name": display, "real_name": real, **fields})


@pytest.mark.parametrize(
    ("given", "tokens"),
    [
        (32768, 32768),
        ("32768", 32768),
        ("32K", 32768),
        ("128k", 131072),
        ("1M", 1048576),
        ("32.5K", 33280),
        (" 8k ", 8192),
        (4096.0, 4096),
        (None, None),
    ],
)
def test_context_length_forms(admin: httpx.Client, given: object, tokens: int | None) -> None:
    resp = _create(admin, context_length=given)
    assert resp.status_code == 201, resp.text
    assert resp.json()["context_length"] == tokens


@pytest.mark.parametrize("given", ["32X", "lots", "-1", 0, -5, "0.5", 1.5, True, "3000M", [1], {"k": 1}])
def test_bad_context_length_is_422_with_a_clear_message(
    admin: httpx.Client, given: object, audit_count: Callable[[], int]
) -> None:
    resp = _create(admin, context_length=given)
    assert resp.status_code == 422, resp.text
    assert "context_length" in resp.text
    assert audit_count() == 0


def test_create_get_put_delete(live: LiveGateway, admin: httpx.Client) -> None:
    node = create_node(admin, "n1")
    resp = _create(
        admin,
        "chat",
        "llama3:8b",
        node_ids=[node["id"], node["id"]],
        context_length="8K",
        capabilities=["tools", "completion", "tools"],
        description="main chat model",
    )
    assert resp.status_code == 201, resp.text
    mapping = resp.json()
    assert mapping["id"] > 0 and mapping["node_ids"] == [node["id"]]
    assert mapping["capabilities"] == ["completion", "tools"]
    view = live.runtime.snapshot.mapping_for("chat", node["id"])
    assert view is not None and view.real_name == "llama3:8b" and view.context_length == 8192
    assert admin.get(f"/admin/model-mappings/{mapping['id']}").json()["display_name"] == "chat"
    assert admin.get("/admin/model-mappings/chat").json()["id"] == mapping["id"]
    assert admin.get("/admin/model-mappings/chat:latest").json()["id"] == mapping["id"]
    resp = admin.put("/admin/model-mappings/chat", json={"real_name": "llama3:70b", "node_ids": []})
    assert resp.status_code == 200, resp.text
    assert resp.json()["real_name"] == "llama3:70b" and resp.json()["context_length"] == 8192
    assert live.runtime.snapshot.mapping_for("chat", 12345).real_name == "llama3:70b"  # type: ignore[union-attr]
    listed = admin.get("/admin/model-mappings", params={"search": "70b"}).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == mapping["id"]
    assert admin.delete(f"/admin/model-mappings/{mapping['id']}").status_code == 204
    assert admin.get("/admin/model-mappings/chat").status_code == 404
    assert not live.runtime.snapshot.is_mapped("chat")
    assert audit_actions(admin, entity_type="model_mapping") == [
        "mapping.delete",
        "mapping.update",
        "mapping.create",
    ]


def test_overlap_rules(admin: httpx.Client, audit_count: Callable[[], int]) -> None:
    a, b, c = (create_node(admin, name)["id"] for name in ("a", "b", "c"))
    assert _create(admin, "chat", "m-global").status_code == 201
    before = audit_count()
    assert _create(admin, "chat", "other").status_code == 409  # global vs global
    assert _create(admin, "chat:latest", "other").status_code == 409  # same name, tag spelled out
    assert audit_count() == before
    assert _create(admin, "chat", "m-ab", node_ids=[a, b]).status_code == 201  # global vs scoped: fine
    resp = _create(admin, "chat", "m-bc", node_ids=[b, c])
    assert resp.status_code == 409 and "overlap" in resp.json()["detail"]
    assert _create(admin, "chat", "m-c", node_ids=[c]).status_code == 201
    assert _create(admin, "other", "x", node_ids=[a]).status_code == 201  # another name: no conflict
    # Several mappings share the display name now: the name alone is ambiguous.
    resp = admin.get("/admin/model-mappings/chat")
    assert resp.status_code == 409 and "use the id" in resp.json()["detail"]
    assert admin.delete("/admin/model-mappings/chat").status_code == 409
    scoped_c = [m for m in admin.get("/admin/model-mappings").json()["items"] if m["real_name"] == "m-c"][0]
    assert admin.put(f"/admin/model-mappings/{scoped_c['id']}", json={"node_ids": [a]}).status_code == 409
    assert admin.put(f"/admin/model-mappings/{scoped_c['id']}", json={"node_ids": []}).status_code == 409
    assert (
        admin.put(
            f"/admin/model-mappings/{scoped_c['id']}", json={"node_ids": [c], "real_name": "m-c2"}
        ).status_code
        == 200
    )


def test_unknown_node_ids_are_422(admin: httpx.Client) -> None:
    node = create_node(admin, "n1")
    resp = _create(admin, node_ids=[node["id"], 9999])
    assert resp.status_code == 422 and "9999" in resp.json()["detail"]
    mapping = _create(admin).json()
    assert admin.put(f"/admin/model-mappings/{mapping['id']}", json={"node_ids": [777]}).status_code == 422
    assert admin.get(f"/admin/model-mappings/{mapping['id']}").json()["node_ids"] == []


@pytest.mark.parametrize(
    "body",
    [
        {"display_name": "chat"},
        {"real_name": "x"},
        {"display_name": "", "real_name": "x"},
        {"display_name": "node:gpu:llama", "real_name": "x"},
        {"display_name": "chat", "real_name": "x", "capabilities": ["flying"]},
        {"display_name": "chat", "real_name": "x", "node_ids": "1"},
        {"display_name": "chat", "real_name": "x", "node_ids": ["a"]},
        {"display_name": "chat", "real_name": "x", "bogus": 1},
        {"display_name": ["chat"], "real_name": "x"},
        {"display_name": "c" * 300, "real_name": "x"},
    ],
)
def test_bad_mapping_bodies_are_422(admin: httpx.Client, body: dict[str, object]) -> None:
    assert admin.post("/admin/model-mappings", json=body).status_code == 422
    assert admin.get("/admin/model-mappings").json()["total"] == 0


def test_put_validation(admin: httpx.Client) -> None:
    mapping = _create(admin).json()
    for body in (
        {"display_name": None},
        {"context_length": "big"},
        {"unknown": True},
        {"capabilities": ["nope"]},
    ):
        assert admin.put(f"/admin/model-mappings/{mapping['id']}", json=body).status_code == 422
    assert admin.put("/admin/model-mappings/9999", json={"real_name": "x"}).status_code == 404
    resp = admin.put(f"/admin/model-mappings/{mapping['id']}", json={"context_length": None})
    assert resp.status_code == 200 and resp.json()["context_length"] is None


def test_display_names_with_slashes(admin: httpx.Client) -> None:
    mapping = _create(admin, "org/team-model", "meta/llama-3-8b").json()
    assert admin.get("/admin/model-mappings/org/team-model").json()["id"] == mapping["id"]
    resp = admin.put("/admin/model-mappings/org/team-model", json={"real_name": "meta/llama-3-70b"})
    assert resp.status_code == 200 and resp.json()["real_name"] == "meta/llama-3-70b"
    assert admin.delete("/admin/model-mappings/org/team-model").status_code == 204
