"""System prompts page in Chromium: create a prompt for a user and see the gateway put it
into that user's next request, edit it, switch it off from the table, filter the list,
refuse bad input, delete; checked through the admin API and the fake upstream."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import MaestroServer
from tests.e2e.helpers import fits_narrow_window, open_page, save_screenshot, toast, unique
from tests.fakes.upstream import FakeUpstream

pytestmark = pytest.mark.e2e


def api_prompts(server: MaestroServer, **filters: str) -> list[dict[str, Any]]:
    with server.admin_client() as admin:
        return admin.get("/admin/system-prompts", params=filters).json()["items"]  # type: ignore[no-any-return]


def pick(page: Page, combobox: str, option: str) -> None:
    page.get_by_role("combobox", name=combobox, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()


def system_text_sent(server: MaestroServer, fake: FakeUpstream, token: str, model: str) -> str | None:
    """Chat as the user; the system message the node received (None without one)."""
    fake.reset_stats()
    with httpx.Client(
        base_url=server.base_url, timeout=30, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        answer = client.post(
            "/v1/chat/completions", json={"model": model, "messages": [{"role": "user", "content": "hi"}]}
        )
        assert answer.status_code == 200, answer.text
    chats = [r for r in fake.requests if r.path in ("/api/chat", "/v1/chat/completions")]
    assert len(chats) == 1
    first = chats[0].json["messages"][0]
    return str(first["content"]) if first["role"] == "system" else None


def test_prompt_reaches_the_users_requests_and_is_edited_and_deleted(
    maestro_server: MaestroServer, browser_page: Page
) -> None:
    page = browser_page
    username, model = unique("e2e-prompted"), unique("e2e-prompt-model") + ":1b"
    text = "You answer in haiku.\nNever more than three lines."
    with FakeUpstream([model]) as fake:
        with maestro_server.admin_client() as admin:
            node = admin.post(
                "/admin/nodes",
                json={"name": unique("e2e-prompt-node"), "base_url": fake.url, "node_type": "ollama"},
            )
            assert node.status_code == 201, node.text
            assert admin.post(f"/admin/nodes/{node.json()['id']}/health-check").status_code == 200
            assert admin.post(f"/admin/nodes/{node.json()['id']}/discover").status_code == 200
            user = admin.post("/admin/users", json={"username": username, "all_models": True})
            user.raise_for_status()
        token = user.json()["token"]
        assert system_text_sent(maestro_server, fake, token, model) is None
        open_page(page, maestro_server, "/system-prompts", "System prompts")

        # Create for the user; the scope value suggests existing usernames.
        page.locator("#new-prompt").click()
        pick(page, "Scope type", "user")
        expect(page.locator("#prompt-editor")).to_contain_text("A username")
        expect(page.locator(f'#scope-value-options option[value="{username}"]')).to_have_count(1)
        page.locator("#prompt-scope-value").fill(username)
        page.locator("#prompt-text").fill(text)
        page.locator("#prompt-priority").fill("5")
        page.locator("#save-prompt").click()
        expect(toast(page, f"System prompt for user {username} created")).to_be_visible()
        [created] = api_prompts(maestro_server, scope_type="user", scope_value=username)
        assert (created["prompt"], created["priority"], created["is_active"]) == (text, 5, True)
        row = page.locator(f"#prompt-{created['id']}")
        expect(row.locator(".prompt-preview")).to_have_text(
            "You answer in haiku. Never more than three lines."
        )
        assert system_text_sent(maestro_server, fake, token, model) == text  # at once, no restart

        # Edit the text; then switch it off from the table: requests go out without it.
        row.locator(".edit-prompt").click()
        expect(page.locator("#prompt-text")).to_have_value(text)
        page.locator("#prompt-text").fill("Answer in one word.")
        page.locator("#save-prompt").click()
        expect(row.locator(".prompt-preview")).to_have_text("Answer in one word.")
        assert system_text_sent(maestro_server, fake, token, model) == "Answer in one word."
        row.locator(".prompt-active-switch").click()
        expect(toast(page, "is inactive")).to_be_visible()
        assert api_prompts(maestro_server, scope_type="user", scope_value=username)[0]["is_active"] is False
        assert system_text_sent(maestro_server, fake, token, model) is None

        # Filters: scope type and exact value.
        pick(page, "Scope", "user")
        page.locator("#prompt-value-filter").fill(username)
        expect(page.locator(".prompt-row")).to_have_count(1)
        pick(page, "Scope", "node")
        expect(page.locator(".prompt-row")).to_have_count(0)
        expect(page.get_by_text("No system prompt matches these filters.")).to_be_visible()
        pick(page, "Scope", "All scopes")
        expect(page.locator(".prompt-row")).to_have_count(1)

        save_screenshot(page, "system-prompts")
        fits_narrow_window(page, page.get_by_role("heading", name="System prompts", exact=True), row)

        row.locator(".delete-prompt").click()
        expect(page.locator("#confirm-delete-prompt")).to_contain_text(f"user {username}")
        page.locator("#confirm-delete-prompt-ok").click()
        expect(row).to_have_count(0)
        assert api_prompts(maestro_server, scope_type="user", scope_value=username) == []


def test_bad_prompt_input_shows_the_reason_and_changes_nothing(
    maestro_server: MaestroServer, browser_page: Page
) -> None:
    page = browser_page
    scope = unique("e2e-strict-model")
    with maestro_server.admin_client() as admin:
        created = admin.post(
            "/admin/system-prompts", json={"scope_type": "model", "scope_value": scope, "prompt": "Be brief."}
        )
        assert created.status_code == 201, created.text
    before = created.json()
    open_page(page, maestro_server, "/system-prompts", "System prompts")
    row = page.locator(f"#prompt-{before['id']}")

    row.locator(".edit-prompt").click()
    page.locator("#prompt-priority").fill("high")
    page.locator("#save-prompt").click()
    expect(toast(page, "Priority: 'high' is not a whole number")).to_be_visible()
    page.locator("#prompt-priority").fill("1")
    page.locator("#prompt-text").fill("   ")
    page.locator("#save-prompt").click()
    expect(toast(page, re.compile(r"prompt: .*must not be blank"))).to_be_visible()
    expect(page.locator("#prompt-editor")).to_be_visible()
    page.keyboard.press("Escape")

    assert api_prompts(maestro_server, scope_type="model", scope_value=scope) == [before]
