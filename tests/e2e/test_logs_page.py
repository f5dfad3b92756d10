"""Request log in Chromium: filters (user, model, node, source, status class, date range)
checked against /admin/activity, pagination, a bad range refused with a toast, and the
detail view (from a row and from a link)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import PAGE_TIMEOUT_MS, MaestroServer
from tests.e2e.helpers import by_id, open_page, save_screenshot, toast, unique
from tests.e2e.traffic import activity, add_node, assert_fits_narrow, chat, create_user, wait_for_activity
from tests.fakes.upstream import FakeModel, FakeUpstream

pytestmark = pytest.mark.e2e
# A page opened by URL renders at once but loads its data over the websocket afterwards: on a
# busy 2-core machine that has taken more than expect()'s default 5 s.
LOAD_TIMEOUT_MS = PAGE_TIMEOUT_MS
PAGE_SIZE = 25  # rows per page of the request log


@pytest.fixture
def model() -> str:
    return unique("e2e-log-model")


@pytest.fixture
def upstream(model: str) -> Iterator[FakeUpstream]:
    with FakeUpstream([FakeModel(model, context_length=8192)]) as fake:
        yield fake


def shown_ids(page: Page) -> list[str]:
    ids = page.locator(".log-row").evaluate_all("rows => rows.map(r => r.id)")
    return [i.removeprefix("log-") for i in ids]


def choose(page: Page, select_id: str, option: str) -> None:
    page.locator(f"#{select_id}").click()
    page.get_by_role("option", name=option, exact=True).click()


def apply(page: Page) -> None:
    page.locator("#apply-filters").click()


def expect_rows(page: Page, expected: list[str]) -> None:
    expect(page.locator(".log-row")).to_have_count(len(expected))
    if expected:
        expect(by_id(page, f"log-{expected[0]}")).to_be_visible()
    assert shown_ids(page) == expected


def test_filter_page_and_open_requests(
    maestro_server: MaestroServer, browser_page: Page, upstream: FakeUpstream, model: str
) -> None:
    page = browser_page
    node = add_node(maestro_server, unique("e2e-log-node"), upstream)
    username = unique("e2e-log-user")
    token = create_user(maestro_server, username)
    sent = [chat(maestro_server, token, model) for _ in range(28)]
    upstream.fail_next("status", status=400, paths=["/api/chat"])
    failed = chat(maestro_server, token, model, expect=400)
    wait_for_activity(maestro_server, [failed, *sent[-5:]], user=username)
    open_page(page, maestro_server, "/logs", "Request logs")

    # User and status class: the one failed request, as the admin API lists it.
    page.locator("#filter-user").fill(username)
    choose(page, "filter-status", "4xx")
    apply(page)
    api = activity(maestro_server, user=username, status="4xx")
    assert [i["request_id"] for i in api["items"]] == [failed]
    expect_rows(page, [failed])
    expect(by_id(page, f"log-{failed}").locator(".status")).to_have_text("400")

    # User, model, node and source; 2xx: 28 requests on two pages of 25, newest first.
    page.locator("#filter-model").fill(model)
    page.locator("#filter-node").fill(node["name"])
    choose(page, "filter-source", "openai")  # httpx sends no client signature: the dialect
    choose(page, "filter-status", "2xx")
    apply(page)
    params = {"user": username, "model": model, "node": node["name"], "source": "openai", "status": "2xx"}
    first = activity(maestro_server, **params, limit=PAGE_SIZE)
    assert first["total"] == 28
    expect(page.locator("#log-total")).to_have_text("28 requests")
    expect_rows(page, [i["request_id"] for i in first["items"]])
    page.get_by_role("button", name="Next page").click()
    expect_rows(
        page, [i["request_id"] for i in activity(maestro_server, **params, offset=PAGE_SIZE)["items"]]
    )
    expect(page.get_by_text("26–28 of 28")).to_be_visible()

    # Date range: a range in the future holds nothing; a range that ends before it starts
    # is refused and changes nothing.
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    page.locator("#filter-start").fill(tomorrow.strftime("%Y-%m-%dT%H:%M"))
    apply(page)
    expect(page.get_by_text("No request matches these filters.")).to_be_visible()
    expect(page.locator("#log-total")).to_have_text("0 requests")
    page.locator("#filter-start").fill("")
    choose(page, "filter-status", "any")
    apply(page)
    expect(page.locator("#log-total")).to_have_text("29 requests")
    page.locator("#filter-start").fill((tomorrow + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    page.locator("#filter-end").fill(tomorrow.strftime("%Y-%m-%dT%H:%M"))
    apply(page)
    expect(toast(page, "end must be after start")).to_be_visible()
    expect(page.locator("#log-total")).to_have_text("29 requests")
    page.locator("#filter-start").fill((datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    apply(page)
    expect(page.locator("#log-total")).to_have_text("29 requests")
    expect(by_id(page, f"log-{failed}")).to_be_visible()

    # Detail of a row.
    by_id(page, f"log-{failed}").click()
    detail = page.locator("#log-detail")
    expect(detail).to_contain_text(failed)
    expect(detail).to_contain_text(username)
    expect(detail).to_contain_text(node["name"])
    expect(detail).to_contain_text("400")
    page.locator("#close-detail").click()
    expect(detail).to_be_hidden()

    # Clear: every request again.
    page.locator("#clear-filters").click()
    expect(page.locator("#filter-user")).to_have_value("")
    expect(page.locator("#log-total")).to_have_text(f"{activity(maestro_server)['total']} requests")

    # A link opens a filtered log and a request's detail.
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{maestro_server.base_url}/logs?user={username}&status=4xx&request={sent[0]}")
    expect(page.locator("#log-detail")).to_contain_text(sent[0], timeout=LOAD_TIMEOUT_MS)
    expect(by_id(page, f"log-{failed}")).to_be_visible()  # the one row, behind the dialog
    save_screenshot(page, "request-log-detail")
    page.locator("#close-detail").click()
    expect(page.locator("#filter-user")).to_have_value(username)
    expect_rows(page, [failed])
    page.goto(f"{maestro_server.base_url}/logs?request=no-such-request")
    expect(toast(page, "No request 'no-such-request'")).to_be_visible(timeout=LOAD_TIMEOUT_MS)

    page.goto(f"{maestro_server.base_url}/logs?user={username}")
    expect(page.locator("#log-total")).to_have_text("29 requests", timeout=LOAD_TIMEOUT_MS)
    page.set_viewport_size({"width": 1280, "height": 800})
    save_screenshot(page, "request-logs")
    assert_fits_narrow(page)
