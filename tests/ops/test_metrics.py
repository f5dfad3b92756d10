"""`GET /metrics` after a known sequence of requests, scraped over a real socket."""

from __future__ import annotations

import threading

import httpx
import pytest

from maestro_app.observability import metrics as metrics_module
from maestro_app.observability.metrics import GatewayMetrics
from tests.fakes.upstream import FakeModel
from tests.ops.metrics_support import scrape, total, value
from tests.support import activity, add_node, add_user

CHAT = "/v1/chat/completions"
BODY = {"model": "chat-m", "messages": [{"role": "user", "content": "one two three"}]}


def _setup(live, upstream_factory, **fake_kwargs):  # type: ignore[no-untyped-def]
    fake = upstream_factory([FakeModel("chat-m", context_length=8192)], **fake_kwargs)
    node = add_node(live, fake, name="vllm-1", node_type="vllm")
    return fake, node, add_user(live)


def test_counts_tokens_and_timings_after_a_known_sequence(gateway, upstream_factory):
    fake, node, token = _setup(gateway, upstream_factory)
    assert gateway.admin.post(f"/admin/nodes/{node['id']}/health-check").status_code == 200
    client = gateway.client(token)

    assert client.post(CHAT, json=BODY).status_code == 200
    assert client.post(CHAT, json=BODY, headers={"User-Agent": "curl/8.4.0"}).status_code == 200
    streamed = client.post(CHAT, json=dict(BODY, stream=True))
    assert streamed.status_code == 200 and "[DONE]" in streamed.text
    fake.fail_next("status", status=500)
    assert client.post(CHAT, json=BODY).status_code == 502
    assert gateway.client("not-a-token").post(CHAT, json=BODY).status_code == 401
    assert client.post(CHAT, json={"model": "chat-m"}).status_code == 400

    m = scrape(gateway.url)
    routed = {"model": "chat-m", "node": "vllm-1", "endpoint": CHAT}
    assert total(m, "maestro_requests_total", **routed) == 4
    assert total(m, "maestro_requests_total", **routed, status="200") == 3
    assert total(m, "maestro_requests_total", **routed, status="200", source="curl") == 1
    assert total(m, "maestro_requests_total", **routed, status="502") == 1
    assert total(m, "maestro_request_errors_total", **routed) == 1
    assert total(m, "maestro_request_errors_total", **routed, status="502") == 1
    assert total(m, "maestro_rejected_requests_total", endpoint=CHAT, status="401") == 1
    assert total(m, "maestro_rejected_requests_total", endpoint=CHAT, status="400") == 1

    # Tokens: the upstream's counts, as the ledger has them (the failed request has none).
    records = activity(gateway)
    assert len(records) == 4
    prompt = sum(r["prompt_tokens"] for r in records)
    completion = sum(r["completion_tokens"] for r in records)
    assert (prompt, completion) == (9, 15)
    assert total(m, "maestro_prompt_tokens_total", model="chat-m", node="vllm-1") == prompt
    assert total(m, "maestro_completion_tokens_total", model="chat-m", node="vllm-1") == completion

    duration, ttfb = "maestro_request_duration_seconds", "maestro_time_to_first_byte_seconds"
    assert total(m, duration + "_count", **routed, status="200") == 3
    assert total(m, duration + "_bucket", **routed, status="200", le="+Inf") == 3
    assert total(m, duration + "_count", **routed, status="502") == 1
    assert total(m, ttfb + "_count", **routed, status="200") == 3
    assert total(m, ttfb + "_count", **routed, status="502") == 0
    slowest = max(r["duration_ms"] for r in records if r["status_code"] == 200) / 1000
    assert 0 < total(m, duration + "_sum", **routed, status="200") <= 3 * slowest + 1e-6

    assert value(m, "maestro_node_up", {"node": "vllm-1"}) == 1
    assert value(m, "maestro_node_health_status", {"node": "vllm-1", "status": "healthy"}) == 1
    assert value(m, "maestro_node_health_status", {"node": "vllm-1", "status": "unhealthy"}) == 0
    assert value(m, "maestro_requests_in_flight", {"node": "vllm-1"}) == 0
    # The journal's open segment held up to the 4 records until activity() flushed it.
    assert 0 <= (value(m, "maestro_ledger_queue_depth", {}) or 0) <= 4
    assert value(scrape(gateway.url), "maestro_ledger_queue_depth", {}) == 0


def test_in_flight_counts_an_open_stream(gateway, upstream_factory):
    fake, _, token = _setup(gateway, upstream_factory, chunks=8, chunk_delay=0.2)
    done = threading.Event()

    def stream() -> None:
        with httpx.Client(base_url=gateway.url, headers={"Authorization": f"Bearer {token}"}) as c:
            c.post(CHAT, json=dict(BODY, stream=True), timeout=30)
        done.set()

    worker = threading.Thread(target=stream)
    worker.start()
    assert fake.wait_until(lambda: fake.in_flight == 1, timeout=5)
    assert value(scrape(gateway.url), "maestro_requests_in_flight", {"node": "vllm-1"}) == 1
    worker.join(30)
    assert done.is_set()
    assert value(scrape(gateway.url), "maestro_requests_in_flight", {"node": "vllm-1"}) == 0


def test_metrics_token_is_required_when_set(gateway_factory, upstream_factory):
    live = gateway_factory(metrics_token="metrics-token-0123456789")
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "metrics-token-0123456789"}):
        resp = httpx.get(live.url + "/metrics", headers=headers)
        assert resp.status_code == 401 and resp.headers["www-authenticate"] == "Bearer"
        assert "METRICS_TOKEN" in resp.json()["detail"]
    samples = scrape(live.url, token="metrics-token-0123456789")
    assert ("maestro_ledger_queue_depth", frozenset()) in samples


def test_open_without_a_token(gateway):
    assert httpx.get(gateway.url + "/metrics").status_code == 200


def test_model_labels_are_capped(monkeypatch: pytest.MonkeyPatch):
    """Clients choose model names: past the cap they are counted under `other`."""
    monkeypatch.setattr(metrics_module, "MAX_MODEL_LABELS", 2)
    metrics = GatewayMetrics()
    for name in ("a", "b", "c", "d", "a"):
        metrics.observe(
            model=name,
            node="n",
            endpoint=CHAT,
            status=404,
            source="openai",
            prompt_tokens=0,
            completion_tokens=0,
            duration_s=0.01,
            ttfb_s=None,
        )
    text = metrics.exposition().decode()
    requests = [line for line in text.splitlines() if line.startswith("maestro_requests_total{")]
    by_model = {line.split('model="')[1].split('"')[0]: float(line.rsplit(" ", 1)[1]) for line in requests}
    assert by_model == {"a": 2.0, "b": 1.0, "other": 2.0}
