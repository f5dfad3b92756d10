"""Dashboard (home page) in Chromium: node health (live, without a reload), totals, charts,
top models and users, recent errors; the numbers checked against /admin/dashboard/stats
after real requests through the gateway."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import MaestroServer
from tests.e2e.helpers import by_id, open_page, save_screenshot, unique
from tests.e2e.traffic import add_node, assert_fits_narrow, chat, create_user, wait_for_activity
from tests.fakes.upstream import FakeModel, FakeUpstream

pytestmark = pytest.mark.e2e

LIVE_TIMEOUT_MS = 30_000  # the ticker's 10 s plus a busy machine


@pytest.fixture
def model() -> str:
    return unique("e2e-dash-model")


@pytest.fixture
def upstream(model: str) -> Iterator[FakeUpstream]:
    with FakeUpstream([FakeModel(model, context_length=8192)]) as fake:
        yield fake


def stats(server: MaestroServer, period: str) -> dict[str, Any]:
    with server.admin_client() as admin:
        resp = admin.get("/admin/dashboard/stats", params={"period": period, "top": 5})
        assert resp.status_code == 200, resp.text
        return resp.json()  # type: ignore[no-any-return]


def test_dashboard_shows_health_traffic_rankings_and_errors(
    maestro_server: MaestroServer, browser_page: Page, upstream: FakeUpstream, model: str
) -> None:
    page = browser_page
    node = add_node(maestro_server, unique("e2e-dash-node"), upstream)
    username = unique("e2e-dash-user")
    token = create_user(maestro_server, username)
    # More requests than any other test makes for one model, so it ranks in the top five.
    sent = [chat(maestro_server, token, model) for _ in range(8)]
    upstream.fail_next("status", status=400, paths=["/api/chat"])
    failed = chat(maestro_server, token, model, expect=400)
    wait_for_activity(maestro_server, [*sent, failed], user=username)
    expected = stats(maestro_server, "24h")

    open_page(page, maestro_server, "/", "Dashboard")

    tile = by_id(page, f"health-{node['name']}")
    expect(tile.locator(".health-badge")).to_have_text("healthy")
    expect(tile).to_contain_text("1 model")

    expect(page.locator("#requests-chart .recharts-wrapper")).to_be_visible()
    expect(page.locator("#tokens-chart .recharts-wrapper")).to_be_visible()
    expect(page.locator("#requests-chart .recharts-area")).to_have_count(2)  # requests, errors
    expect(page.locator("#stat-requests")).to_contain_text(str(expected["last_period"]["requests"]))
    expect(page.locator("#stat-error-rate")).to_contain_text(f"{expected['last_period']['errors']} failed")

    ranked = [r["model"] for r in expected["top_models"]]
    assert model in ranked
    rows = page.locator("#top-models .rank-row")
    expect(rows).to_have_count(len(ranked))
    for rank in expected["top_models"]:
        row = page.locator(f'#top-models .rank-row[data-name="{rank["model"]}"]')
        expect(row.locator(".rank-requests")).to_have_text(f"{rank['requests']} req")
    mine = page.locator(f'#top-models .rank-row[data-name="{model}"]')
    expect(mine.locator(".rank-requests")).to_have_text("9 req")
    expect(mine.get_by_role("link", name=model)).to_have_attribute(
        "href", re.compile(rf"/logs\?model={model}$")
    )
    expect(page.locator(f'#top-users .rank-row[data-name="{username}"] .rank-requests')).to_have_text("9 req")

    error = page.locator("#recent-errors .error-row").filter(has_text=username).first
    expect(error).to_contain_text("400")
    expect(error).to_contain_text(model)

    # The period switch: the 7-day numbers (today included, so at least the 24-hour ones).
    page.get_by_role("radio", name="7d").click()
    expect(page.get_by_text("By requests, last 7 days").first).to_be_visible()
    expect(page.locator("#stat-requests")).to_contain_text(
        str(stats(maestro_server, "7d")["last_period"]["requests"])
    )

    # Live node health: a node added now shows up without a reload.
    with FakeUpstream([FakeModel("e2e-live-model")]) as other:
        late = add_node(maestro_server, unique("e2e-dash-late"), other)
        expect(by_id(page, f"health-{late['name']}").locator(".health-badge")).to_have_text(
            "healthy", timeout=LIVE_TIMEOUT_MS
        )

    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_role("radio", name="24h").click()
    expect(page.get_by_text("By requests, last 24 hours").first).to_be_visible()
    save_screenshot(page, "dashboard")
    assert_fits_narrow(page)
    expect(page.locator("#requests-chart .recharts-wrapper")).to_be_visible()
