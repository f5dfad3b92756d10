"""OpenAI-compatible endpoints against a vLLM-type fake node, through real sockets."""

from __future__ import annotations

import json
import time

from tests.fakes.upstream import FakeModel
from tests.support import activity, add_mapping, add_node, add_user


def _setup(gateway, upstream_factory, **fake_kwargs):  # type: ignore[no-untyped-def]
    fake = upstream_factory([FakeModel("real-chat", context_length=32768), FakeModel("emb")], **fake_kwargs)
    add_node(
        gateway, fake, name="vllm-1", node_type="vllm", api_key="sk-node-secret", headers={"X-Tenant": "t1"}
    )
    add_mapping(gateway, "chat", "real-chat", context_length="64K")
    return fake, gateway.client(add_user(gateway))


def _events(text: str) -> list[str]:
    return [line[6:] for line in text.splitlines() if line.startswith("data: ")]


def test_chat_non_streamed(gateway, upstream_factory):
    fake, client = _setup(gateway, upstream_factory, api_key="sk-node-secret")
    resp = client.post(
        "/v1/chat/completions",
        json={"model": "chat", "messages": [{"role": "user", "content": "one two three"}]},
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["object"] == "chat.completion" and body["model"] == "chat"
    assert body["choices"][0]["message"]["content"] == "w0 w1 w2 w3 w4 "
    assert body["usage"]["completion_tokens"] == 5 and body["usage"]["prompt_tokens"] == 3
    sent = fake.requests[-1]
    assert sent.headers["authorization"] == "Bearer sk-node-secret"
    assert sent.headers["x-tenant"] == "t1"
    assert resp.headers["x-request-id"]
    record = activity(gateway)[0]
    assert (record["model"], record["real_model"], record["node"]) == ("chat", "real-chat", "vllm-1")
    assert (record["prompt_tokens"], record["completion_tokens"], record["total_tokens"]) == (3, 5, 8)
    assert record["estimated"] is False and record["status_code"] == 200


def test_chat_streamed_is_incremental_and_usage_only_when_asked(gateway, upstream_factory):
    fake, client = _setup(gateway, upstream_factory, api_key="sk-node-secret")
    fake.chunk_delay = 0.15
    arrivals: list[float] = []
    start = time.monotonic()
    with client.stream(
        "POST",
        "/v1/chat/completions",
        json={"model": "chat", "stream": True, "messages": [{"role": "user", "content": "hi"}]},
    ) as s:
        assert s.headers["content-type"].startswith("text/event-stream")
        text = ""
        for piece in s.iter_text():
            arrivals.append(time.monotonic() - start)
            text += piece
    assert arrivals[0] < arrivals[-1] - 0.4, arrivals  # first chunk well before the last
    events = _events(text)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["model"] == "chat" for c in chunks)
    assert all(c.get("choices") for c in chunks), "usage-only chunk leaked to a client that did not ask"
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks) == "w0 w1 w2 w3 w4 "
    assert fake.requests[-1].json["stream_options"] == {"include_usage": True}
    record = activity(gateway)[0]
    assert record["completion_tokens"] == 5 and record["estimated"] is False

    fake.chunk_delay = 0
    with client.stream(
        "POST",
        "/v1/chat/completions",
        json={
            "model": "chat",
            "stream": True,
            "stream_options": {"include_usage": True},
            "messages": [{"role": "user", "content": "hi"}],
        },
    ) as s:
        chunks = [json.loads(e) for e in _events(s.read().decode())[:-1]]
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 5


def test_completions_and_embeddings(gateway, upstream_factory):
    fake, client = _setup(gateway, upstream_factory, api_key="sk-node-secret")
    resp = client.post("/v1/completions", json={"model": "chat", "prompt": "say"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["choices"][0]["text"] == "w0 w1 w2 w3 w4 " and resp.json()["model"] == "chat"
    with client.stream(
        "POST", "/v1/completions", json={"model": "chat", "prompt": "say", "stream": True}
    ) as s:
        events = _events(s.read().decode())
    assert events[-1] == "[DONE]"
    emb = client.post("/v1/embeddings", json={"model": "emb", "input": ["a b", "c"]})
    assert emb.status_code == 200, emb.text
    assert len(emb.json()["data"]) == 2 and emb.json()["model"] == "emb"
    records = {r["endpoint"]: r for r in activity(gateway)}
    assert records["/v1/embeddings"]["prompt_tokens"] > 0


def test_models_listing_carries_context_length(gateway, upstream_factory):
    _, client = _setup(gateway, upstream_factory, api_key="sk-node-secret")
    data = {m["id"]: m for m in client.get("/v1/models").json()["data"]}
    assert set(data) == {"chat", "emb"}
    assert data["chat"]["max_model_len"] == 65536
    assert data["chat"]["object"] == "model" and "created" in data["chat"]
