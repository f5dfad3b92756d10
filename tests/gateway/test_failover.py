"""Failover before the first byte; explicit error events after it; client disconnects."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.support import activity, add_node, add_user, wait_for


def _two_nodes(gateway, upstream_factory, node_type="vllm"):  # type: ignore[no-untyped-def]
    a = upstream_factory(["m"])
    b = upstream_factory(["m"])
    add_node(gateway, a, name="primary", node_type=node_type, priority=10)
    add_node(gateway, b, name="backup", node_type=node_type, priority=1)
    return a, b, gateway.client(add_user(gateway))


BODY = {"model": "m", "messages": [{"role": "user", "content": "hello"}]}


# One gateway per status: after a failure the node cools down (at least 1 s), so a second
# status sent to the same gateway would never reach it.
@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_failover_on_retryable_status(gateway, upstream_factory, status):
    a, b, client = _two_nodes(gateway, upstream_factory)
    a.fail_next("status", status=status)
    resp = client.post("/v1/chat/completions", json=BODY)
    assert resp.status_code == 200, (status, resp.text)
    assert (a.hits["/v1/chat/completions"], b.hits["/v1/chat/completions"]) == (1, 1)
    [record] = activity(gateway)
    assert (record["status_code"], record["node"]) == (200, "backup")


def test_non_retryable_status_is_returned_not_failed_over(gateway, upstream_factory):
    a, b, client = _two_nodes(gateway, upstream_factory)
    a.fail_next("status", status=400, body={"error": {"message": "bad temperature"}})
    resp = client.post("/v1/chat/completions", json=BODY)
    assert resp.status_code == 400
    assert resp.json()["error"]["message"] == "bad temperature"
    assert b.hits["/v1/chat/completions"] == 0


def test_failover_on_connection_reset(gateway, upstream_factory):
    a, b, client = _two_nodes(gateway, upstream_factory)
    a.fail_next("reset")
    resp = client.post("/v1/chat/completions", json=dict(BODY, stream=True))
    assert resp.status_code == 200
    assert "data: [DONE]" in resp.text
    assert b.hits["/v1/chat/completions"] == 1


def test_failover_on_timeout_and_504_when_all_time_out(gateway_factory, upstream_factory):
    gateway = gateway_factory(upstream_read_timeout_s=0.5)
    a, b, client = _two_nodes(gateway, upstream_factory)
    a.fail_next("slow", delay=2.0)
    resp = client.post("/v1/chat/completions", json=BODY)
    assert resp.status_code == 200
    assert b.hits["/v1/chat/completions"] == 1

    a.fail_next("slow", delay=2.0)
    b.fail_next("slow", delay=2.0)
    resp = client.post("/v1/chat/completions", json=BODY)
    assert resp.status_code == 504
    assert resp.json()["error"]["type"] == "api_error"


def test_all_nodes_failing_gives_502_in_each_dialect(gateway, upstream_factory):
    a, b, client = _two_nodes(gateway, upstream_factory, node_type="ollama")
    a.fail_next("status", status=500, times=2)
    b.fail_next("status", status=500, times=2)
    resp = client.post("/v1/chat/completions", json=BODY)
    assert resp.status_code == 502
    assert "error" in resp.json() and "message" in resp.json()["error"]
    resp = client.post("/api/chat", json=dict(BODY, stream=False))
    assert resp.status_code == 502
    assert isinstance(resp.json()["error"], str)


def test_failed_node_is_cooled_down(gateway, upstream_factory):
    a, b, client = _two_nodes(gateway, upstream_factory)
    a.fail_next("status", status=503)
    assert client.post("/v1/chat/completions", json=BODY).status_code == 200
    before = a.hits["/v1/chat/completions"]
    for _ in range(5):
        assert client.post("/v1/chat/completions", json=BODY).status_code == 200
    assert a.hits["/v1/chat/completions"] == before  # skipped while cooling down


def test_cut_mid_stream_ends_with_error_event_and_no_replay(gateway, upstream_factory):
    a, b, client = _two_nodes(gateway, upstream_factory)
    a.chunks = 6
    a.fail_next("cut", after_chunks=3)
    with client.stream("POST", "/v1/chat/completions", json=dict(BODY, stream=True)) as s:
        text = s.read().decode()
    events = [line[6:] for line in text.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    last = json.loads(events[-2])
    assert "error" in last and last["error"]["message"]
    contents = [
        json.loads(e)["choices"][0]["delta"].get("content") or ""
        for e in events[:-2]
        if json.loads(e).get("choices")
    ]
    # The fake's three chunks were the role chunk, "w0 ", "w1 ": exactly those, never replayed.
    assert "".join(contents) == "w0 w1 "
    assert b.hits["/v1/chat/completions"] == 0
    records = activity(gateway)
    assert records[0]["status_code"] == 502 and records[0]["error"]


def test_cut_mid_stream_ollama_dialect(gateway, upstream_factory):
    a, b, client = _two_nodes(gateway, upstream_factory, node_type="ollama")
    a.chunks = 6
    a.fail_next("cut", after_chunks=2)
    with client.stream("POST", "/api/chat", json=BODY) as s:
        lines = [json.loads(x) for x in s.read().decode().splitlines() if x.strip()]
    assert "error" in lines[-1]
    assert "".join(x["message"]["content"] for x in lines[:-1]) == "w0 w1 "
    assert b.hits["/api/chat"] == 0


@pytest.mark.parametrize("slow_start", [0.0, 0.3])
def test_client_disconnect_mid_stream_cancels_upstream(gateway, upstream_factory, slow_start):
    """A client leaving during a stream cancels the node's work. With a slow start (well
    past the disconnect watch's 20 ms), the request's watch started its helper task while
    waiting for the node; the stream takes that watch over and it goes on watching."""
    a, b, client = _two_nodes(gateway, upstream_factory)
    if slow_start:
        a.fail_next("slow", delay=slow_start)
    a.chunks = 50
    a.chunk_delay = 0.1
    with (
        httpx.Client(base_url=gateway.url, headers=client.headers, timeout=10) as c,
        c.stream("POST", "/v1/chat/completions", json=dict(BODY, stream=True)) as s,
    ):
        for _ in s.iter_bytes():
            break  # leave after the first bytes
    assert wait_for(lambda: a.cancelled >= 1, timeout=5), "upstream request was not cancelled"
    assert wait_for(lambda: a.in_flight == 0, timeout=5)
    started = time.monotonic()
    records = wait_for(lambda: activity(gateway), timeout=5)
    assert records[0]["status_code"] == 499 and b.hits["/v1/chat/completions"] == 0
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("stream", [False, True])
def test_client_disconnect_before_the_node_answers_cancels_upstream(gateway, upstream_factory, stream):
    """A node sends its headers only once a non-streamed answer is complete (Ollama: with the
    first token of a stream): a client that leaves while the gateway waits for them cancels
    the upstream request, which is not failed over."""
    a, b, client = _two_nodes(gateway, upstream_factory)
    a.fail_next("slow", delay=4.0)  # no headers for 4 s; the client leaves after 0.5 s
    with (
        httpx.Client(base_url=gateway.url, headers=client.headers, timeout=0.5) as c,
        pytest.raises(httpx.ReadTimeout),
    ):
        c.post("/v1/chat/completions", json=dict(BODY, stream=stream))
    assert wait_for(lambda: a.cancelled >= 1, timeout=2), "upstream request was not cancelled"
    assert a.in_flight == 0 and b.hits["/v1/chat/completions"] == 0
    records = wait_for(lambda: activity(gateway), timeout=5)
    assert records[0]["status_code"] == 499
