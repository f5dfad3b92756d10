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
NARROW = {"width": 390, "height": 844}


def save_screenshot(page: Page, name: str) -> Path:
    """docs/screenshots/<name>.png: the whole page as the test left it, 1280 wide (the README
    shows them), once the toasts have gone."""
    page.set_viewport_size({"width": 1280, "height": 800})
    page.mouse.move(0, 0)  # a toast under the pointer stays until the pointer leaves
    expect(page.locator("[data-sonner-toast]")).to_have_count(0, timeout=20_000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.evaluate("window.scrollTo(0, 0)")  # the sticky sidebar is drawn where the page is scrolled
    page.screenshot(path=str(path), full_page=True)
    return path


def fits_narrow_window(page: Page, *visible: Locator) -> None:
    """On a phone-sized window the page does not scroll sideways (wide tables scroll inside
    their own box) and `visible` are still on screen; the window is set back afterwards."""
    size = page.viewport_size
    page.set_viewport_size(NARROW)
    try:
        for locator in visible:
            expect(locator).to_be_visible()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"the page scrolls sideways by {overflow}px at {NARROW['width']}px"
    finally:
        if size is not None:
            page.set_viewport_size(size)
