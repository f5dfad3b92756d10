"""Daily limits hold exactly under concurrency, in one process and across processes on Redis."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
import pytest

from maestro_app.stores.limits import seconds_to_midnight
from tests.support import activity, add_node, add_user

CHAT = {"model": "m", "messages": [{"role": "user", "content": "one two"}]}


def _storm(url: str, token: str, n: int, *, stream: bool = False) -> list[httpx.Response]:
    """n requests at once (bounded: one thread each, n <= 60)."""
    body = dict(CHAT, stream=stream)

    def one(_: int) -> httpx.Response:
        with httpx.Client(base_url=url, timeout=30) as c:
            return c.post("/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {token}"})

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(one, range(n)))


def _check_exactly(responses: list[httpx.Response], admitted: int) -> None:
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] * admitted + [429] * (len(responses) - admitted), codes
    refused = [r for r in responses if r.status_code == 429]
    expected = seconds_to_midnight(time.time())
    for r in refused:
        assert abs(int(r.headers["retry-after"]) - expected) <= 5
        assert r.json()["error"]["code"] == "daily_request_limit_exceeded"


@pytest.mark.parametrize("scaled", [False, True], ids=["in-process", "redis"])
def test_request_limit_is_exact_under_concurrency(
    gateway_factory, scaled_gateway_factory, upstream_factory, scaled
):
    gateway = scaled_gateway_factory() if scaled else gateway_factory()
    fake = upstream_factory(["m"], chunk_delay=0.01)
    add_node(gateway, fake, name="n", node_type="vllm")
    token = add_user(gateway, "limited", request_limit=7)
    responses = _storm(gateway.url, token, 21)
    _check_exactly(responses, 7)
    assert fake.hits["/v1/chat/completions"] == 7
    statuses = sorted(r["status_code"] for r in activity(gateway))
    assert statuses == [200] * 7 + [429] * 14


def test_request_limit_is_exact_across_two_processes(process_gateway_factory, upstream_factory, redis_prefix):
    env = {"REDIS_URL": "redis://127.0.0.1:6379/0", "REDIS_KEY_PREFIX": redis_prefix}
    first = process_gateway_factory(**env)
    second = process_gateway_factory(**env)
    fake = upstream_factory(["m"], chunk_delay=0.01)
    admin = httpx.Client(base_url=first.url, headers={"Authorization": f"Bearer {first.admin_token}"})
    node = admin.post("/admin/nodes", json={"name": "n", "base_url": fake.url, "node_type": "vllm"}).json()
    assert admin.post(f"/admin/nodes/{node['id']}/discover").status_code == 200
    token = admin.post(
        "/admin/users", json={"username": "u", "all_models": True, "request_limit": 10}
    ).json()["token"]
    deadline = time.monotonic() + 5  # the second process learns the config by its version poll
    while (
        httpx.get(second.url + "/v1/models", headers={"Authorization": f"Bearer {token}"}).status_code != 200
    ):
        assert time.monotonic() < deadline, "second process never saw the new user"
        time.sleep(0.1)
    with ThreadPoolExecutor(max_workers=2) as pool:
        halves = list(pool.map(lambda url: _storm(url, token, 15), [first.url, second.url]))
    _check_exactly(halves[0] + halves[1], 10)
    assert fake.hits["/v1/chat/completions"] == 10
    admin.close()


@pytest.mark.parametrize("scaled", [False, True], ids=["in-process", "redis"])
def test_token_limit_stops_once_reached(gateway_factory, scaled_gateway_factory, upstream_factory, scaled):
    gateway = scaled_gateway_factory() if scaled else gateway_factory()
    fake = upstream_factory(["m"])  # 5 completion tokens per answer, prompt "one two" = 2
    add_node(gateway, fake, name="n", node_type="vllm")
    client = gateway.client(add_user(gateway, "tok", token_limit=10))
    codes = [client.post("/v1/chat/completions", json=CHAT).status_code for _ in range(3)]
    assert codes == [200, 200, 429]  # 0 < 10 admits, 7 < 10 admits, 14 >= 10 refuses
    refused = client.post("/api/chat", json=dict(CHAT, stream=False))
    assert refused.status_code == 429 and "token limit" in refused.json()["error"]
    assert refused.headers["retry-after"].isdigit()


@pytest.mark.parametrize("scaled", [False, True], ids=["in-process", "redis"])
def test_failed_requests_are_refunded(gateway_factory, scaled_gateway_factory, upstream_factory, scaled):
    gateway = scaled_gateway_factory() if scaled else gateway_factory()
    fake = upstream_factory(["m"])
    add_node(gateway, fake, name="n", node_type="vllm")
    client = gateway.client(add_user(gateway, "refund", request_limit=2))
    fake.fail_next("status", status=503)
    assert client.post("/v1/chat/completions", json=CHAT).status_code == 502
    assert [client.post("/v1/chat/completions", json=CHAT).status_code for _ in range(3)] == [200, 200, 429]


@pytest.mark.parametrize("scaled", [False, True], ids=["in-process", "redis"])
def test_the_day_rolls_over(gateway_factory, scaled_gateway_factory, upstream_factory, scaled):
    gateway = scaled_gateway_factory() if scaled else gateway_factory()
    fake = upstream_factory(["m"])
    add_node(gateway, fake, name="n", node_type="vllm")
    client = gateway.client(add_user(gateway, "daily", request_limit=1))
    before_midnight = datetime(2031, 5, 4, 23, 59, 50, tzinfo=UTC).timestamp()
    gateway.runtime.limits.clock = lambda: before_midnight
    assert client.post("/v1/chat/completions", json=CHAT).status_code == 200
    refused = client.post("/v1/chat/completions", json=CHAT)
    assert refused.status_code == 429 and refused.headers["retry-after"] == "10"
    gateway.runtime.limits.clock = lambda: before_midnight + 11
    assert client.post("/v1/chat/completions", json=CHAT).status_code == 200


def test_counters_survive_a_restart_in_embedded_mode(gateway_factory, upstream_factory):
    gateway = gateway_factory()
    fake = upstream_factory(["m"])
    add_node(gateway, fake, name="n", node_type="vllm")
    token = add_user(gateway, "steady", request_limit=2)
    assert gateway.client(token).post("/v1/chat/completions", json=CHAT).status_code == 200
    gateway.stop()  # drains the journal into the database
    again = gateway_factory()
    client = again.client(token)
    assert [client.post("/v1/chat/completions", json=CHAT).status_code for _ in range(2)] == [200, 429]
