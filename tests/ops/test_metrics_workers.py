"""Several Granian workers behind one port: every scrape, whichever worker answers it, shows
the requests all workers served (prometheus_client multiprocess files of this start)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import REDIS_URL
from tests.ops.metrics_support import scrape, total, value

CHAT = "/v1/chat/completions"
BODY = {"model": "m", "messages": [{"role": "user", "content": "one two three"}]}
METRICS_TOKEN = "metrics-token-for-workers-test"


def _prepare(url: str, admin_token: str, fake_url: str) -> str:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {admin_token}"}) as admin:
        node = admin.post("/admin/nodes", json={"name": "n", "base_url": fake_url, "node_type": "vllm"})
        assert node.status_code == 201, node.text
        assert admin.post(f"/admin/nodes/{node.json()['id']}/discover").status_code == 200
        user = admin.post("/admin/users", json={"username": "w", "all_models": True})
        assert user.status_code == 201, user.text
        return str(user.json()["token"])


def _workers_that_counted(data_dir: Path) -> set[str]:
    """Pids of the processes that wrote a counter file in this start's metrics directory."""
    runs = [d for d in (data_dir / "metrics").iterdir() if d.is_dir()]
    assert len(runs) == 1, runs
    return {f.stem.split("_")[-1] for f in runs[0].glob("counter_*.db")}


def _chat(url: str, token: str) -> int:
    # A new connection per request: a kept-alive one would stay with one worker.
    resp = httpx.post(url + CHAT, json=BODY, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    return resp.status_code


def test_scrapes_sum_every_worker(
    process_gateway_factory, upstream_factory, redis_prefix, database_url, tmp_path
):
    if not database_url.startswith("postgresql"):
        pytest.skip("several workers run in scaled mode (PostgreSQL + Redis)")
    gw = process_gateway_factory(
        GRANIAN_WORKERS="2", REDIS_URL=REDIS_URL, REDIS_KEY_PREFIX=redis_prefix, METRICS_TOKEN=METRICS_TOKEN
    )
    fake = upstream_factory(["m"], chunks=8, chunk_delay=0.4)
    token = _prepare(gw.url, gw.admin_token, fake.url)
    time.sleep(2.5)  # the other worker loads the new node and user through the config poll

    fake.chunk_delay = 0.0
    sent = 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (sent < 10 or len(_workers_that_counted(tmp_path / "data")) < 2):
        assert _chat(gw.url, token) == 200
        sent += 1
    assert len(_workers_that_counted(tmp_path / "data")) == 2, "one worker served every request"

    for _ in range(6):
        samples = scrape(gw.url, METRICS_TOKEN)
        assert total(samples, "maestro_requests_total", model="m", node="n", status="200") == sent
        assert total(samples, "maestro_prompt_tokens_total", model="m", node="n") == 3 * sent
        assert total(samples, "maestro_request_duration_seconds_count", model="m", status="200") == sent

    # An open stream in one worker is seen by scrapes any worker answers (published each second).
    fake.chunk_delay = 0.4
    streamer = threading.Thread(
        target=lambda: httpx.post(
            gw.url + CHAT,
            json=dict(BODY, stream=True),
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
    )
    streamer.start()
    assert fake.wait_until(lambda: fake.in_flight == 1, timeout=5)
    time.sleep(1.3)
    for _ in range(4):
        assert value(scrape(gw.url, METRICS_TOKEN), "maestro_requests_in_flight", {"node": "n"}) == 1
    streamer.join(30)
    time.sleep(1.3)
    for _ in range(4):
        assert value(scrape(gw.url, METRICS_TOKEN), "maestro_requests_in_flight", {"node": "n"}) == 0
