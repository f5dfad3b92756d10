"""The dashboard in Chromium against `reflex run --env prod`: login (to the Dashboard), the
status page, logout."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import MaestroServer
from tests.e2e.helpers import LOGIN_URL, login, save_screenshot
from tests.fakes.upstream import FakeModel, FakeUpstream

pytestmark = pytest.mark.e2e

HEALTH_COLORS = {"healthy": "grass", "unhealthy": "tomato", "unknown": "gray"}


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream(
        [FakeModel("llama3.2:3b", context_length=131072), FakeModel("nomic-embed-text", context_length=8192)]
    ) as fake:
        yield fake


def add_node(server: MaestroServer, *, name: str, base_url: str, discover: bool = True) -> dict[str, Any]:
    """Register a node the way an operator does: admin API, health check, discovery."""
    with server.admin_client() as admin:
        created = admin.post(
            "/admin/nodes", json={"name": name, "base_url": base_url, "node_type": "ollama", "code": name}
        )
        assert created.status_code == 201, created.text
        node_id = created.json()["id"]
        assert admin.post(f"/admin/nodes/{node_id}/health-check").status_code == 200
        if discover:
            assert admin.post(f"/admin/nodes/{node_id}/discover").status_code == 200
        node = admin.get(f"/admin/nodes/{node_id}")
        assert node.status_code == 200, node.text
        return node.json()  # type: ignore[no-any-return]


def test_without_a_session_the_dashboard_redirects_to_login(
    maestro_server: MaestroServer, browser_page: Page
) -> None:
    browser_page.goto(maestro_server.base_url + "/")
    expect(browser_page).to_have_url(LOGIN_URL)
    expect(browser_page.get_by_role("button", name="Sign in")).to_be_visible()
    save_screenshot(browser_page, "login")


def test_wrong_password_shows_an_error_and_stays_on_login(
    maestro_server: MaestroServer, browser_page: Page
) -> None:
    login(browser_page, maestro_server, password="not-the-password")
    expect(browser_page.locator("#login-error")).to_have_text("Wrong username or password.")
    expect(browser_page).to_have_url(LOGIN_URL)


def test_repeated_failures_lock_the_username(maestro_server: MaestroServer, browser_page: Page) -> None:
    browser_page.goto(f"{maestro_server.base_url}/login")
    browser_page.locator("#username").fill("intruder")
    browser_page.locator("#password").fill("guess")
    sign_in = browser_page.get_by_role("button", name="Sign in")
    # Events of one browser tab run one after another, and the button is disabled while
    # an attempt runs, so each click below is exactly one attempt.
    for _ in range(6):
        expect(sign_in).to_be_enabled()
        sign_in.click()
    expect(browser_page.locator("#login-error")).to_have_text(
        re.compile(r"Too many failed sign-ins\. Try again in \d+ s\.")
    )


def test_status_page_lists_nodes_with_health_and_models_then_logout(
    maestro_server: MaestroServer, browser_page: Page, upstream: FakeUpstream
) -> None:
    # Unique names: MAESTRO_E2E_DATABASE_URL may point at a database that outlives the run.
    suffix = secrets.token_hex(3)
    healthy = add_node(maestro_server, name=f"e2e-gpu-{suffix}", base_url=upstream.url)
    down = add_node(maestro_server, name=f"e2e-down-{suffix}", base_url="http://127.0.0.1:9", discover=False)
    assert healthy["health_status"] == "healthy"
    assert down["health_status"] in ("unknown", "unhealthy")  # one failed check may not judge

    login(browser_page, maestro_server)
    expect(browser_page).to_have_url(maestro_server.base_url + "/")
    expect(browser_page.get_by_role("heading", name="Dashboard")).to_be_visible()
    browser_page.goto(maestro_server.base_url + "/status")
    expect(browser_page.get_by_role("heading", name="Status")).to_be_visible()

    for node in (healthy, down):
        row = browser_page.locator(f"#node-{node['name']}")
        badge = row.locator(".health-badge")
        expect(badge).to_have_text(node["health_status"])
        expect(badge).to_have_attribute("data-accent-color", HEALTH_COLORS[node["health_status"]])
        expect(row).to_contain_text(node["base_url"])
        expect(row).to_contain_text("ollama")
    gpu_row = browser_page.locator(f"#node-{healthy['name']}")
    expect(gpu_row).to_contain_text("llama3.2:3b")
    expect(gpu_row).to_contain_text("128K ctx")
    expect(gpu_row).to_contain_text("nomic-embed-text")
    expect(browser_page.locator(f"#node-{down['name']}")).to_contain_text("none available")
    save_screenshot(browser_page, "status")

    expect(browser_page.locator("#gateway-url")).to_have_text(maestro_server.base_url)
    browser_page.get_by_role("tab", name="curl").click()
    expect(browser_page.get_by_role("tabpanel")).to_contain_text(
        f"{maestro_server.base_url}/v1/chat/completions"
    )

    browser_page.reload()  # the session is kept on the server for this tab
    expect(browser_page.get_by_role("heading", name="Status")).to_be_visible()
    expect(browser_page).to_have_url(re.compile(re.escape(maestro_server.base_url) + r"/status/?$"))

    browser_page.locator("#account-menu").click()
    browser_page.locator("#sign-out").click()
    expect(browser_page).to_have_url(LOGIN_URL)
    browser_page.goto(maestro_server.base_url + "/")
    expect(browser_page).to_have_url(LOGIN_URL)
