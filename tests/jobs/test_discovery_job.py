"""The periodic discovery: added models appear, removed ones turn unavailable, an admin's
availability choice survives, and routing follows without an admin action."""

from __future__ import annotations

from tests.fakes.upstream import FakeModel
from tests.jobs.conftest import chat
from tests.support import add_node, add_user, set_settings, wait_for


def _models(live, node_id):  # type: ignore[no-untyped-def]
    items = live.admin.get(f"/admin/nodes/{node_id}/models").json()["items"]
    return {m["name"]: m["is_available"] for m in items}


def test_discovery_follows_the_node_and_keeps_overrides(gateway, upstream_factory):
    fake = upstream_factory(["gone:latest", "hidden:latest", "pinned:latest"])
    node_id = add_node(gateway, fake, name="n")["id"]
    assert _models(gateway, node_id) == {"gone:latest": True, "hidden:latest": True, "pinned:latest": True}
    admin = gateway.admin
    assert admin.patch(
        f"/admin/nodes/{node_id}/models/hidden:latest", json={"is_available": False}
    ).is_success
    assert admin.patch(f"/admin/nodes/{node_id}/models/pinned:latest", json={"is_available": True}).is_success
    client = gateway.client(add_user(gateway))

    fake.models = ["hidden:latest", FakeModel("new:latest", context_length=32768)]
    set_settings(gateway, discovery_interval_s=0.3)
    assert wait_for(lambda: "new:latest" in _models(gateway, node_id), 3)
    assert _models(gateway, node_id) == {
        "gone:latest": False,  # vanished from the node
        "hidden:latest": False,  # present, but the admin switched it off
        "new:latest": True,
        "pinned:latest": True,  # vanished, but the admin's choice is kept
    }
    # The snapshot was rebuilt: the new model routes, with its discovered context length.
    node = gateway.runtime.snapshot.node(node_id)
    assert node is not None and node.find_model("new").context_length == 32768
    assert chat(client, "new").status_code == 200
    assert [r.json["model"] for r in fake.requests if r.path == "/api/chat"] == ["new:latest"]
