"""Users page in Chromium: create with an allowlist and limits, copy the token once, rotate
it, deactivate, edit, search, delete; every change checked through the admin API and the
gateway."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import MaestroServer
from tests.e2e.helpers import by_id, open_page, save_screenshot, toast, unique

pytestmark = pytest.mark.e2e

TOKEN_TEXT = re.compile(r"^\S{20,}$")


def api_user(server: MaestroServer, username: str) -> httpx.Response:
    with server.admin_client() as admin:
        return admin.get(f"/admin/users/{username}")


def gateway_status(server: MaestroServer, token: str) -> int:
    """What the gateway answers a user token: 200 when it works, 401 when it does not."""
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        return client.get("/v1/models", headers={"Authorization": f"Bearer {token}"}).status_code


def create_api_user(server: MaestroServer, **fields: Any) -> dict[str, Any]:
    with server.admin_client() as admin:
        created = admin.post("/admin/users", json=fields)
        assert created.status_code == 201, created.text
        return created.json()  # type: ignore[no-any-return]


@pytest.fixture
def catalog_model(maestro_server: MaestroServer) -> Iterator[str]:
    """A display name in the model catalog (a global mapping), for the allowlist."""
    name = unique("e2e-chat")
    with maestro_server.admin_client() as admin:
        created = admin.post("/admin/model-mappings", json={"display_name": name, "real_name": "llama3.2:3b"})
        assert created.status_code == 201, created.text
        yield name
        admin.delete(f"/admin/model-mappings/{created.json()['id']}")


def row_menu(page: Page, username: str, item: str) -> None:
    """Open a row's action menu and pick `item`.

    Radix toggles the menu on pointer-down, so a click that lands while the previous menu is
    still closing (its exit animation runs after the state update re-renders the row) closes
    it again. Wait until no menu is open, then open it, once more if the first open was lost.
    """
    trigger = by_id(page, f"user-{username}").locator(".user-menu")
    entry = page.get_by_role("menuitem", name=item)
    for attempt in range(2):
        expect(page.get_by_role("menu")).to_have_count(0)
        trigger.click()
        try:
            expect(entry).to_be_visible(timeout=5_000)
            break
        except AssertionError:
            if attempt:
                raise
            page.keyboard.press("Escape")
    entry.click()


def shown_token(page: Page) -> str:
    box = page.locator("#new-token")
    expect(box).to_have_text(TOKEN_TEXT)
    return box.inner_text().strip()


def test_create_user_with_allowlist_and_limits_then_copy_the_token(
    maestro_server: MaestroServer, browser_page: Page, catalog_model: str
) -> None:
    page = browser_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=maestro_server.base_url)
    username = unique("e2e-alice")
    open_page(page, maestro_server, "/users", "Users")

    page.locator("#new-user").click()
    page.locator("#new-username").fill(username)
    page.locator("#user-description").fill("Research team")
    page.get_by_placeholder("Filter, or type a model name to add").fill(catalog_model)
    page.locator(".model-choice").filter(has_text=catalog_model).get_by_role("checkbox").click()
    expect(page.locator("#user-editor")).to_contain_text("1 selected")
    page.locator("#request-limit").fill("100")
    page.locator("#token-limit").fill("50000")
    page.get_by_role("switch", name="Can manage models").click()
    page.locator("#save-user").click()

    token = shown_token(page)
    page.locator("#copy-token").click()
    expect(toast(page, "Token copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == token
    page.locator("#token-done").click()
    expect(page.locator("#token-dialog")).to_be_hidden()

    row = by_id(page, f"user-{username}")
    expect(row).to_contain_text(catalog_model)
    expect(row).to_contain_text("100 requests")
    expect(row).to_contain_text("50,000 tokens")
    expect(row.locator(".user-status")).to_have_text("active")
    save_screenshot(page, "users")

    user = api_user(maestro_server, username).json()
    assert user["allowed_models"] == [catalog_model]
    assert user["all_models"] is False
    assert (user["request_limit"], user["token_limit"]) == (100, 50000)
    assert user["can_manage_models"] is True
    assert user["description"] == "Research team"
    assert gateway_status(maestro_server, token) == 200

    # The token is shown once: reopening the page does not show it again.
    page.reload()
    expect(by_id(page, f"user-{username}")).to_be_visible()
    expect(page.locator("#new-token")).to_have_count(0)


def test_rotate_deactivate_edit_and_delete(maestro_server: MaestroServer, browser_page: Page) -> None:
    page = browser_page
    username = unique("e2e-bob")
    old_token = create_api_user(maestro_server, username=username, request_limit=10)["token"]
    assert gateway_status(maestro_server, old_token) == 200
    open_page(page, maestro_server, "/users", "Users")

    # Rotate: confirmed first; the new token works, the old one no longer does.
    row_menu(page, username, "Rotate token")
    page.locator("#confirm-rotate-ok").click()
    new_token = shown_token(page)
    assert new_token != old_token
    assert gateway_status(maestro_server, new_token) == 200
    assert gateway_status(maestro_server, old_token) == 401
    page.locator("#token-done").click()

    # Deactivate, then activate again.
    row_menu(page, username, "Deactivate")
    expect(by_id(page, f"user-{username}").locator(".user-status")).to_have_text("inactive")
    assert api_user(maestro_server, username).json()["is_active"] is False
    assert gateway_status(maestro_server, new_token) in (401, 403)
    row_menu(page, username, "Activate")
    expect(by_id(page, f"user-{username}").locator(".user-status")).to_have_text("active")
    assert api_user(maestro_server, username).json()["is_active"] is True

    # Edit: all models, no request limit, a typed model name kept in the allowlist too.
    typed = unique("e2e-typed") + ":8b"  # in no catalog
    by_id(page, f"user-{username}").locator(".edit-user").click()
    expect(page.locator("#request-limit")).to_have_value("10")
    page.get_by_placeholder("Filter, or type a model name to add").fill(typed)
    page.locator("#add-model").click()
    expect(page.locator(".model-choice").filter(has_text=typed).get_by_role("checkbox")).to_be_checked()
    page.get_by_role("switch", name="All models").click()
    page.locator("#request-limit").fill("")
    page.locator("#save-user").click()
    expect(toast(page, f"User {username} saved")).to_be_visible()
    row = by_id(page, f"user-{username}")
    expect(row).to_contain_text("all models")
    expect(row).to_contain_text("unlimited requests")
    user = api_user(maestro_server, username).json()
    assert user["all_models"] is True
    assert user["allowed_models"] == [typed]
    assert user["request_limit"] is None

    # Delete: the confirmation can be cancelled; confirmed, the user is gone.
    row_menu(page, username, "Delete")
    page.locator("#confirm-delete").get_by_role("button", name="Cancel").click()
    expect(page.locator("#confirm-delete")).to_be_hidden()
    assert api_user(maestro_server, username).status_code == 200
    row_menu(page, username, "Delete")
    page.locator("#confirm-delete-ok").click()
    expect(by_id(page, f"user-{username}")).to_have_count(0)
    assert api_user(maestro_server, username).status_code == 404


def test_search_filters_the_list(maestro_server: MaestroServer, browser_page: Page) -> None:
    page = browser_page
    tag = unique("e2e-find")
    wanted, other = f"{tag}-carol", unique("e2e-dave")
    for name in (wanted, other):
        create_api_user(maestro_server, username=name)
    open_page(page, maestro_server, "/users", "Users")
    expect(by_id(page, f"user-{other}")).to_be_visible()

    page.locator("#user-search").fill(tag)
    expect(by_id(page, f"user-{other}")).to_have_count(0)
    expect(by_id(page, f"user-{wanted}")).to_be_visible()
    expect(page.locator(".user-row")).to_have_count(1)
    page.locator("#user-search").fill(tag + "-nobody")
    expect(page.get_by_text("No user matches this search.")).to_be_visible()


def test_bad_input_shows_the_reason_and_creates_nothing(
    maestro_server: MaestroServer, browser_page: Page
) -> None:
    page = browser_page
    open_page(page, maestro_server, "/users", "Users")

    page.locator("#new-user").click()
    page.locator("#new-username").fill("not a valid name!")
    page.locator("#save-user").click()
    expect(toast(page, "username")).to_be_visible()
    expect(page.locator("#user-editor")).to_be_visible()  # still open, input kept
    expect(page.locator("#new-username")).to_have_value("not a valid name!")

    good = unique("e2e-erin")
    page.locator("#new-username").fill(good)
    page.locator("#request-limit").fill("lots")
    page.locator("#save-user").click()
    expect(toast(page, "Requests per day: 'lots' is not a whole number")).to_be_visible()
    assert api_user(maestro_server, good).status_code == 404

    create_api_user(maestro_server, username=good + "-taken")
    page.locator("#new-username").fill(good + "-taken")
    page.locator("#request-limit").fill("")
    page.locator("#save-user").click()
    expect(toast(page, "already exists")).to_be_visible()
