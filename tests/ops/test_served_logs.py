"""The served app (`reflex run`) writes JSON log lines carrying the request id when
LOG_FORMAT=json: the composition root's logging set-up, end to end."""

from __future__ import annotations

import json
import time

import httpx
import pytest


def test_json_lines_with_the_request_id(process_gateway_factory, upstream_factory, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("the log set-up does not depend on the database")
    gw = process_gateway_factory(LOG_FORMAT="json", LOG_REQUESTS="true", LOG_LEVEL="INFO")
    fake = upstream_factory(["m"])
    with httpx.Client(base_url=gw.url, headers={"Authorization": f"Bearer {gw.admin_token}"}) as admin:
        node = admin.post("/admin/nodes", json={"name": "n", "base_url": fake.url, "node_type": "vllm"})
        assert admin.post(f"/admin/nodes/{node.json()['id']}/discover").status_code == 200
        token = admin.post("/admin/users", json={"username": "u", "all_models": True}).json()["token"]
    resp = httpx.post(
        gw.url + "/v1/chat/completions",
        json={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
        headers={"Authorization": f"Bearer {token}", "X-Request-ID": "served-json-1"},
    )
    assert resp.status_code == 200 and resp.headers["x-request-id"] == "served-json-1"

    deadline = time.monotonic() + 10
    found: list[dict[str, object]] = []
    while not found and time.monotonic() < deadline:
        time.sleep(0.2)
        for line in gw.log_path.read_text().splitlines():
            if line.startswith("{") and '"served-json-1"' in line:
                found.append(json.loads(line))
    assert found, gw.log_path.read_text()[-3000:]
    access = found[0]
    assert access["logger"] == "maestro_app.requests" and access["level"] == "INFO"
    assert access["request_id"] == "served-json-1"
    assert "model=m node=n user=u" in str(access["message"]) and "status=200" in str(access["message"])
