"""What the browser tests share: signing in, unique names, reading toasts."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import MaestroServer

LOGIN_URL = re.compile(r"/login/?(\?.*)?$")


def login(page: Page, server: MaestroServer, password: str | None = None) -> None:
    page.goto(f"{server.base_url}/login")
    page.locator("#username").fill(server.admin_username)
    page.locator("#password").fill(password or server.admin_password)
    page.get_by_role("button", name="Sign in").click()


def open_page(page: Page, server: MaestroServer, path: str, heading: str) -> None:
    """Sign in, then open `path` and wait for its heading."""
    login(page, server)
    expect(page).to_have_url(server.base_url + "/")
    page.goto(server.base_url + path)
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()


def unique(prefix: str) -> str:
    """A name no earlier run used: MAESTRO_E2E_DATABASE_URL may outlive a run."""
    return f"{prefix}-{secrets.token_hex(3)}"


def by_id(page: Page, element_id: str) -> Locator:
    """`#id` for ids with characters CSS would need escaped (user names hold `.` and `@`)."""
    return page.locator(f'[id="{element_id}"]')


def toast(page: Page, text: str | re.Pattern[str]) -> Locator:
    return page.locator("[data-sonner-toast]").filter(has_text=text)


SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def save_screenshot(page: Page, name: str) -> Path:
    """`docs/screenshots/<name>.png`: the whole page as the test left it (for the README)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.evaluate("window.scrollTo(0, 0)")  # the sticky sidebar is drawn where the page is scrolled
    page.screenshot(path=str(path), full_page=True)
    return path
