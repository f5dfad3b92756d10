"""Routing through real sockets: mappings, node scoping, tags, node prefixes, balancing."""

from __future__ import annotations

from collections import Counter

from tests.support import activity, add_mapping, add_node, add_user, set_settings


def chat(client, model: str, **extra):  # type: ignore[no-untyped-def]
    return client.post(
        "/v1/chat/completions",
        json={"model": model, "messages": [{"role": "user", "content": "hi there"}], **extra},
    )


def test_mapping_renames_request_and_answer(gateway, upstream_factory):
    fake = upstream_factory(["qwen2.5:7b-instruct-q4"])
    add_node(gateway, fake, name="n1", node_type="vllm")
    add_mapping(gateway, "coder", "qwen2.5:7b-instruct-q4")
    client = gateway.client(add_user(gateway))

    resp = chat(client, "coder")
    assert resp.status_code == 200, resp.text
    assert resp.json()["model"] == "coder"
    assert fake.requests[-1].json["model"] == "qwen2.5:7b-instruct-q4"

    with client.stream(
        "POST",
        "/v1/chat/completions",
        json={"model": "coder", "stream": True, "messages": [{"role": "user", "content": "x"}]},
    ) as s:
        body = s.read().decode()
    assert "qwen2.5" not in body
    assert '"model":"coder"' in body.replace(" ", "")

    listed = [m["id"] for m in client.get("/v1/models").json()["data"]]
    assert "coder" in listed and "qwen2.5:7b-instruct-q4" not in listed


def test_node_scoped_mapping_wins_on_its_node(gateway, upstream_factory):
    a = upstream_factory(["big-a"])
    b = upstream_factory(["big-b"])
    na = add_node(gateway, a, name="a", node_type="vllm", priority=10)
    nb = add_node(gateway, b, name="b", node_type="vllm", priority=5)
    add_mapping(gateway, "big", "big-a", node_ids=[na["id"]])
    add_mapping(gateway, "big", "big-b", node_ids=[nb["id"]])
    client = gateway.client(add_user(gateway))
    assert chat(client, "big").status_code == 200
    assert a.requests[-1].json["model"] == "big-a"
    a.fail_next("status", status=503)
    assert chat(client, "big").status_code == 200
    assert b.requests[-1].json["model"] == "big-b"


def test_overlapping_mappings_conflict(gateway, upstream_factory):
    fake = upstream_factory(["m"])
    node = add_node(gateway, fake, name="n", discover=False)
    add_mapping(gateway, "x", "m", node_ids=[node["id"]])
    resp = gateway.admin.post(
        "/admin/model-mappings", json={"display_name": "x", "real_name": "m2", "node_ids": [node["id"]]}
    )
    assert resp.status_code == 409


def test_tagless_name_matches_latest(gateway, upstream_factory):
    fake = upstream_factory(["llama3:latest"])
    add_node(gateway, fake, name="n")
    client = gateway.client(add_user(gateway))
    resp = client.post(
        "/api/chat",
        json={"model": "llama3", "stream": False, "messages": [{"role": "user", "content": "hi"}]},
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["model"] == "llama3"
    assert fake.requests[-1].json["model"] == "llama3:latest"


def test_node_prefix_pins_the_node(gateway, upstream_factory):
    a = upstream_factory(["m1"])
    b = upstream_factory(["m1"])
    add_node(gateway, a, name="a", code="gpu-a", node_type="vllm", priority=10)
    add_node(gateway, b, name="b", code="gpu-b", node_type="vllm", priority=1)
    client = gateway.client(add_user(gateway))
    for _ in range(3):
        resp = chat(client, "node:gpu-b:m1")
        assert resp.status_code == 200, resp.text
        assert resp.json()["model"] == "node:gpu-b:m1"
    assert b.hits["/v1/chat/completions"] == 3 and a.hits["/v1/chat/completions"] == 0

    missing = chat(client, "node:nope:m1")
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "Node with code 'nope' not found"
    ollama_missing = client.post("/api/chat", json={"model": "node:nope:m1", "messages": []})
    assert ollama_missing.status_code == 404
    assert ollama_missing.json() == {"error": "Node with code 'nope' not found"}


def _spread(gateway, fakes, n: int = 60) -> list[int]:  # type: ignore[no-untyped-def]
    client = gateway.client(add_user(gateway, "spread"))
    for _ in range(n):
        assert chat(client, "m").status_code == 200
    return [f.hits["/v1/chat/completions"] for f in fakes]


def _three_nodes(gateway, upstream_factory, weights=(1, 1, 1)):  # type: ignore[no-untyped-def]
    fakes = [upstream_factory(["m"]) for _ in range(3)]
    for i, (fake, weight) in enumerate(zip(fakes, weights, strict=True)):
        add_node(gateway, fake, name=f"n{i}", node_type="vllm", priority=10 - i, weight=weight)
    return fakes


def test_priority_strategy_uses_highest_priority(gateway, upstream_factory):
    fakes = _three_nodes(gateway, upstream_factory)
    assert _spread(gateway, fakes, 20) == [20, 0, 0]


def test_round_robin_strategy_spreads_evenly(gateway, upstream_factory):
    fakes = _three_nodes(gateway, upstream_factory)
    set_settings(gateway, routing_strategy="round_robin")
    assert _spread(gateway, fakes, 60) == [20, 20, 20]


def test_weighted_strategy_follows_weights(gateway, upstream_factory):
    fakes = _three_nodes(gateway, upstream_factory, weights=(6, 3, 1))
    set_settings(gateway, routing_strategy="weighted")
    gateway.runtime.balancer.rng.seed(300)  # the same draws every run: no rare flaky failure
    hits = _spread(gateway, fakes, 300)
    assert sum(hits) == 300
    # expected 180 / 90 / 30; allow generous sampling noise (bounded sample)
    assert 140 <= hits[0] <= 220 and 60 <= hits[1] <= 125 and 10 <= hits[2] <= 55, hits


def test_least_busy_prefers_idle_node(gateway, upstream_factory):
    import threading

    fakes = _three_nodes(gateway, upstream_factory)
    set_settings(gateway, routing_strategy="least_busy")
    client = gateway.client(add_user(gateway, "busy"))
    fakes[0].chunk_delay = 0.3  # the priority node is kept busy by a slow stream
    started = threading.Event()

    def slow() -> None:
        with client.stream(
            "POST",
            "/v1/chat/completions",
            json={"model": "m", "stream": True, "messages": [{"role": "user", "content": "x"}]},
        ) as s:
            for _ in s.iter_bytes():
                started.set()

    t = threading.Thread(target=slow)
    t.start()
    started.wait(5)
    other = gateway.client(add_user(gateway, "busy2"))
    for _ in range(4):
        assert chat(other, "m").status_code == 200
    t.join(10)
    assert fakes[0].hits["/v1/chat/completions"] == 1
    assert fakes[1].hits["/v1/chat/completions"] + fakes[2].hits["/v1/chat/completions"] == 4


def test_unmapped_model_nobody_advertises_reaches_a_node_which_answers_404(gateway, upstream_factory):
    fake = upstream_factory(["known"])
    add_node(gateway, fake, name="n", node_type="vllm")
    client = gateway.client(add_user(gateway))
    resp = chat(client, "unknown-model")
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "model_not_found"
    records = activity(gateway)
    assert Counter(r["status_code"] for r in records) == Counter({404: 1})
