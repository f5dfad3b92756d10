"""Tool sets page in Chromium: the six presets are listed, a tool set is created, renamed to
"every tool", refused deletion while a model config names it, and deleted after that; bad
input shows the reason; checked through the admin API."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import MaestroServer
from tests.e2e.helpers import fits_narrow_window, open_page, save_screenshot, toast, unique

pytestmark = pytest.mark.e2e

PRESETS = ("minimal", "readonly", "basic", "standard", "extended", "full")


def api_tool_set(server: MaestroServer, name: str) -> httpx.Response:
    with server.admin_client() as admin:
        return admin.get(f"/admin/tool-sets/{name}")


def card_of(page: Page, name: str) -> Locator:
    return page.locator(".toolset-card").filter(has=page.locator(".toolset-name", has_text=name))


def test_presets_are_listed_and_a_tool_set_goes_through_its_life(
    maestro_server: MaestroServer, browser_page: Page
) -> None:
    page = browser_page
    name, renamed = unique("e2e-tools"), unique("e2e-tools-renamed")
    open_page(page, maestro_server, "/tool-sets", "Tool sets")

    for preset in PRESETS:
        card = page.locator(f"#toolset-{api_tool_set(maestro_server, preset).json()['id']}")
        expect(card.locator(".toolset-name")).to_have_text(preset)
        expect(card.locator(".preset-badge")).to_be_visible()
    full = page.locator(f"#toolset-{api_tool_set(maestro_server, 'full').json()['id']}")
    expect(full.locator(".toolset-count")).to_have_text("every tool")

    # Create: names one per line or comma-separated.
    page.locator("#new-toolset").click()
    page.locator("#toolset-name").fill(name)
    page.locator("#toolset-tools").fill("Read, Grep\nmcp__github__create_issue\n")
    page.locator("#toolset-description").fill("reviewer with GitHub")
    page.locator("#save-toolset").click()
    expect(toast(page, f"Tool set {name} created")).to_be_visible()
    created = api_tool_set(maestro_server, name).json()
    assert (created["tools"], created["description"]) == (
        ["Read", "Grep", "mcp__github__create_issue"],
        "reviewer with GitHub",
    )
    card = page.locator(f"#toolset-{created['id']}")
    expect(card.locator(".toolset-count")).to_have_text("3 tools")
    expect(card.locator(".preset-badge")).to_have_count(0)

    # A model config names it: renaming follows into the config, deleting is refused.
    prefix = unique("e2e-tools-cfg")
    with maestro_server.admin_client() as admin:
        assert (
            admin.post("/admin/model-config", json={"model_prefix": prefix, "tool_set": name}).status_code
            == 201
        )
    page.reload()
    expect(card.locator(".toolset-used-by")).to_contain_text(prefix)
    card.locator(".edit-toolset").click()
    expect(page.locator("#toolset-tools")).to_have_value("Read\nGrep\nmcp__github__create_issue")
    page.locator("#toolset-name").fill(renamed)
    page.get_by_role("switch", name="Every tool").click()
    expect(page.locator("#toolset-tools")).to_have_count(0)
    page.locator("#save-toolset").click()
    expect(toast(page, f"Tool set {renamed} saved (renamed in model config(s) {prefix})")).to_be_visible()
    assert api_tool_set(maestro_server, name).status_code == 404
    assert api_tool_set(maestro_server, renamed).json()["tools"] is None
    with maestro_server.admin_client() as admin:
        assert admin.get(f"/admin/model-config/{prefix}").json()["tool_set"] == renamed
    expect(card.locator(".toolset-name")).to_have_text(renamed)
    expect(card.locator(".toolset-count")).to_have_text("every tool")

    save_screenshot(page, "tool-sets")
    fits_narrow_window(page, page.get_by_role("heading", name="Tool sets", exact=True), card)

    card.locator(".delete-toolset").click()
    expect(page.locator("#confirm-delete-toolset")).to_contain_text("cannot be deleted")
    page.locator("#confirm-delete-toolset-ok").click()
    expect(toast(page, f"is used by model config(s) {prefix}")).to_be_visible()
    assert api_tool_set(maestro_server, renamed).status_code == 200

    # Once the config is gone, it can go too.
    with maestro_server.admin_client() as admin:
        assert admin.delete(f"/admin/model-config/{prefix}").status_code == 204
    page.reload()
    card.locator(".delete-toolset").click()
    expect(page.locator("#confirm-delete-toolset")).to_contain_text("Model configs can no longer name it.")
    page.locator("#confirm-delete-toolset-ok").click()
    expect(card).to_have_count(0)
    assert api_tool_set(maestro_server, renamed).status_code == 404


def test_bad_tool_set_input_shows_the_reason_and_changes_nothing(
    maestro_server: MaestroServer, browser_page: Page
) -> None:
    page = browser_page
    open_page(page, maestro_server, "/tool-sets", "Tool sets")
    readonly = api_tool_set(maestro_server, "readonly").json()

    page.locator("#new-toolset").click()
    page.locator("#toolset-name").fill("readonly")
    page.locator("#toolset-tools").fill("Bash")
    page.locator("#save-toolset").click()
    expect(toast(page, "A tool set named 'readonly' already exists")).to_be_visible()
    page.locator("#toolset-name").fill(unique("e2e-long"))
    page.locator("#toolset-tools").fill("x" * 300)
    page.locator("#save-toolset").click()
    expect(toast(page, "at most 256 characters")).to_be_visible()
    expect(page.locator("#toolset-editor")).to_be_visible()
    page.keyboard.press("Escape")

    # A preset warns before it goes (cancelled here: other tests use the presets).
    page.locator(f"#toolset-{readonly['id']}").locator(".delete-toolset").click()
    expect(page.locator("#confirm-delete-toolset")).to_contain_text("It is a preset: deleting it is final")
    page.locator("#confirm-delete-toolset").get_by_role("button", name="Cancel").click()
    assert api_tool_set(maestro_server, "readonly").json() == readonly
