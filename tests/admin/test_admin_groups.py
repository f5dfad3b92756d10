"""/admin/model-groups: CRUD by name, members (add, update, delete, reorder), validation,
audit records, and the routing snapshot following every change."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.admin.conftest import audit_actions, create_node
from tests.conftest import LiveGateway


def _group(admin: httpx.Client, name: str = "team", **fields: Any) -> httpx.Response:
    return admin.post("/admin/model-groups", json={"name": name, **fields})


def _member(admin: httpx.Client, group: str, model: str, **fields: Any) -> httpx.Response:
    return admin.post(f"/admin/model-groups/{group}/members", json={"model_display_name": model, **fields})


def test_auth_is_required(live: LiveGateway, anon: httpx.Client) -> None:
    assert anon.get("/admin/model-groups").status_code == 401
    assert live.client("not-the-token").post("/admin/model-groups", json={"name": "x"}).status_code == 403


def test_group_crud(live: LiveGateway, admin: httpx.Client) -> None:
    resp = _group(admin, "team", strategy="round_robin", description="coders", list_in_catalog=True)
    assert resp.status_code == 201, resp.text
    group = resp.json()
    assert group["id"] > 0 and group["members"] == []
    assert (group["strategy"], group["max_failover_retries"], group["is_active"]) == ("round_robin", 2, True)
    assert live.runtime.snapshot.groups["team"].strategy == "round_robin"

    assert _group(admin, "team").status_code == 409
    assert admin.get("/admin/model-groups/team").json()["description"] == "coders"
    assert admin.get("/admin/model-groups/nope").status_code == 404

    listed = admin.get("/admin/model-groups", params={"limit": 1}).json()
    assert (listed["total"], listed["limit"], listed["offset"]) == (1, 1, 0)
    assert listed["items"][0]["name"] == "team"

    resp = admin.put("/admin/model-groups/team", json={"name": "crew", "max_failover_retries": 0})
    assert resp.status_code == 200, resp.text
    assert (resp.json()["name"], resp.json()["max_failover_retries"]) == ("crew", 0)
    assert "team" not in live.runtime.snapshot.groups and "crew" in live.runtime.snapshot.groups
    assert admin.put("/admin/model-groups/crew", json={"is_active": False}).status_code == 200
    assert "crew" not in live.runtime.snapshot.groups  # inactive groups do not route

    assert _group(admin, "other").status_code == 201
    assert admin.put("/admin/model-groups/crew", json={"name": "other"}).status_code == 409
    assert admin.delete("/admin/model-groups/crew").status_code == 204
    assert admin.get("/admin/model-groups/crew").status_code == 404
    assert admin.delete("/admin/model-groups/crew").status_code == 404
    assert audit_actions(admin, entity_type="model_group") == [
        "group.delete",
        "group.create",
        "group.update",
        "group.update",
        "group.create",
    ]


def test_members_add_update_delete(live: LiveGateway, admin: httpx.Client) -> None:
    n1, n2 = create_node(admin, "n1")["id"], create_node(admin, "n2")["id"]
    assert _group(admin).status_code == 201
    first = _member(admin, "team", "llama3", capability_tags=["tools", "vision", "tools"], weight=3)
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["priority"], body["weight"], body["capability_tags"]) == (0, 3, ["tools", "vision"])
    second = _member(admin, "team", "qwen", preferred_node_ids=[n2, n1, n2], context_length="32K").json()
    assert second["priority"] == 1  # appended after the last
    assert second["preferred_node_ids"] == [n2, n1]  # order kept: it is the order tried
    assert second["context_length"] == 32768

    view = live.runtime.snapshot.groups["team"]
    assert [m.model_display_name for m in view.members] == ["llama3", "qwen"]
    assert view.members[1].preferred_node_ids == (n2, n1)

    resp = admin.put(
        f"/admin/model-groups/team/members/{second['id']}", json={"weight": 0, "context_length": None}
    )
    assert resp.status_code == 200, resp.text
    assert (resp.json()["weight"], resp.json()["context_length"]) == (0, None)
    assert live.runtime.snapshot.groups["team"].members[1].weight == 0

    assert admin.delete(f"/admin/model-groups/team/members/{first.json()['id']}").status_code == 204
    assert [m["model_display_name"] for m in admin.get("/admin/model-groups/team").json()["members"]] == [
        "qwen"
    ]
    assert admin.delete(f"/admin/model-groups/team/members/{first.json()['id']}").status_code == 404
    assert audit_actions(admin, entity_type="model_group_member") == [
        "group.member.delete",
        "group.member.update",
        "group.member.create",
        "group.member.create",
    ]


def test_member_of_another_group_is_404(admin: httpx.Client) -> None:
    assert _group(admin, "a").status_code == 201 and _group(admin, "b").status_code == 201
    member = _member(admin, "a", "m").json()
    assert admin.put(f"/admin/model-groups/b/members/{member['id']}", json={"weight": 2}).status_code == 404
    assert admin.delete(f"/admin/model-groups/b/members/{member['id']}").status_code == 404
    assert _member(admin, "nope", "m").status_code == 404


def test_member_validation(admin: httpx.Client, audit_count: Callable[[], int]) -> None:
    assert _group(admin).status_code == 201
    assert _group(admin, "other").status_code == 201
    before = audit_count()
    for fields in (
        {"capability_tags": ["flying"]},
        {"preferred_node_ids": [424242]},
        {"context_length": "lots"},
        {"weight": -1},
        {"priority": -1},
        {"bogus": True},
    ):
        resp = _member(admin, "team", "m", **fields)
        assert resp.status_code == 422, (fields, resp.text)
    assert _member(admin, "team", "node:gpu:llama3").status_code == 422
    nested = _member(admin, "team", "other")
    assert nested.status_code == 422 and "groups do not nest" in nested.json()["detail"]
    assert audit_count() == before


def test_reorder_members(live: LiveGateway, admin: httpx.Client) -> None:
    assert _group(admin).status_code == 201
    ids = [_member(admin, "team", name).json()["id"] for name in ("a", "b", "c")]
    resp = admin.put("/admin/model-groups/team/members/order", json={"member_ids": [ids[2], ids[0], ids[1]]})
    assert resp.status_code == 200, resp.text
    members = resp.json()["members"]
    assert [(m["model_display_name"], m["priority"]) for m in members] == [("c", 0), ("a", 1), ("b", 2)]
    assert [m.model_display_name for m in live.runtime.snapshot.groups["team"].members] == ["c", "a", "b"]
    assert audit_actions(admin, action="group.members.reorder") == ["group.members.reorder"]

    assert _group(admin, "other").status_code == 201
    foreign = _member(admin, "other", "x").json()["id"]
    for body in (
        {"member_ids": [ids[0], ids[1]]},  # one missing
        {"member_ids": [ids[0], ids[1], ids[2], foreign]},  # not a member
        {"member_ids": [ids[0], ids[0], ids[1], ids[2]]},  # repeated
        {"member_ids": []},
        {"member_ids": "1,2,3"},
    ):
        resp = admin.put("/admin/model-groups/team/members/order", json=body)
        assert resp.status_code == 422, (body, resp.text)
    assert admin.put("/admin/model-groups/nope/members/order", json={"member_ids": [1]}).status_code == 404
    assert [m.model_display_name for m in live.runtime.snapshot.groups["team"].members] == ["c", "a", "b"]


def test_group_names_with_slashes(live: LiveGateway, admin: httpx.Client) -> None:
    assert _group(admin, "org/coders").status_code == 201
    member = _member(admin, "org/coders", "qwen/qwen2.5-coder")
    assert member.status_code == 201, member.text
    assert (
        admin.get("/admin/model-groups/org/coders").json()["members"][0]["model_display_name"]
        == "qwen/qwen2.5-coder"
    )
    mid = member.json()["id"]
    assert admin.put(f"/admin/model-groups/org/coders/members/{mid}", json={"weight": 5}).status_code == 200
    assert (
        admin.put("/admin/model-groups/org/coders/members/order", json={"member_ids": [mid]}).status_code
        == 200
    )
    assert admin.delete(f"/admin/model-groups/org/coders/members/{mid}").status_code == 204
    assert admin.delete("/admin/model-groups/org/coders").status_code == 204
    assert live.runtime.snapshot.groups == {}


def test_deleting_a_group_deletes_its_members(live: LiveGateway, admin: httpx.Client) -> None:
    assert _group(admin).status_code == 201
    assert _member(admin, "team", "a").status_code == 201
    assert admin.delete("/admin/model-groups/team").status_code == 204
    assert _group(admin).status_code == 201
    assert admin.get("/admin/model-groups/team").json()["members"] == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "node:gpu:x"},
        {"name": "g", "strategy": "least_busy"},
        {"name": "g", "max_failover_retries": -1},
        {"name": "g", "max_failover_retries": "2"},
        {"name": "g", "list_in_catalog": "yes"},
        {"name": "g", "members": []},
        {"name": "g" * 300},
    ],
)
def test_bad_group_bodies_are_422(admin: httpx.Client, body: dict[str, object]) -> None:
    assert admin.post("/admin/model-groups", json=body).status_code == 422
    assert admin.get("/admin/model-groups").json()["total"] == 0


def test_put_validation(admin: httpx.Client) -> None:
    assert _group(admin).status_code == 201
    for body in ({"name": None}, {"strategy": None}, {"strategy": "random"}, {"unknown": 1}):
        assert admin.put("/admin/model-groups/team", json=body).status_code == 422, body
    assert admin.put("/admin/model-groups/nope", json={"strategy": "weighted"}).status_code == 404
