"""Nodes page in Chromium: add a node and see it become healthy and its models discovered,
edit it without retyping its secret, switches, health history, drag-and-drop priority
order (and routing following it at once), delete; checked through the admin API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import MaestroServer
from tests.e2e.helpers import open_page, save_screenshot, toast, unique
from tests.fakes.upstream import FakeModel, FakeUpstream

pytestmark = pytest.mark.e2e

API_KEY = "sk-e2e-node-key-0123456789"
CHAT_PATHS = ("/api/chat", "/v1/chat/completions")


@pytest.fixture
def secured_upstream() -> Iterator[FakeUpstream]:
    """A node that wants an API key for its model list (not for /api/version)."""
    models = [
        FakeModel("llama3.2:3b", context_length=131072),
        FakeModel("nomic-embed-text", context_length=8192),
    ]
    with FakeUpstream(models, api_key=API_KEY) as fake:
        yield fake


def api_node(server: MaestroServer, node_id: int) -> httpx.Response:
    with server.admin_client() as admin:
        return admin.get(f"/admin/nodes/{node_id}")


def api_nodes(server: MaestroServer) -> list[dict[str, Any]]:
    with server.admin_client() as admin:
        return admin.get("/admin/nodes", params={"limit": 1000}).json()["items"]  # type: ignore[no-any-return]


def node_id_by_name(server: MaestroServer, name: str) -> int:
    return next(n["id"] for n in api_nodes(server) if n["name"] == name)


def card(page: Page, node_id: int) -> Locator:
    return page.locator(f"#node-card-{node_id}")


def card_menu(page: Page, node_id: int, item: str) -> None:
    card(page, node_id).locator(".node-menu").click()
    page.get_by_role("menuitem", name=item).click()


def add_api_node(
    server: MaestroServer, name: str, base_url: str, *, discover: bool = True, **fields: Any
) -> int:
    with server.admin_client() as admin:
        created = admin.post(
            "/admin/nodes", json={"name": name, "base_url": base_url, "node_type": "ollama", **fields}
        )
        assert created.status_code == 201, created.text
        node_id = int(created.json()["id"])
        assert admin.post(f"/admin/nodes/{node_id}/health-check").status_code == 200
        if discover:
            assert admin.post(f"/admin/nodes/{node_id}/discover").status_code == 200
        return node_id


def test_add_check_discover_edit_and_switch_a_node(
    maestro_server: MaestroServer, browser_page: Page, secured_upstream: FakeUpstream
) -> None:
    page = browser_page
    name = unique("e2e-gpu")
    open_page(page, maestro_server, "/nodes", "Nodes")

    page.locator("#add-node").click()
    page.locator("#node-name").fill(name)
    page.locator("#node-base-url").fill(secured_upstream.url)
    page.locator("#node-api-key").fill(API_KEY)
    page.locator("#save-node").click()
    expect(toast(page, f"Node {name} added")).to_be_visible()
    node_id = node_id_by_name(maestro_server, name)
    node = api_node(maestro_server, node_id).json()
    assert node["node_type"] == "ollama"
    assert node["api_key"] == "sk-…6789"  # stored, shown masked
    assert node["is_active"] is True

    # Health-check now: the fake answers, the badge turns healthy.
    card(page, node_id).locator(".check-now").click()
    expect(card(page, node_id).locator(".health-badge")).to_have_text("healthy")
    assert api_node(maestro_server, node_id).json()["health_status"] == "healthy"

    # Discover now: both models are found with the key.
    card(page, node_id).locator(".discover-now").click()
    expect(card(page, node_id).locator(".models-count")).to_have_text("2 models")
    save_screenshot(page, "nodes")
    assert api_node(maestro_server, node_id).json()["models_count"] == 2

    # Edit: rename, keep the masked key as it is; the stored key still opens the model list.
    card(page, node_id).locator(".edit-node").click()
    expect(page.locator("#node-editor")).to_contain_text("sk-…6789")
    expect(page.locator("#node-api-key")).to_have_value("sk-…6789")
    page.locator("#node-name").fill(name + "-renamed")
    page.locator("#node-weight").fill("3")
    page.locator("#save-node").click()
    expect(card(page, node_id).locator(".node-name")).to_have_text(name + "-renamed")
    node = api_node(maestro_server, node_id).json()
    assert (node["name"], node["weight"], node["api_key"]) == (name + "-renamed", 3, "sk-…6789")
    secured_upstream.reset_stats()
    card(page, node_id).locator(".discover-now").click()
    assert secured_upstream.wait_until(
        lambda: any(r.path == "/api/tags" for r in secured_upstream.requests), 10
    )
    tags = [r for r in secured_upstream.requests if r.path == "/api/tags"]
    assert tags[-1].headers.get("authorization") == f"Bearer {API_KEY}"
    expect(card(page, node_id).locator(".models-count")).to_have_text("2 models")

    # Warmup and active switches.
    card(page, node_id).locator(".warmup-switch").click()
    expect(card(page, node_id).locator(".warmup-switch")).to_be_checked()
    assert api_node(maestro_server, node_id).json()["warmup_enabled"] is True
    card(page, node_id).locator(".active-switch").click()
    expect(card(page, node_id).locator(".active-switch")).not_to_be_checked()
    assert api_node(maestro_server, node_id).json()["is_active"] is False
    card(page, node_id).locator(".active-switch").click()
    expect(card(page, node_id).locator(".active-switch")).to_be_checked()
    assert api_node(maestro_server, node_id).json()["is_active"] is True

    # Two failed checks make it unhealthy; the history lists both changes, newest first.
    secured_upstream.fail_health(True)
    for _ in range(2):
        card(page, node_id).locator(".check-now").click()
        expect(toast(page, "Check failed").first).to_be_visible()
    expect(card(page, node_id).locator(".health-badge")).to_have_text("unhealthy")
    assert api_node(maestro_server, node_id).json()["health_status"] == "unhealthy"
    card_menu(page, node_id, "Health history")
    rows = page.locator("#health-history .history-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("healthy")
    expect(rows.nth(0)).to_contain_text("unhealthy")
    expect(rows.nth(0)).to_contain_text("HTTP 503")
    expect(rows.nth(1)).to_contain_text("unknown")


def test_drag_and_drop_sets_priorities_and_routing_follows(
    maestro_server: MaestroServer, browser_page: Page
) -> None:
    page = browser_page
    model = unique("e2e-shared-model")
    with FakeUpstream([model]) as first_fake, FakeUpstream([model]) as second_fake:
        first = add_api_node(maestro_server, unique("e2e-first"), first_fake.url, priority=500)
        second = add_api_node(maestro_server, unique("e2e-second"), second_fake.url, priority=400)
        with maestro_server.admin_client() as admin:
            token = admin.post("/admin/users", json={"username": unique("e2e-router"), "all_models": True})
            token.raise_for_status()
        user = {"Authorization": f"Bearer {token.json()['token']}"}

        def chat_goes_to() -> FakeUpstream:
            for fake in (first_fake, second_fake):
                fake.reset_stats()
            with httpx.Client(base_url=maestro_server.base_url, timeout=30, headers=user) as client:
                answer = client.post(
                    "/v1/chat/completions",
                    json={"model": model, "messages": [{"role": "user", "content": "hi"}]},
                )
                assert answer.status_code == 200, answer.text
            hits = {id(f): sum(f.hits[p] for p in CHAT_PATHS) for f in (first_fake, second_fake)}
            assert sorted(hits.values()) == [0, 1]
            return first_fake if hits[id(first_fake)] else second_fake

        assert chat_goes_to() is first_fake
        open_page(page, maestro_server, "/nodes", "Nodes")
        expect(card(page, second)).to_be_visible()
        cards = page.locator(".node-card")
        ids_before = [c.get_attribute("id") for c in cards.all()]
        assert ids_before.index(f"node-card-{first}") < ids_before.index(f"node-card-{second}")

        # Drag the second node onto the top half of the first: it lands above it.
        card(page, second).drag_to(card(page, first), target_position={"x": 40, "y": 4})
        expect(toast(page, "Priority order saved")).to_be_visible()
        ids_after = [c.get_attribute("id") for c in cards.all()]
        assert ids_after.index(f"node-card-{second}") == ids_after.index(f"node-card-{first}") - 1
        priorities = {n["id"]: n["priority"] for n in api_nodes(maestro_server)}
        assert priorities[second] > priorities[first]
        # The API lists nodes by priority: the same order the page shows.
        assert [f"node-card-{n['id']}" for n in api_nodes(maestro_server)] == ids_after
        assert chat_goes_to() is second_fake  # routing uses the new order at once

        # The menu moves a node too (keyboard and touch users).
        card_menu(page, second, "Move down")
        expect(toast(page, "Priority order saved").first).to_be_visible()
        expect(page.locator(".node-card").nth(ids_after.index(f"node-card-{second}"))).to_have_id(
            f"node-card-{first}"
        )
        priorities = {n["id"]: n["priority"] for n in api_nodes(maestro_server)}
        assert priorities[first] > priorities[second]


def test_bad_input_changes_nothing_and_delete_asks_first(
    maestro_server: MaestroServer, browser_page: Page
) -> None:
    page = browser_page
    name = unique("e2e-doomed")
    node_id = add_api_node(maestro_server, name, "http://127.0.0.1:9", discover=False)
    open_page(page, maestro_server, "/nodes", "Nodes")

    page.locator("#add-node").click()
    page.locator("#node-name").fill(unique("e2e-bad"))
    page.locator("#node-base-url").fill("ftp://example.com")
    page.locator("#save-node").click()
    expect(toast(page, "base_url")).to_be_visible()
    expect(page.locator("#node-editor")).to_be_visible()
    page.locator("#node-base-url").fill("http://127.0.0.1:9")
    page.locator("#node-name").fill(name)  # taken
    page.locator("#save-node").click()
    expect(toast(page, "already exists")).to_be_visible()
    page.keyboard.press("Escape")
    assert [n["name"] for n in api_nodes(maestro_server)].count(name) == 1

    card_menu(page, node_id, "Delete")
    page.locator("#confirm-delete-node").get_by_role("button", name="Cancel").click()
    assert api_node(maestro_server, node_id).status_code == 200
    card_menu(page, node_id, "Delete")
    page.locator("#confirm-delete-node-ok").click()
    expect(card(page, node_id)).to_have_count(0)
    assert api_node(maestro_server, node_id).status_code == 404


def test_health_refreshes_without_reloading_the_page(
    maestro_server: MaestroServer, browser_page: Page
) -> None:
    page = browser_page
    with FakeUpstream(["live:1b"]) as fake:
        node_id = add_api_node(maestro_server, unique("e2e-live"), fake.url)
        open_page(page, maestro_server, "/nodes", "Nodes")
        expect(card(page, node_id).locator(".health-badge")).to_have_text("healthy")
        fake.fail_health(True)
        with maestro_server.admin_client() as admin:  # the health job's work, done by hand
            for _ in range(2):
                assert admin.post(f"/admin/nodes/{node_id}/health-check").status_code == 200
        # The page polls every 10 s while it is visible.
        expect(card(page, node_id).locator(".health-badge")).to_have_text("unhealthy", timeout=15_000)
