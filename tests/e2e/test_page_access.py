"""Every dashboard page opened without a session lands on the login page, and comes back
to the page after signing in."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import PAGE_TIMEOUT_MS, MaestroServer
from tests.e2e.helpers import LOGIN_URL

pytestmark = pytest.mark.e2e

PAGES = {
    "/nodes": "Nodes",
    "/models": "Models",
    "/mappings": "Mappings",
    "/users": "Users",
    "/groups": "Groups",
    "/model-config": "Model config",
    "/tool-sets": "Tool sets",
    "/system-prompts": "System prompts",
    "/status": "Status",
    "/logs": "Request logs",
    "/audit": "Audit log",
    "/settings": "Settings",
}


@pytest.mark.parametrize("path", sorted(PAGES))
def test_page_without_a_session_goes_to_login_and_back(
    maestro_server: MaestroServer, browser_page: Page, path: str
) -> None:
    page = browser_page
    page.goto(maestro_server.base_url + path)
    # The redirect comes from the server once the page's websocket is up: on a loaded
    # machine that has taken more than expect()'s default 5 s.
    expect(page).to_have_url(LOGIN_URL, timeout=PAGE_TIMEOUT_MS)
    # A direct GET of a page answers 307 to its path with a slash; both are the page.
    expect(page).to_have_url(re.compile(rf"/login\?next={path}/?$"))
    page.locator("#username").fill(maestro_server.admin_username)
    page.locator("#password").fill(maestro_server.admin_password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(maestro_server.base_url + path)}/?$"))
    expect(page.get_by_role("heading", name=PAGES[path], exact=True)).to_be_visible()
    # The sidebar links every page and marks this one.
    for other, title in PAGES.items():
        expect(page.locator(f'a.nav-link[href="{other}"]')).to_have_text(title)
    expect(page.locator(f'a.nav-link[href="{path}"]')).to_have_attribute("aria-current", "page")
    expect(page.locator("a.nav-link[aria-current=page]")).to_have_count(1)
