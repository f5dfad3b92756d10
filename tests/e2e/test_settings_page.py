"""Settings page in Chromium: change settings and read them back through GET /admin/settings;
bad values are refused with a toast that names the field, and nothing changes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import MaestroServer
from tests.e2e.helpers import open_page, save_screenshot, toast, unique
from tests.e2e.traffic import assert_fits_narrow, create_user

pytestmark = pytest.mark.e2e


def api_settings(server: MaestroServer) -> dict[str, Any]:
    with server.admin_client() as admin:
        resp = admin.get("/admin/settings")
        assert resp.status_code == 200, resp.text
        return resp.json()  # type: ignore[no-any-return]


@pytest.fixture
def original(maestro_server: MaestroServer) -> Iterator[dict[str, Any]]:
    """The settings before the test, put back after it (other tests share the server)."""
    before = api_settings(maestro_server)
    yield before
    with maestro_server.admin_client() as admin:
        assert admin.put("/admin/settings", json=before).status_code == 200


def settings_audits(server: MaestroServer) -> list[dict[str, Any]]:
    with server.admin_client() as admin:
        page = admin.get("/admin/audit-logs", params={"entity_type": "settings", "limit": 1000}).json()
        return page["items"]  # type: ignore[no-any-return]


def gateway_status(server: MaestroServer, token: str, prompt: str) -> int:
    """The status of a chat request with `prompt`."""
    body = {"model": "any-model", "messages": [{"role": "user", "content": prompt}]}
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.post(
        f"{server.base_url}/v1/chat/completions", json=body, headers=headers, timeout=30
    ).status_code


def field(page: Page, key: str) -> Any:
    return page.locator("#setting-" + key.replace("_", "-"))


def test_change_settings_and_refuse_bad_values(
    maestro_server: MaestroServer, browser_page: Page, original: dict[str, Any]
) -> None:
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 800})
    open_page(page, maestro_server, "/settings", "Settings")
    expect(field(page, "log_retention_days")).to_have_value(str(original["log_retention_days"]))
    expect(field(page, "grafana_model")).to_be_visible()
    save_screenshot(page, "settings")

    strategy = "least_busy" if original["routing_strategy"] != "least_busy" else "round_robin"
    field(page, "routing_strategy").click()
    page.get_by_role("option", name=strategy.replace("_", " "), exact=True).click()
    field(page, "log_retention_days").fill("45")
    field(page, "discovery_interval_s").fill("0")  # off
    field(page, "max_body_bytes").fill("1K")
    field(page, "default_context_length").fill("16K")
    field(page, "health_check_interval_s").fill("12.5")
    page.locator("#save-settings").click()
    expect(toast(page, "Saved:")).to_contain_text("Keep activity (days)")

    saved = api_settings(maestro_server)
    assert saved == {
        **original,
        "routing_strategy": strategy,
        "log_retention_days": 45,
        "discovery_interval_s": 0,
        "max_body_bytes": 1024,
        "default_context_length": 16384,
        "health_check_interval_s": 12.5,
    }
    audit = settings_audits(maestro_server)[0]
    assert audit["details"]["changes"]["log_retention_days"] == {
        "old": original["log_retention_days"],
        "new": 45,
    }
    expect(field(page, "max_body_bytes")).to_have_value("1K")  # read back in the short form
    # In effect without a restart: the gateway refuses a body over the new limit (other
    # workers than the one that saved follow within their one-second config poll).
    token = create_user(maestro_server, unique("e2e-settings-user"))
    deadline = time.monotonic() + 5
    while gateway_status(maestro_server, token, "x" * 2048) != 413:
        assert time.monotonic() < deadline, "the new body size limit is not applied"
        time.sleep(0.2)
    assert gateway_status(maestro_server, token, "hi") != 413
    audits_before = len(settings_audits(maestro_server))

    # The health check cannot be turned off: refused, with the field's name and the reason.
    field(page, "health_check_interval_s").fill("0")
    field(page, "log_retention_days").fill("30")
    page.locator("#save-settings").click()
    expect(
        toast(page, "Health check interval (s): Input should be greater than or equal to 0.1")
    ).to_be_visible()
    assert api_settings(maestro_server) == saved

    field(page, "health_check_interval_s").fill("12.5")
    field(page, "log_retention_days").fill("a week")
    page.locator("#save-settings").click()
    expect(toast(page, "Keep activity (days): 'a week' is not a whole number")).to_be_visible()
    assert api_settings(maestro_server) == saved
    assert len(settings_audits(maestro_server)) == audits_before

    # Revert shows the stored values again.
    page.locator("#revert-settings").click()
    expect(field(page, "log_retention_days")).to_have_value("45")
    expect(field(page, "health_check_interval_s")).to_have_value("12.5")
    assert_fits_narrow(page)
