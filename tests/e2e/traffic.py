"""Gateway traffic for the browser tests of the activity pages (dashboard, request log, usage):
a node at a fake upstream, a user, and real requests through the e2e server, so the ledger,
its rollups and the pages have something to show."""

from __future__ import annotations

import time
from typing import Any

import httpx
from playwright.sync_api import Page

from tests.e2e.conftest import MaestroServer
from tests.fakes.upstream import FakeUpstream

ACTIVITY_TIMEOUT_S = 20.0


def add_node(server: MaestroServer, name: str, upstream: FakeUpstream) -> dict[str, Any]:
    """An Ollama node at `upstream`, checked and discovered (healthy, models known)."""
    with server.admin_client() as admin:
        created = admin.post(
            "/admin/nodes", json={"name": name, "base_url": upstream.url, "node_type": "ollama", "code": name}
        )
        assert created.status_code == 201, created.text
        node_id = created.json()["id"]
        assert admin.post(f"/admin/nodes/{node_id}/health-check").status_code == 200
        assert admin.post(f"/admin/nodes/{node_id}/discover").status_code == 200
        return admin.get(f"/admin/nodes/{node_id}").json()  # type: ignore[no-any-return]


def create_user(server: MaestroServer, username: str) -> str:
    """A user allowed every model; its token."""
    with server.admin_client() as admin:
        resp = admin.post("/admin/users", json={"username": username, "all_models": True})
        assert resp.status_code == 201, resp.text
        return str(resp.json()["token"])


def chat(server: MaestroServer, token: str, model: str, *, expect: int = 200) -> str:
    """One OpenAI chat completion through the gateway; its request id."""
    resp = httpx.post(
        f"{server.base_url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {token}"},
        json={"model": model, "messages": [{"role": "user", "content": "Hello there"}]},
        timeout=30,
    )
    assert resp.status_code == expect, resp.text
    return resp.headers["x-request-id"]


def activity(server: MaestroServer, **params: Any) -> dict[str, Any]:
    with server.admin_client() as admin:
        resp = admin.get("/admin/activity", params={"limit": 100, **params})
        assert resp.status_code == 200, resp.text
        return resp.json()  # type: ignore[no-any-return]


def wait_for_activity(server: MaestroServer, request_ids: list[str], **params: Any) -> dict[str, Any]:
    """The log page (filtered by `params`) once every request of `request_ids` is in it: the
    ledger flushes in the background."""
    deadline = time.monotonic() + ACTIVITY_TIMEOUT_S
    while True:
        page = activity(server, **params)
        if set(request_ids) <= {item["request_id"] for item in page["items"]}:
            return page
        assert time.monotonic() < deadline, (
            f"{request_ids} not in the activity log after {ACTIVITY_TIMEOUT_S} s"
        )
        time.sleep(0.2)


def assert_fits_narrow(page: Page, width: int = 390) -> None:
    """At a phone's width the page scrolls vertically only (wide tables scroll in their card)."""
    page.set_viewport_size({"width": width, "height": 800})
    page.wait_for_timeout(300)  # layout after the resize
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"the page is {scroll_width}px wide at a {width}px window"
