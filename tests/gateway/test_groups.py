"""Model groups through real sockets: strategies, capability routing, preferred nodes,
member failover (5xx, 429, reset), the retry limit, context-length fallback, listings."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import LiveGateway
from tests.fakes.upstream import FakeModel, FakeUpstream
from tests.support import activity, add_mapping, add_node, add_user

CHAT = "/v1/chat/completions"
HELLO = [{"role": "user", "content": "hello there"}]
IMAGE = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
TOOL = {
    "type": "function",
    "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}},
}
VLLM_CONTEXT_ERROR = {
    "object": "error",
    "message": "This model's maximum context length is 8192 tokens. However, you requested 9000 tokens "
    "(8000 in the messages, 1000 in the completion). Please reduce the length of the messages or completion.",
    "type": "BadRequestError",
    "param": None,
    "code": 400,
}


def add_group(live: LiveGateway, name: str, members: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    resp = live.admin.post("/admin/model-groups", json={"name": name, **fields})
    assert resp.status_code == 201, resp.text
    for member in members:
        added = live.admin.post(f"/admin/model-groups/{name}/members", json=member)
        assert added.status_code == 201, added.text
    return live.admin.get(f"/admin/model-groups/{name}").json()  # type: ignore[no-any-return]


def member_fakes(
    live: LiveGateway, upstream_factory: Any, models: list[str], node_type: str = "vllm"
) -> list[FakeUpstream]:
    """One node per model, each serving only its model."""
    fakes = []
    for i, model in enumerate(models):
        fake = upstream_factory([FakeModel(model)])
        add_node(live, fake, name=f"node-{model}", node_type=node_type, priority=len(models) - i)
        fakes.append(fake)
    return fakes


def chat(client: httpx.Client, model: str, **extra: Any) -> httpx.Response:
    return client.post(CHAT, json={"model": model, "messages": HELLO, **extra})


def hits(fakes: list[FakeUpstream], path: str = CHAT) -> list[int]:
    return [f.hits[path] for f in fakes]


# -- strategies ------------------------------------------------------------------------------


def test_round_robin_spreads_exactly(gateway, upstream_factory):  # type: ignore[no-untyped-def]
    fakes = member_fakes(gateway, upstream_factory, ["m-a", "m-b", "m-c"])
    add_group(
        gateway, "team", [{"model_display_name": m} for m in ("m-a", "m-b", "m-c")], strategy="round_robin"
    )
    client = gateway.client(add_user(gateway))
    for _ in range(30):
        resp = chat(client, "team")
        assert resp.status_code == 200, resp.text
        assert resp.json()["model"] == "team"
    assert hits(fakes) == [10, 10, 10]


def test_weighted_follows_member_weights(gateway, upstream_factory):  # type: ignore[no-untyped-def]
    fakes = member_fakes(gateway, upstream_factory, ["m-a", "m-b", "m-c"])
    members = [{"model_display_name": m, "weight": w} for m, w in (("m-a", 6), ("m-b", 3), ("m-c", 1))]
    add_group(gateway, "team", members, strategy="weighted")
    client = gateway.client(add_user(gateway))
    for _ in range(300):
        assert chat(client, "team").status_code == 200
    a, b, c = hits(fakes)
    assert a + b + c == 300
    # expected 180 / 90 / 30; bounds far outside sampling noise of a bounded sample
    assert 140 <= a <= 220 and 60 <= b <= 125 and 10 <= c <= 55, (a, b, c)


def test_priority_sends_everything_to_the_lowest_priority_number(gateway, upstream_factory):  # type: ignore[no-untyped-def]
    fakes = member_fakes(gateway, upstream_factory, ["m-a", "m-b", "m-c"])
    members = [{"model_display_name": m, "priority": p} for m, p in (("m-a", 2), ("m-b", 0), ("m-c", 1))]
    add_group(gateway, "team", members, strategy="priority")
    client = gateway.client(add_user(gateway))
    for _ in range(12):
        assert chat(client, "team").status_code == 200
    assert hits(fakes) == [0, 12, 0]


# -- capabilities and nodes --------------------------------------------------------------------


def test_vision_and_tools_requests_go_to_tagged_members(gateway, upstream_factory):  # type: ignore[no-untyped-def]
    text, eyes, hands = member_fakes(gateway, upstream_factory, ["text", "eyes", "hands"])
    add_group(
        gateway,
        "smart",
        [
            {"model_display_name": "text"},
            {"model_display_name": "eyes", "capability_tags": ["vision"]},
            {"model_display_name": "hands", "capability_tags": ["tools"]},
        ],
    )
    client = gateway.client(add_user(gateway))
    assert chat(client, "smart").status_code == 200
    picture = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "what is it"},
                {"type": "image_url", "image_url": {"url": IMAGE}},
            ],
        }
    ]
    assert client.post(CHAT, json={"model": "smart", "messages": picture}).status_code == 200
    assert chat(client, "smart", tools=[TOOL]).status_code == 200
    ollama_picture = [{"role": "user", "content": "what is it", "images": [IMAGE.split(",", 1)[1]]}]
    resp = client.post("/api/chat", json={"model": "smart", "messages": ollama_picture, "stream": False})
    assert resp.status_code == 200, resp.text
    assert [text.hits[CHAT], eyes.hits[CHAT], hands.hits[CHAT]] == [1, 2, 1]
    assert eyes.requests[-1].json["messages"][0]["content"][1]["type"] == "image_url"


def test_without_a_tagged_member_every_member_is_eligible(gateway, upstream_factory):  # type: ignore[no-untyped-def]
    first, second = member_fakes(gateway, upstream_factory, ["first", "second"])
    add_group(gateway, "plain", [{"model_display_name": "first"}, {"model_display_name": "second"}])
    client = gateway.client(add_user(gateway))
    picture = [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": IMAGE}}]}]
    assert client.post(CHAT, json={"model": "plain", "messages": picture, "tools": [TOOL]}).status_code == 200
    assert (first.hits[CHAT], second.hits[CHAT]) == (1, 0)


def test_preferred_nodes_restrict_and_order_the_members_nodes(gateway, upstream_factory):  # type: ignore[no-untyped-def]
    fakes = [upstream_factory([FakeModel("m")]) for _ in range(3)]
    nodes = [
        add_node(gateway, f, name=f"n{i}", node_type="vllm", priority=10 - i) for i, f in enumerate(fakes)
    ]
    add_group(
        gateway,
        "pinned",
        [{"model_display_name": "m", "preferred_node_ids": [nodes[2]["id"], nodes[1]["id"]]}],
    )
    client = gateway.client(add_user(gateway))
    for _ in range(3):
        assert chat(client, "pinned").status_code == 200
    assert hits(fakes) == [0, 0, 3]
    fakes[2].fail_next("status", status=503)
    assert chat(client, "pinned").status_code == 200
    assert hits(fakes) == [0, 1, 4]
    # Without the group, the node-level strategy picks the highest-priority node.
    assert chat(client, "m").status_code == 200
    assert fakes[0].hits[CHAT] == 1


# -- failover ------------------------------------------------------------------------------------


def test_member_failover_on_5xx_429_and_reset(gateway, upstream_factory):  # type: ignore[no-untyped-def]
    primary, backup = member_fakes(gateway, upstream_factory, ["big", "small"])
    add_group(gateway, "duo", [{"model_display_name": "big"}, {"model_display_name": "small"}])
    client = gateway.client(add_user(gateway))
    for failure in (
        {"mode": "status", "status": 500},
        {"mode": "status", "status": 503},
        {"mode": "status", "status": 429},
        {"mode": "reset"},
    ):
        primary.fail_next(**failure)  # type: ignore[arg-type]
        resp = chat(client, "duo")
        assert resp.status_code == 200, (failure, resp.text)
        assert resp.json()["model"] == "duo"
    assert primary.hits[CHAT] == 4 and backup.hits[CHAT] == 4
    assert backup.requests[-1].json["model"] == "small"
    records = activity(gateway)
    assert {r["status_code"] for r in records} == {200}
    assert {r["real_model"] for r in records} == {"small"}


def test_after_a_round_robin_pick_fails_the_next_member_is_by_priority(gateway, upstream_factory):  # type: ignore[no-untyped-def]
    fakes = member_fakes(gateway, upstream_factory, ["m-a", "m-b", "m-c"])
    members = [{"model_display_name": m, "priority": p} for m, p in (("m-a", 0), ("m-b", 2), ("m-c", 1))]
    add_group(gateway, "ring", members, strategy="round_robin")
    client = gateway.client(add_user(gateway))
    fakes[0].fail_next("status", status=500)
    assert chat(client, "ring").status_code == 200  # turn of m-a (the ring is by member id)
    assert hits(fakes) == [1, 0, 1]  # then m-c (priority 1), not m-b (priority 2)
    fakes[1].fail_next("status", status=503)
    assert chat(client, "ring").status_code == 200  # turn of m-b
    assert hits(fakes) == [2, 1, 1]  # then m-a (priority 0)
    assert {r["real_model"] for r in activity(gateway)} == {"m-c", "m-a"}


def test_retries_stop_at_max_failover_retries(gateway, upstream_factory):  # type: ignore[no-untyped-def]
    fakes = member_fakes(gateway, upstream_factory, ["m1", "m2", "m3", "m4"])
    add_group(
        gateway, "many", [{"model_display_name": m} for m in ("m1", "m2", "m3", "m4")], max_failover_retries=1
    )
    for fake in fakes:
        fake.fail_next("status", status=500, times=10)
    client = gateway.client(add_user(gateway))
    resp = chat(client, "many")
    assert resp.status_code == 502
    assert resp.json()["error"]["type"] == "api_error"
    assert hits(fakes) == [1, 1, 0, 0]
    ollama = client.post("/api/chat", json={"model": "many", "messages": HELLO, "stream": False})
    assert ollama.status_code == 502 and isinstance(ollama.json()["error"], str)
    assert hits(fakes) == [2, 2, 0, 0]


# -- context-length fallback -----------------------------------------------------------------------


def _context_group(gateway, upstream_factory, node_type="vllm", **fields):  # type: ignore[no-untyped-def]
    fakes = member_fakes(gateway, upstream_factory, ["small", "same", "large"], node_type=node_type)
    add_group(
        gateway,
        "elastic",
        [
            {"model_display_name": "small", "context_length": "8K"},
            {"model_display_name": "same", "context_length": 8192},
            {"model_display_name": "large", "context_length": "32K"},
        ],
        **fields,
    )
    return fakes


def test_context_error_falls_to_a_larger_member_skipping_equal_ones(gateway, upstream_factory):  # type: ignore[no-untyped-def]
    small, same, large = _context_group(gateway, upstream_factory)
    client = gateway.client(add_user(gateway))
    small.fail_next("status", status=400, body=VLLM_CONTEXT_ERROR)
    resp = chat(client, "elastic")
    assert resp.status_code == 200, resp.text
    assert resp.json()["model"] == "elastic"
    assert (small.hits[CHAT], same.hits[CHAT], large.hits[CHAT]) == (1, 0, 1)

    small.fail_next("status", status=413, body="Request Entity Too Large")
    with client.stream("POST", CHAT, json={"model": "elastic", "messages": HELLO, "stream": True}) as s:
        text = s.read().decode()
    assert s.status_code == 200 and text.rstrip().endswith("data: [DONE]")
    assert (small.hits[CHAT], same.hits[CHAT], large.hits[CHAT]) == (2, 0, 2)


def test_context_fallback_reaches_beyond_the_members_the_strategy_picked(gateway, upstream_factory):  # type: ignore[no-untyped-def]
    small, same, large = _context_group(gateway, upstream_factory, max_failover_retries=1)
    client = gateway.client(add_user(gateway))
    small.fail_next("status", status=400, body=VLLM_CONTEXT_ERROR)
    assert chat(client, "elastic").status_code == 200
    assert (small.hits[CHAT], same.hits[CHAT], large.hits[CHAT]) == (1, 0, 1)


def test_context_error_in_ollama_words_and_status_500(gateway, upstream_factory):  # type: ignore[no-untyped-def]
    small, same, large = _context_group(gateway, upstream_factory, node_type="ollama")
    client = gateway.client(add_user(gateway))
    small.fail_next("status", status=400, body={"error": "the input length exceeds the context length"})
    resp = client.post("/api/chat", json={"model": "elastic", "messages": HELLO, "stream": False})
    assert resp.status_code == 200, resp.text
    assert resp.json()["model"] == "elastic"
    small.fail_next("status", status=500, body={"error": "input length exceeds maximum context length"})
    assert (
        client.post("/api/chat", json={"model": "elastic", "messages": HELLO, "stream": False}).status_code
        == 200
    )
    assert (small.hits["/api/chat"], same.hits["/api/chat"], large.hits["/api/chat"]) == (2, 0, 2)


def test_other_client_errors_and_the_largest_member_answer_as_they_are(gateway, upstream_factory):  # type: ignore[no-untyped-def]
    small, same, large = _context_group(gateway, upstream_factory)
    client = gateway.client(add_user(gateway))
    small.fail_next("status", status=400, body={"error": {"message": "temperature must be at most 2"}})
    resp = chat(client, "elastic")
    assert resp.status_code == 400 and resp.json()["error"]["message"] == "temperature must be at most 2"
    assert (same.hits[CHAT], large.hits[CHAT]) == (0, 0)
    # The largest member's own context error has nowhere larger to go: relayed as it is.
    small.fail_next("status", status=400, body=VLLM_CONTEXT_ERROR)
    large.fail_next("status", status=400, body=VLLM_CONTEXT_ERROR)
    resp = chat(client, "elastic")
    assert resp.status_code == 400
    assert "maximum context length" in resp.json()["error"]["message"]
    assert (small.hits[CHAT], same.hits[CHAT], large.hits[CHAT]) == (2, 0, 1)


# -- listings ----------------------------------------------------------------------------------------


def test_groups_in_listings_carry_their_first_members_context_and_capabilities(gateway, upstream_factory):  # type: ignore[no-untyped-def]
    fake = upstream_factory(
        [
            FakeModel(
                "qwen-real:7b",
                context_length=32768,
                family="qwen2",
                capabilities=["completion", "tools", "vision"],
            ),
            FakeModel("llama-real:8b", context_length=8192),
        ]
    )
    add_node(gateway, fake, name="n", node_type="ollama")
    add_mapping(gateway, "qwen", "qwen-real:7b", context_length="16K")
    add_group(
        gateway,
        "listed",
        [{"model_display_name": "qwen"}, {"model_display_name": "llama-real:8b"}],
        list_in_catalog=True,
    )
    add_group(
        gateway,
        "sized",
        [{"model_display_name": "llama-real:8b", "context_length": "4K"}],
        list_in_catalog=True,
    )
    add_group(gateway, "hidden", [{"model_display_name": "qwen"}])
    client = gateway.client(add_user(gateway))

    models = {m["id"]: m for m in client.get("/v1/models").json()["data"]}
    assert models["listed"]["max_model_len"] == 16384 and models["listed"]["owned_by"] == "model-maestro"
    assert models["sized"]["max_model_len"] == 4096
    assert "hidden" not in models
    tags = {m["name"]: m for m in client.get("/api/tags").json()["models"]}
    assert "listed" in tags and "hidden" not in tags
    assert tags["listed"]["details"]["family"] == "qwen2"

    shown = client.post("/api/show", json={"model": "listed"})
    assert shown.status_code == 200, shown.text
    info = shown.json()["model_info"]
    assert info[f"{info['general.architecture']}.context_length"] == 16384
    assert set(shown.json()["capabilities"]) == {"completion", "tools", "vision"}
    assert "qwen-real:7b" not in shown.text
    assert fake.requests[-1].json["model"] == "qwen-real:7b"
    # A hidden group still answers; it is only left out of listings.
    assert chat(client, "hidden").status_code == 200
