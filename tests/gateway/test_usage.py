"""Token usage comes from the upstream's own counts in every mode; estimated otherwise."""

from __future__ import annotations

import json

import pytest

from tests.support import activity, add_node, add_user

MESSAGES = [{"role": "user", "content": "count these four words"}]


@pytest.fixture(params=["vllm", "ollama"])
def node_type(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=["embedded", "scaled"])
def gateway(request, gateway_factory, scaled_gateway_factory):  # type: ignore[no-untyped-def]
    """Every usage test on both ledgers: the local journal and the Redis stream."""
    return scaled_gateway_factory() if request.param == "scaled" else gateway_factory()


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/api/chat"])
@pytest.mark.parametrize("stream", [False, True])
def test_usage_is_what_the_upstream_reported(gateway, upstream_factory, node_type, path, stream):
    """OpenAI/Ollama client x stream/non-stream x vLLM/Ollama node (two of them bridged)."""
    fake = upstream_factory(["m"], chunks=6)
    add_node(gateway, fake, name="n", node_type=node_type)
    client = gateway.client(add_user(gateway))
    resp = client.post(path, json={"model": "m", "messages": MESSAGES, "stream": stream})
    assert resp.status_code == 200, resp.text
    if path == "/v1/chat/completions" and stream:
        chunks = [json.loads(line[6:]) for line in resp.text.splitlines() if line.startswith("data: {")]
        assert all(c.get("choices") for c in chunks)  # the client did not ask for usage
    (record,) = activity(gateway)
    assert (record["prompt_tokens"], record["completion_tokens"], record["total_tokens"]) == (4, 6, 10)
    assert record["estimated"] is False
    assert record["stream"] is stream


@pytest.mark.parametrize("path", ["/v1/completions", "/api/generate"])
def test_completion_usage(gateway, upstream_factory, node_type, path):
    fake = upstream_factory(["m"], chunks=3)
    add_node(gateway, fake, name="n", node_type=node_type)
    client = gateway.client(add_user(gateway))
    for stream in (False, True):
        assert client.post(path, json={"model": "m", "prompt": "a b c", "stream": stream}).status_code == 200
    records = activity(gateway)
    assert [(r["prompt_tokens"], r["completion_tokens"], r["estimated"]) for r in records] == [
        (3, 3, False)
    ] * 2


@pytest.mark.parametrize("path", ["/v1/embeddings", "/api/embed"])
def test_embedding_usage_counts_prompt_tokens(gateway, upstream_factory, node_type, path):
    fake = upstream_factory(["m"])
    add_node(gateway, fake, name="n", node_type=node_type)
    client = gateway.client(add_user(gateway))
    assert client.post(path, json={"model": "m", "input": ["a b", "c d e"]}).status_code == 200
    (record,) = activity(gateway)
    assert record["prompt_tokens"] == 5 and record["completion_tokens"] == 0 and record["estimated"] is False


def test_cut_stream_records_the_usage_seen_so_far(gateway, upstream_factory, node_type):
    fake = upstream_factory(["m"], chunks=40)
    add_node(gateway, fake, name="n", node_type=node_type)
    client = gateway.client(add_user(gateway))
    fake.fail_next("cut", after_chunks=21)
    resp = client.post("/v1/chat/completions", json={"model": "m", "messages": MESSAGES, "stream": True})
    assert resp.status_code == 200 and '"error"' in resp.text
    (record,) = activity(gateway)
    assert record["status_code"] == 502
    # 20 pieces "wN " reached the client (~3-4 characters each): estimated from that text.
    assert record["estimated"] is True
    assert 10 <= record["completion_tokens"] <= 25
    assert record["prompt_tokens"] > 0


def test_abandoned_stream_records_partial_usage(gateway, upstream_factory):
    import httpx

    from tests.support import wait_for

    fake = upstream_factory(["m"], chunks=200, chunk_delay=0.02)
    add_node(gateway, fake, name="n", node_type="ollama")
    token = add_user(gateway)
    with (
        httpx.Client(base_url=gateway.url, headers={"Authorization": f"Bearer {token}"}) as c,
        c.stream("POST", "/api/chat", json={"model": "m", "messages": MESSAGES}) as s,
    ):
        seen = 0
        for line in s.iter_lines():
            seen += bool(line.strip())
            if seen >= 10:
                break
    records = wait_for(lambda: activity(gateway), timeout=5)
    assert records[0]["status_code"] == 499
    assert records[0]["completion_tokens"] >= 5 and records[0]["estimated"] is True


def test_no_upstream_counts_means_estimated(gateway, upstream_factory):
    """An upstream that reports no usage (some OpenAI-compatible servers): estimate, and say so."""
    fake = upstream_factory(["m"], chunks=8)
    add_node(gateway, fake, name="n", node_type="vllm")
    client = gateway.client(add_user(gateway))
    fake.fail_next(
        "status",
        status=200,
        body={
            "id": "x",
            "object": "chat.completion",
            "model": "m",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "twelve chars"},
                    "finish_reason": "stop",
                }
            ],
        },
    )
    resp = client.post("/v1/chat/completions", json={"model": "m", "messages": MESSAGES})
    assert resp.status_code == 200 and resp.json()["choices"][0]["message"]["content"] == "twelve chars"
    (record,) = activity(gateway)
    assert record["estimated"] is True
    assert record["completion_tokens"] == 3 and record["prompt_tokens"] == 6


def test_stream_without_upstream_counts_is_estimated(gateway, upstream_factory):
    """A server that ignores `stream_options.include_usage` ends its stream without a usage
    chunk: the record estimates from the text relayed and says so."""

    def chunk(delta: dict[str, str], finish: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return "data: " + json.dumps(
            {"id": "c", "object": "chat.completion.chunk", "model": "m", "choices": [choice]}
        )

    fake = upstream_factory(["m"])
    add_node(gateway, fake, name="n", node_type="vllm")
    client = gateway.client(add_user(gateway))
    events = [
        chunk({"role": "assistant", "content": "twelve"}),
        chunk({"content": " chars"}, "stop"),
        "data: [DONE]",
    ]
    fake.fail_next("status", status=200, body="\n\n".join(events) + "\n\n")
    resp = client.post("/v1/chat/completions", json={"model": "m", "messages": MESSAGES, "stream": True})
    assert resp.status_code == 200 and resp.text.rstrip().endswith("data: [DONE]")
    assert fake.requests[-1].json["stream_options"] == {"include_usage": True}
    (record,) = activity(gateway)
    assert record["estimated"] is True and record["status_code"] == 200
    assert (record["prompt_tokens"], record["completion_tokens"]) == (6, 3)
