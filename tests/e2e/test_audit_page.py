"""Audit log in Chromium: filters (action, entity, actor) checked against /admin/audit-logs,
pagination, and one record's details."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import MaestroServer
from tests.e2e.helpers import by_id, open_page, save_screenshot, unique
from tests.e2e.traffic import assert_fits_narrow

pytestmark = pytest.mark.e2e

ADMIN_TOKEN_ACTOR = "admin-token"
PAGE_SIZE = 25  # rows per page of the audit log


def audit_page(server: MaestroServer, **params: Any) -> dict[str, Any]:
    with server.admin_client() as admin:
        resp = admin.get("/admin/audit-logs", params={"limit": PAGE_SIZE, **params})
        assert resp.status_code == 200, resp.text
        return resp.json()  # type: ignore[no-any-return]


def shown_ids(page: Page) -> list[int]:
    ids = page.locator(".audit-row").evaluate_all("rows => rows.map(r => r.id)")
    return [int(i.removeprefix("audit-")) for i in ids]


def expect_rows(page: Page, expected: list[int]) -> None:
    expect(page.locator(".audit-row")).to_have_count(len(expected))
    assert shown_ids(page) == expected


def choose(page: Page, select_id: str, option: str) -> None:
    page.locator(f"#{select_id}").click()
    page.get_by_role("option", name=option, exact=True).click()


def test_filter_page_and_open_audit_records(maestro_server: MaestroServer, browser_page: Page) -> None:
    page = browser_page
    names = [unique("e2e-audit") for _ in range(3)]
    with maestro_server.admin_client() as admin:
        for name in names:
            assert admin.post("/admin/users", json={"username": name}).status_code == 201
        assert admin.patch(f"/admin/users/{names[0]}", json={"description": "audited"}).status_code == 200
        # Enough records for a second page.
        for n in range(PAGE_SIZE):
            assert admin.patch(f"/admin/users/{names[1]}", json={"request_limit": n + 1}).status_code == 200
    open_page(page, maestro_server, "/audit", "Audit log")
    expect(page.locator("#audit-total")).to_have_text(f"{audit_page(maestro_server)['total']} changes")

    # Action (exact) + entity + actor.
    page.locator("#audit-action").fill("user.update")
    choose(page, "audit-entity-type", "user")
    choose(page, "audit-actor", ADMIN_TOKEN_ACTOR)
    page.locator("#apply-audit-filters").click()
    params = {"action": "user.update", "entity_type": "user", "actor": ADMIN_TOKEN_ACTOR}
    first = audit_page(maestro_server, **params)
    assert first["total"] > PAGE_SIZE
    expect(page.locator("#audit-total")).to_have_text(f"{first['total']} changes")
    expect_rows(page, [i["id"] for i in first["items"]])
    page.get_by_role("button", name="Next page").click()
    expect_rows(page, [i["id"] for i in audit_page(maestro_server, **params, offset=PAGE_SIZE)["items"]])

    # An action prefix: every user.* record.
    page.locator("#audit-action").fill("user")
    page.locator("#apply-audit-filters").click()
    prefixed = audit_page(maestro_server, action="user", entity_type="user", actor=ADMIN_TOKEN_ACTOR)
    expect(page.locator("#audit-total")).to_have_text(f"{prefixed['total']} changes")
    expect_rows(page, [i["id"] for i in prefixed["items"]])

    # A filter nothing matches: the empty state.
    page.locator("#audit-action").fill("no-such-action")
    page.locator("#apply-audit-filters").click()
    expect(page.get_by_text("No change matches these filters.")).to_be_visible()

    # Details of one record: the fields it changed.
    page.locator("#audit-action").fill("user.update")
    page.locator("#apply-audit-filters").click()
    described = next(
        i
        for i in audit_page(maestro_server, action="user.update", limit=1000)["items"]
        if i["entity_id"] == names[0]
    )
    row = by_id(page, f"audit-{described['id']}")
    for _ in range(10):  # older than the PAGE_SIZE updates after it: on a later page
        if row.is_visible():
            break
        page.get_by_role("button", name="Next page").click()
        page.wait_for_timeout(500)
    expect(row).to_contain_text("description")
    row.click()
    detail = page.locator("#audit-detail")
    expect(detail).to_contain_text("user.update")
    expect(detail).to_contain_text('"new": "audited"')
    page.locator("#close-audit-detail").click()
    expect(detail).to_be_hidden()

    page.locator("#clear-audit-filters").click()
    expect(page.locator("#audit-action")).to_have_value("")
    expect(page.locator("#audit-total")).to_have_text(f"{audit_page(maestro_server)['total']} changes")
    page.set_viewport_size({"width": 1280, "height": 800})
    save_screenshot(page, "audit-log")
    assert_fits_narrow(page)
