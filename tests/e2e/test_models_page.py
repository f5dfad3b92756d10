"""Models page in Chromium: a node's discovered models with size, family and context
length; the availability switch (pinned off, then following discovery again); discovery
from the page; switching nodes. Checked through the admin API."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import MaestroServer
from tests.e2e.helpers import by_id, open_page, save_screenshot, toast, unique
from tests.fakes.upstream import FakeModel, FakeUpstream

pytestmark = pytest.mark.e2e


def add_node(server: MaestroServer, base_url: str) -> dict[str, Any]:
    with server.admin_client() as admin:
        created = admin.post(
            "/admin/nodes", json={"name": unique("e2e-models"), "base_url": base_url, "node_type": "ollama"}
        )
        assert created.status_code == 201, created.text
        node_id = created.json()["id"]
        assert admin.post(f"/admin/nodes/{node_id}/health-check").status_code == 200
        assert admin.post(f"/admin/nodes/{node_id}/discover").status_code == 200
        return admin.get(f"/admin/nodes/{node_id}").json()  # type: ignore[no-any-return]


def api_model(server: MaestroServer, node_id: int, name: str) -> dict[str, Any]:
    with server.admin_client() as admin:
        items = admin.get(f"/admin/nodes/{node_id}/models").json()["items"]
    return next(m for m in items if m["name"] == name)


def row(page: Page, name: str) -> Locator:
    return by_id(page, f"model-{name}")


def test_models_of_a_node_and_their_availability(maestro_server: MaestroServer, browser_page: Page) -> None:
    page = browser_page
    models = [
        FakeModel("llama3.2:3b", context_length=131072, family="llama", size=2_019_393_189),
        FakeModel("qwen3:8b", context_length=40960, family="qwen3", size=5_225_387_923),
    ]
    with FakeUpstream(models) as fake, FakeUpstream(["other-model:1b"]) as other_fake:
        node = add_node(maestro_server, fake.url)
        other = add_node(maestro_server, other_fake.url)
        open_page(page, maestro_server, f"/models?node={node['id']}", "Models")

        llama = row(page, "llama3.2:3b")
        expect(llama).to_contain_text("llama")
        expect(llama.locator(".model-size")).to_have_text("1.9 GiB")
        expect(llama.locator(".model-context")).to_have_text("128K")
        expect(llama).to_contain_text("completion")
        expect(row(page, "qwen3:8b").locator(".model-context")).to_have_text("40K")
        expect(row(page, "qwen3:8b")).to_contain_text("qwen3")
        expect(page.locator(".model-row")).to_have_count(2)
        save_screenshot(page, "models")
        expect(page.locator("#node-select")).to_contain_text(node["name"])

        # Switch one model off: pinned off, out of the node's available models.
        row(page, "qwen3:8b").locator(".available-switch").click()
        expect(row(page, "qwen3:8b").locator(".pinned")).to_have_text("pinned off")
        qwen = api_model(maestro_server, node["id"], "qwen3:8b")
        assert (qwen["is_available"], qwen["availability_override"]) == (False, False)
        with maestro_server.admin_client() as admin:
            assert admin.get(f"/admin/nodes/{node['id']}").json()["models_count"] == 1

        # Follow discovery again: the pin goes, the model is back (the node still has it).
        row(page, "qwen3:8b").locator(".follow-discovery").click()
        expect(row(page, "qwen3:8b").locator(".pinned")).to_have_count(0)
        expect(row(page, "qwen3:8b").locator(".available-switch")).to_be_checked()
        qwen = api_model(maestro_server, node["id"], "qwen3:8b")
        assert (qwen["is_available"], qwen["availability_override"]) == (True, None)

        # Discover from the page: a model that appeared on the node shows up.
        fake.models = [*models, FakeModel("mistral:7b", context_length=32768, family="mistral")]
        page.locator("#discover-models").click()
        expect(row(page, "mistral:7b").locator(".model-context")).to_have_text("32K")
        assert api_model(maestro_server, node["id"], "mistral:7b")["is_available"] is True

        # The filter, then another node from the select.
        page.locator("#model-search").fill("qwen")
        expect(page.locator(".model-row")).to_have_count(1)
        page.locator("#node-select").click()
        page.get_by_role("option", name=f"{other['name']} (ollama)").click()
        expect(page).to_have_url(f"{maestro_server.base_url}/models?node={other['id']}")
        expect(row(page, "other-model:1b")).to_be_visible()
        expect(page.locator(".model-row")).to_have_count(1)


def test_an_unknown_model_name_shows_the_reason(maestro_server: MaestroServer, browser_page: Page) -> None:
    """The page refreshes after a failed change: a model deleted meanwhile disappears."""
    page = browser_page
    with FakeUpstream(["gone-soon:1b", "stays:1b"]) as fake:
        node = add_node(maestro_server, fake.url)
        open_page(page, maestro_server, f"/models?node={node['id']}", "Models")
        expect(row(page, "gone-soon:1b")).to_be_visible()
        with maestro_server.admin_client() as admin:
            assert admin.delete(f"/admin/nodes/{node['id']}").status_code == 204
        row(page, "gone-soon:1b").locator(".available-switch").click()
        expect(toast(page, f"Node {node['id']} not found")).to_be_visible()
        expect(row(page, "gone-soon:1b")).to_have_count(0)
