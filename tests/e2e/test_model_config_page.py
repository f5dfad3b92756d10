"""Model config page in Chromium: create a config with a tool set and removed parameters,
switch it to an own tool list, put it in maintenance from the table (and see the gateway
answer 503 at once), refuse bad input, delete; checked through the admin API."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import MaestroServer
from tests.e2e.helpers import fits_narrow_window, open_page, save_screenshot, toast, unique
from tests.fakes.upstream import FakeUpstream

pytestmark = pytest.mark.e2e


def api_config(server: MaestroServer, prefix: str) -> httpx.Response:
    with server.admin_client() as admin:
        return admin.get(f"/admin/model-config/{prefix}")


def pick(page: Page, combobox: str, option: str) -> None:
    page.get_by_role("combobox", name=combobox, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()


def serve_model(server: MaestroServer, fake: FakeUpstream) -> str:
    """A node serving `fake`'s models, checked and discovered; a user token for every model."""
    with server.admin_client() as admin:
        node = admin.post(
            "/admin/nodes", json={"name": unique("e2e-cfg-node"), "base_url": fake.url, "node_type": "ollama"}
        )
        assert node.status_code == 201, node.text
        assert admin.post(f"/admin/nodes/{node.json()['id']}/health-check").status_code == 200
        assert admin.post(f"/admin/nodes/{node.json()['id']}/discover").status_code == 200
        user = admin.post("/admin/users", json={"username": unique("e2e-cfg-user"), "all_models": True})
        user.raise_for_status()
        return str(user.json()["token"])


def chat(server: MaestroServer, token: str, model: str) -> httpx.Response:
    with httpx.Client(
        base_url=server.base_url, timeout=30, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        return client.post(
            "/v1/chat/completions", json={"model": model, "messages": [{"role": "user", "content": "hi"}]}
        )


def test_model_config_created_edited_switched_and_deleted(
    maestro_server: MaestroServer, browser_page: Page
) -> None:
    page = browser_page
    prefix = unique("e2e-cfg")
    model = prefix + "-coder:7b"
    with FakeUpstream([model]) as fake:
        token = serve_model(maestro_server, fake)
        assert chat(maestro_server, token, model).status_code == 200
        open_page(page, maestro_server, "/model-config", "Model config")

        # Create with a preset tool set and two removed parameters (the prefix is stored lower-cased).
        page.locator("#new-config").click()
        page.locator("#config-prefix").fill(prefix.upper())
        pick(page, "Tool set", "readonly")
        page.locator("#config-params").fill("temperature, top_p")
        page.locator("#save-config").click()
        expect(toast(page, f"Model config {prefix} created")).to_be_visible()
        created: dict[str, Any] = api_config(maestro_server, prefix).json()
        assert (created["tool_set"], created["allowed_tools"], created["unsupported_params"]) == (
            "readonly",
            None,
            ["temperature", "top_p"],
        )
        assert created["maintenance_mode"] is False
        row = page.locator(f"#config-{created['id']}")
        expect(row.locator(".config-tools")).to_contain_text("readonly")
        expect(row.locator(".config-params")).to_contain_text("top_p")

        # Edit: an own tool list instead of the tool set.
        row.locator(".edit-config").click()
        expect(page.locator("#config-params")).to_have_value("temperature, top_p")
        page.get_by_role("switch", name="Own tool list").click()
        page.locator("#config-allowed-tools").fill("Read\nGrep")
        pick(page, "Tool set", "No tool set")
        page.locator("#save-config").click()
        expect(row.locator(".config-tools")).to_contain_text("own list · 2 tools")
        edited = api_config(maestro_server, prefix).json()
        assert (edited["tool_set"], edited["allowed_tools"]) == (None, ["Read", "Grep"])

        # Maintenance from the table: the gateway refuses the model's requests at once.
        row.locator(".maintenance-switch").click()
        expect(toast(page, f"Models under {prefix} are in maintenance")).to_be_visible()
        assert api_config(maestro_server, prefix).json()["maintenance_mode"] is True
        refused = chat(maestro_server, token, model)
        assert refused.status_code == 503, refused.text
        assert "model_maintenance" in refused.text
        row.locator(".maintenance-switch").click()
        expect(row.locator(".maintenance-switch")).not_to_be_checked()
        assert chat(maestro_server, token, model).status_code == 200

        save_screenshot(page, "model-config")
        fits_narrow_window(page, page.get_by_role("heading", name="Model config", exact=True), row)

        # Delete after confirming.
        row.locator(".delete-config").click()
        expect(page.locator("#confirm-delete-config")).to_contain_text(prefix)
        page.locator("#confirm-delete-config-ok").click()
        expect(row).to_have_count(0)
        assert api_config(maestro_server, prefix).status_code == 404


def test_bad_model_config_input_shows_the_reason_and_changes_nothing(
    maestro_server: MaestroServer, browser_page: Page
) -> None:
    page = browser_page
    prefix = unique("e2e-strict-cfg")
    with maestro_server.admin_client() as admin:
        created = admin.post(
            "/admin/model-config", json={"model_prefix": prefix, "unsupported_params": ["seed"]}
        )
        assert created.status_code == 201, created.text
    before = created.json()
    open_page(page, maestro_server, "/model-config", "Model config")
    page.locator("#config-search").fill(prefix)
    expect(page.locator(".config-row")).to_have_count(1)
    row = page.locator(f"#config-{before['id']}")

    row.locator(".edit-config").click()
    page.locator("#config-params").fill("seed, model, messages")
    page.locator("#save-config").click()
    expect(toast(page, "messages, model cannot be removed from a request")).to_be_visible()
    expect(page.locator("#config-editor")).to_be_visible()
    page.keyboard.press("Escape")

    page.locator("#new-config").click()
    page.locator("#config-prefix").fill(prefix)
    page.locator("#save-config").click()
    expect(toast(page, "already exists")).to_be_visible()
    page.keyboard.press("Escape")

    assert api_config(maestro_server, prefix).json() == before
    with maestro_server.admin_client() as admin:
        listed = admin.get("/admin/model-config", params={"search": prefix}).json()
    assert listed["total"] == 1
