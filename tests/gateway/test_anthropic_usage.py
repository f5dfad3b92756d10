"""The Anthropic routes go through the gateway's pipeline like the OpenAI ones: activity
records with real counts and the client's source, the usage ledger, model config, system
prompts, groups; plus count_tokens and the Anthropic model listing."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import httpx
import pytest

from maestro_app.providers.tokens import estimate_tokens
from tests.conftest import LiveGateway
from tests.fakes.upstream import FakeModel, FakeUpstream
from tests.support import activity, add_mapping, add_node, add_user

QUESTION = [{"role": "user", "content": "one two three"}]
BODY = {"model": "claude-sonnet", "max_tokens": 50, "messages": QUESTION}
CLAUDE_CODE = {
    "user-agent": "claude-cli/2.0.14 (external, cli)",
    "x-app": "cli",
    "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14",
    "x-stainless-lang": "js",
    "anthropic-dangerous-direct-browser-access": "true",
}


def tool(name: str) -> dict[str, Any]:
    return {"name": name, "input_schema": {"type": "object", "properties": {}}}


def sdk(gw: LiveGateway, token: str, **kwargs: Any) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=gw.url, api_key=token, max_retries=0, timeout=10, **kwargs)


@pytest.fixture(params=["ollama", "vllm"])
def node_type(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def node(gateway: LiveGateway, upstream_factory: Any, node_type: str) -> FakeUpstream:
    fake: FakeUpstream = upstream_factory(
        [FakeModel("llama3:latest"), FakeModel("mistral:latest"), FakeModel("phi3:latest")]
    )
    add_node(gateway, fake, name="gpu-a", code="a", node_type=node_type)
    add_mapping(gateway, "claude-sonnet", "llama3:latest")
    add_mapping(gateway, "claude-haiku", "mistral:latest")
    return fake


def sent(fake: FakeUpstream) -> dict[str, Any]:
    return [r for r in fake.requests if r.path in ("/api/chat", "/v1/chat/completions")][-1].json  # type: ignore[no-any-return]


def test_activity_records_real_counts_and_source(gateway: LiveGateway, node: FakeUpstream) -> None:
    client = sdk(gateway, add_user(gateway))
    client.messages.create(**BODY)  # type: ignore[arg-type]
    with client.messages.stream(**BODY) as stream:  # type: ignore[arg-type]
        stream.get_final_message()
    claude_code = sdk(gateway, "unused", default_headers=CLAUDE_CODE)
    claude_code.api_key = None
    claude_code.auth_token = client.api_key  # Claude Code with ANTHROPIC_AUTH_TOKEN: a bearer token
    # Claude Code asks `/v1/messages?beta=true`.
    claude_code.messages.create(**{**BODY, "model": "claude-haiku"}, extra_query={"beta": "true"})  # type: ignore[arg-type]

    records = sorted(activity(gateway), key=lambda r: r["created_at"])
    assert [r["endpoint"] for r in records] == ["/v1/messages"] * 3
    assert [r["source"] for r in records] == ["anthropic-sdk", "anthropic-sdk", "claude-code"]
    assert [r["model"] for r in records] == ["claude-sonnet", "claude-sonnet", "claude-haiku"]
    assert [r["real_model"] for r in records] == ["llama3:latest", "llama3:latest", "mistral:latest"]
    for record in records:
        assert record["status_code"] == 200 and record["estimated"] is False
        assert (record["prompt_tokens"], record["completion_tokens"], record["total_tokens"]) == (3, 5, 8)
        assert record["node"] == "gpu-a" and record["username"] == "alice"
    assert [r["stream"] for r in records] == [False, True, False]

    totals = gateway.admin.get("/admin/users/alice/usage").json()["totals"]
    assert (totals["requests"], totals["prompt_tokens"], totals["completion_tokens"]) == (3, 9, 15)


def test_token_limit_counts_real_usage(gateway: LiveGateway, node: FakeUpstream) -> None:
    client = sdk(gateway, add_user(gateway, token_limit=16))
    client.messages.create(**BODY)  # type: ignore[arg-type]
    client.messages.create(**BODY)  # type: ignore[arg-type]  (8 + 8 = the limit)
    with pytest.raises(anthropic.RateLimitError):
        client.messages.create(**BODY)  # type: ignore[arg-type]


def test_count_tokens(gateway: LiveGateway, node: FakeUpstream) -> None:
    client = sdk(gateway, add_user(gateway))
    system = "You are terse."  # 14 characters
    question = [{"role": "user", "content": [{"type": "text", "text": "one two three"}]}]  # 13
    counted = client.messages.count_tokens(model="claude-sonnet", system=system, messages=question)  # type: ignore[arg-type]
    assert counted.input_tokens == estimate_tokens(14 + 13) == 7
    # Tool definitions and tool calls count as the text the model reads.
    with_tools = client.messages.count_tokens(
        model="claude-sonnet",
        system=system,
        messages=[
            *question,
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "t1", "name": "look", "input": {"q": "x"}}],
            },
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "found it"}],
            },
        ],
        tools=[tool("look")],  # type: ignore[list-item]
    )
    tools_json = len(
        json.dumps(
            [{"type": "function", "function": {"name": "look", "parameters": tool("look")["input_schema"]}}],
            separators=(",", ":"),
        )
    )
    expected = 14 + 13 + len("look") + len('{"q":"x"}') + len("found it") + tools_json
    assert with_tools.input_tokens == estimate_tokens(expected)
    raw = httpx.post(
        gateway.url + "/anthropic/v1/messages/count_tokens",
        json={"model": "claude-sonnet", "messages": QUESTION},
        headers={"x-api-key": client.api_key or ""},
    )
    assert raw.status_code == 200 and raw.json() == {"input_tokens": estimate_tokens(13)}
    # Free and local: no node asked, nothing recorded.
    assert node.hits["/api/chat"] + node.hits["/v1/chat/completions"] == 0
    assert activity(gateway) == []


def test_model_listing(gateway: LiveGateway, node: FakeUpstream) -> None:
    token = add_user(gateway, all_models=False, allowed_models=["claude-sonnet", "claude-haiku", "phi3"])
    client = sdk(gateway, token)
    models = list(client.models.list())
    # Display names only: the mapped real names are not listed; llama3 would not be allowed.
    assert [m.id for m in models] == ["claude-haiku", "claude-sonnet", "phi3:latest"]
    assert all(m.type == "model" and m.display_name == m.id and m.created_at for m in models)
    # Pages of one, followed by the SDK through has_more / last_id.
    paged = client.models.list(limit=1)
    assert len(paged.data) == 1 and paged.has_more and paged.last_id == "claude-haiku"
    assert [m.id for m in paged] == [m.id for m in models]
    before = client.models.list(before_id="phi3:latest", limit=1)
    assert [m.id for m in before.data] == ["claude-sonnet"] and before.has_more
    assert client.models.retrieve("claude-sonnet").display_name == "claude-sonnet"

    # /anthropic/v1/models always answers Anthropic's shape; /v1/models only when asked.
    under = anthropic.Anthropic(base_url=gateway.url + "/anthropic", api_key=token, max_retries=0)
    assert [m.id for m in under.models.list()] == [m.id for m in models]
    openai_shape = httpx.get(gateway.url + "/v1/models", headers={"Authorization": f"Bearer {token}"}).json()
    assert openai_shape["object"] == "list" and openai_shape["data"][0]["object"] == "model"
    one = httpx.get(gateway.url + "/v1/models/claude-sonnet", headers={"Authorization": f"Bearer {token}"})
    assert one.status_code == 200 and one.json()["object"] == "model" and one.json()["id"] == "claude-sonnet"
    for limit in ("0", "³", "x"):  # "³".isdigit() is true, and int("³") fails
        bad = httpx.get(gateway.url + f"/anthropic/v1/models?limit={limit}", headers={"x-api-key": token})
        assert bad.status_code == 400 and bad.json()["error"]["type"] == "invalid_request_error"


def test_model_config_and_system_prompts_apply(
    gateway: LiveGateway, node: FakeUpstream, node_type: str
) -> None:
    config = {"model_prefix": "claude", "allowed_tools": ["read"], "unsupported_params": ["top_k"]}
    assert gateway.admin.post("/admin/model-config", json=config).status_code == 201
    prompt = {"scope_type": "user", "scope_value": "alice", "prompt": "HOUSE RULES"}
    assert gateway.admin.post("/admin/system-prompts", json=prompt).status_code == 201
    client = sdk(gateway, add_user(gateway))
    client.messages.create(
        **BODY,  # type: ignore[arg-type]
        system="Be brief.",
        tools=[tool("read"), tool("delete_everything")],  # type: ignore[list-item]
        tool_choice={"type": "tool", "name": "delete_everything"},
        extra_body={"top_k": 5, "top_p": 0.9},
    )
    body = sent(node)
    assert [t["function"]["name"] for t in body["tools"]] == ["read"]
    assert body["messages"][0] == {"role": "system", "content": "HOUSE RULES\n\nBe brief."}
    if node_type == "vllm":
        assert body["tool_choice"] == "auto" and "top_k" not in body and body["top_p"] == 0.9
    else:
        assert "top_k" not in body["options"] and body["options"]["top_p"] == 0.9


def test_groups_and_thinking_by_capability(
    gateway: LiveGateway, upstream_factory: Any, node_type: str
) -> None:
    fake: FakeUpstream = upstream_factory(
        [
            FakeModel("llama3:latest"),
            FakeModel("qwen3:latest", capabilities=["completion", "tools", "thinking"]),
        ]
    )
    add_node(gateway, fake, name="gpu-a", node_type=node_type)
    assert gateway.admin.post("/admin/model-groups", json={"name": "claude-opus"}).status_code == 201
    member = {"model_display_name": "qwen3:latest", "capability_tags": ["tools"]}
    assert gateway.admin.post("/admin/model-groups/claude-opus/members", json=member).status_code == 201
    client = sdk(gateway, add_user(gateway))
    thinking = {"type": "enabled", "budget_tokens": 1024}

    message = client.messages.create(**{**BODY, "model": "claude-opus"}, thinking=thinking)  # type: ignore[arg-type]
    assert message.model == "claude-opus"
    assert sent(fake)["model"] == "qwen3:latest"
    client.messages.create(**{**BODY, "model": "llama3"}, thinking=thinking)  # type: ignore[arg-type]
    body = sent(fake)
    if node_type == "ollama":
        # Ollama refuses `think` for a model that cannot think: it is not sent there.
        assert fake.requests[-2].json["think"] is True and "think" not in body
    else:
        assert body["chat_template_kwargs"] == {"enable_thinking": True}
    records = activity(gateway)
    assert {r["model"] for r in records} == {"claude-opus", "llama3"}


def test_images_need_a_vision_member(gateway: LiveGateway, upstream_factory: Any, node_type: str) -> None:
    fake: FakeUpstream = upstream_factory([FakeModel("llama3:latest"), FakeModel("llava:latest")])
    add_node(gateway, fake, name="gpu-a", node_type=node_type)
    assert (
        gateway.admin.post(
            "/admin/model-groups", json={"name": "claude-any", "strategy": "priority"}
        ).status_code
        == 201
    )
    for name, priority, tags in (("llama3:latest", 1, []), ("llava:latest", 2, ["vision"])):
        member = {"model_display_name": name, "priority": priority, "capability_tags": tags}
        assert gateway.admin.post("/admin/model-groups/claude-any/members", json=member).status_code == 201
    client = sdk(gateway, add_user(gateway))
    client.messages.create(**{**BODY, "model": "claude-any"})  # type: ignore[arg-type]
    assert sent(fake)["model"] == "llama3:latest"
    image = {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.png"}}
    content = [image, {"type": "text", "text": "what is it"}]
    client.messages.create(
        **{**BODY, "model": "claude-any", "messages": [{"role": "user", "content": content}]}
    )  # type: ignore[arg-type]
    assert sent(fake)["model"] == "llava:latest"


def test_token_in_the_base_path(gateway: LiveGateway, node: FakeUpstream) -> None:
    token = add_user(gateway)
    # For clients that cannot set a header: the token in the base URL wins over any key sent.
    client = anthropic.Anthropic(
        base_url=f"{gateway.url}/t/{token}/anthropic", api_key="placeholder", max_retries=0, timeout=10
    )
    assert client.messages.create(**BODY).content[0].text == "w0 w1 w2 w3 w4 "  # type: ignore[arg-type, union-attr]
    assert [m.id for m in client.models.list()][:2] == ["claude-haiku", "claude-sonnet"]
