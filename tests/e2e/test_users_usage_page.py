"""The Users page's usage tab in Chromium: a user's requests and tokens as charts and per
model, checked against /admin/dashboard/charts?user= and /admin/users/{name}/usage."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import PAGE_TIMEOUT_MS, MaestroServer
from tests.e2e.helpers import by_id, open_page, save_screenshot, unique
from tests.e2e.traffic import add_node, assert_fits_narrow, chat, create_user, wait_for_activity
from tests.fakes.upstream import FakeModel, FakeUpstream

pytestmark = pytest.mark.e2e


@pytest.fixture
def models() -> list[str]:
    return [unique("e2e-usage-a"), unique("e2e-usage-b")]


@pytest.fixture
def upstream(models: list[str]) -> Iterator[FakeUpstream]:
    with FakeUpstream([FakeModel(m, context_length=8192) for m in models]) as fake:
        yield fake


def user_chart(server: MaestroServer, kind: str, username: str, period: str) -> dict[str, Any]:
    with server.admin_client() as admin:
        resp = admin.get(f"/admin/dashboard/charts/{kind}", params={"user": username, "period": period})
        assert resp.status_code == 200, resp.text
        return resp.json()  # type: ignore[no-any-return]


def test_usage_tab_charts_one_user(
    maestro_server: MaestroServer, browser_page: Page, upstream: FakeUpstream, models: list[str]
) -> None:
    page = browser_page
    add_node(maestro_server, unique("e2e-usage-node"), upstream)
    username = unique("e2e-usage-user")
    token = create_user(maestro_server, username)
    sent = [chat(maestro_server, token, models[0]) for _ in range(3)]
    sent.append(chat(maestro_server, token, models[1]))
    wait_for_activity(maestro_server, sent, user=username)

    open_page(page, maestro_server, "/users", "Users")
    row = by_id(page, f"user-{username}")
    row.locator(".user-menu").click()
    page.get_by_role("menuitem", name="Usage").click()

    expect(page.get_by_role("tab", name="Usage")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#usage-user")).to_contain_text(username)
    requests = user_chart(maestro_server, "requests", username, "7d")
    tokens = user_chart(maestro_server, "tokens", username, "7d")
    assert requests["series"][0]["total"] == 4
    expect(page.locator("#usage-requests")).to_contain_text("4")
    expect(page.locator("#usage-tokens")).to_contain_text(str(tokens["series"][0]["total"]))
    expect(page.locator("#usage-requests-chart .recharts-wrapper")).to_be_visible()
    expect(page.locator("#usage-requests-chart .recharts-area")).to_have_count(2)
    expect(page.locator("#usage-tokens-chart .recharts-area")).to_have_count(1)

    with maestro_server.admin_client() as admin:
        report = admin.get(f"/admin/users/{username}/usage").json()
    shown = page.locator("#usage-models .usage-model-row")
    expect(shown).to_have_count(len(report["models"]))
    for i, entry in enumerate(report["models"]):
        expect(shown.nth(i)).to_contain_text(entry["model"])
        expect(shown.nth(i)).to_contain_text(f"{entry['total_tokens']:,}")
    assert [m["model"] for m in report["models"]] == [models[0], models[1]]

    page.get_by_role("radio", name="24h").click()
    expect(page.get_by_text(f"{username}, per hour or day (UTC), last 24 hours").first).to_be_visible()
    expect(page.locator("#usage-requests")).to_contain_text("4")

    # The tab by URL, for a user named in it.
    page.goto(f"{maestro_server.base_url}/users?tab=usage&user={username}")
    expect(page.locator("#usage-requests-chart .recharts-wrapper")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    expect(page.locator("#usage-user")).to_contain_text(username)

    page.set_viewport_size({"width": 1280, "height": 800})
    save_screenshot(page, "users-usage")
    assert_fits_narrow(page)
