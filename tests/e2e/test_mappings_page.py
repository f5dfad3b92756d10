"""Mappings page in Chromium: create a node-scoped mapping with a context length typed as
"32K" and capabilities, see the gateway route it to that node only, edit it to global,
refuse bad input, search, delete; checked through the admin API and the gateway."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import MaestroServer
from tests.e2e.helpers import open_page, save_screenshot, toast, unique
from tests.fakes.upstream import FakeUpstream

pytestmark = pytest.mark.e2e

CHAT_PATHS = ("/api/chat", "/v1/chat/completions")


def add_node(server: MaestroServer, name: str, base_url: str) -> int:
    with server.admin_client() as admin:
        created = admin.post("/admin/nodes", json={"name": name, "base_url": base_url, "node_type": "ollama"})
        assert created.status_code == 201, created.text
        node_id = int(created.json()["id"])
        assert admin.post(f"/admin/nodes/{node_id}/health-check").status_code == 200
        assert admin.post(f"/admin/nodes/{node_id}/discover").status_code == 200
        return node_id


def api_mapping(server: MaestroServer, display_name: str) -> httpx.Response:
    with server.admin_client() as admin:
        return admin.get(f"/admin/model-mappings/{display_name}")


def mapping_row(page: Page, mapping_id: int) -> Locator:
    return page.locator(f"#mapping-{mapping_id}")


def node_box(page: Page, node_name: str) -> Locator:
    return page.locator(".node-choice").filter(has_text=node_name).get_by_role("checkbox")


def capability_box(page: Page, capability: str) -> Locator:
    return page.locator(".capability-choice").filter(has_text=capability).get_by_role("checkbox")


def test_scoped_mapping_created_routed_edited_and_deleted(
    maestro_server: MaestroServer, browser_page: Page
) -> None:
    page = browser_page
    real = unique("e2e-real") + ":7b"
    display = unique("e2e-display")
    with FakeUpstream([real]) as fake_a, FakeUpstream([real]) as fake_b:
        name_a, name_b = unique("e2e-map-a"), unique("e2e-map-b")
        node_a = add_node(maestro_server, name_a, fake_a.url)
        add_node(maestro_server, name_b, fake_b.url)
        open_page(page, maestro_server, "/mappings", "Mappings")

        page.locator("#new-mapping").click()
        page.locator("#mapping-display-name").fill(display)
        page.locator("#mapping-real-name").fill(real)
        node_box(page, name_a).click()
        expect(page.locator("#mapping-editor")).to_contain_text("Only on the checked nodes.")
        page.locator("#mapping-context-length").fill("32K")
        capability_box(page, "tools").click()
        capability_box(page, "vision").click()
        page.locator("#save-mapping").click()
        expect(toast(page, f"Mapping {display} → {real} created")).to_be_visible()

        created = api_mapping(maestro_server, display).json()
        assert created["real_name"] == real
        assert created["node_ids"] == [node_a]
        assert created["context_length"] == 32768
        assert created["capabilities"] == ["tools", "vision"]
        row = mapping_row(page, created["id"])
        expect(row.locator(".mapping-scope")).to_have_text(name_a)
        expect(row.locator(".mapping-context")).to_have_text("32K")
        expect(row.locator(".mapping-capabilities")).to_contain_text("tools")
        save_screenshot(page, "mappings")

        # The gateway knows the display name at once, and only node A serves it.
        with maestro_server.admin_client() as admin:
            issued = admin.post("/admin/users", json={"username": unique("e2e-mapper"), "all_models": True})
            issued.raise_for_status()
        user = {"Authorization": f"Bearer {issued.json()['token']}"}
        with httpx.Client(base_url=maestro_server.base_url, timeout=30, headers=user) as client:
            listed = {m["id"] for m in client.get("/v1/models").json()["data"]}
            assert display in listed
            for _ in range(3):
                answer = client.post(
                    "/v1/chat/completions",
                    json={"model": display, "messages": [{"role": "user", "content": "hi"}]},
                )
                assert answer.status_code == 200, answer.text
        assert sum(fake_a.hits[p] for p in CHAT_PATHS) == 3
        assert sum(fake_b.hits[p] for p in CHAT_PATHS) == 0

        # Edit: every node, 128k, without vision.
        row.locator(".edit-mapping").click()
        expect(page.locator("#mapping-context-length")).to_have_value("32K")
        expect(node_box(page, name_a)).to_be_checked()
        page.locator("#mapping-editor").get_by_role("button", name="All nodes").click()
        expect(node_box(page, name_a)).not_to_be_checked()
        page.locator("#mapping-context-length").fill("128k")
        capability_box(page, "vision").click()
        page.locator("#save-mapping").click()
        expect(row.locator(".mapping-scope")).to_have_text("all nodes")
        expect(row.locator(".mapping-context")).to_have_text("128K")
        edited = api_mapping(maestro_server, display).json()
        assert (edited["node_ids"], edited["context_length"], edited["capabilities"]) == (
            [],
            131072,
            ["tools"],
        )

        # Bad input: the reason is shown, nothing changes.
        row.locator(".edit-mapping").click()
        page.locator("#mapping-context-length").fill("lots")
        page.locator("#save-mapping").click()
        expect(toast(page, "context_length")).to_be_visible()
        expect(page.locator("#mapping-editor")).to_be_visible()
        page.keyboard.press("Escape")
        assert api_mapping(maestro_server, display).json()["context_length"] == 131072

        # A second global mapping of the same display name overlaps the first one.
        page.locator("#new-mapping").click()
        page.locator("#mapping-display-name").fill(display)
        page.locator("#mapping-real-name").fill("something-else")
        page.locator("#save-mapping").click()
        expect(toast(page, "already maps")).to_be_visible()
        page.keyboard.press("Escape")

        # Search, then delete after confirming.
        page.locator("#mapping-search").fill(display)
        expect(page.locator(".mapping-row")).to_have_count(1)
        row.locator(".delete-mapping").click()
        page.locator("#confirm-delete-mapping-ok").click()
        expect(row).to_have_count(0)
        assert api_mapping(maestro_server, display).status_code == 404


def test_mapping_list_follows_api_changes_on_reload(
    maestro_server: MaestroServer, browser_page: Page
) -> None:
    page = browser_page
    display = unique("e2e-listed")
    with maestro_server.admin_client() as admin:
        created: dict[str, Any] = admin.post(
            "/admin/model-mappings",
            json={"display_name": display, "real_name": "llama3.2:3b", "context_length": 8192},
        ).json()
    open_page(page, maestro_server, "/mappings", "Mappings")
    row = mapping_row(page, created["id"])
    expect(row.locator(".mapping-scope")).to_have_text("all nodes")
    expect(row.locator(".mapping-context")).to_have_text("8K")
    with maestro_server.admin_client() as admin:
        assert admin.delete(f"/admin/model-mappings/{created['id']}").status_code == 204
    row.locator(".edit-mapping").click()
    expect(toast(page, "not found")).to_be_visible()
    expect(row).to_have_count(0)
