"""The real `anthropic` SDK against `/v1/messages`, in front of an Ollama and a vLLM node:
answers, streams (checked event by event against Anthropic's published order), tools and a
tool-result round trip, thinking, and the post-processing of the OpenAI routes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import anthropic
import httpx
import pytest

from tests.conftest import LiveGateway
from tests.fakes.upstream import FakeModel, FakeUpstream
from tests.support import add_mapping, add_node, add_user

REAL = "llama3:latest"
THINKER = "qwen-reason:latest"  # the fake's vLLM side reasons for names with "reason"
ANSWER = "w0 w1 w2 w3 w4 "
QUESTION = [{"role": "user", "content": "one two three"}]
WEATHER = {
    "name": "get_weather",
    "description": "Weather of a city",
    "input_schema": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]},
}


@dataclass
class Env:
    gw: LiveGateway
    fake: FakeUpstream
    token: str
    node_type: str

    def client(self, *, base: str = "", **kwargs: Any) -> anthropic.Anthropic:
        options: dict[str, Any] = {"api_key": self.token, **kwargs}
        return anthropic.Anthropic(base_url=self.gw.url + base, max_retries=0, timeout=10, **options)

    def sent(self) -> dict[str, Any]:
        path = "/api/chat" if self.node_type == "ollama" else "/v1/chat/completions"
        return [r for r in self.fake.requests if r.path == path][-1].json  # type: ignore[no-any-return]


@pytest.fixture(params=["ollama", "vllm"])
def env(request: pytest.FixtureRequest, gateway: LiveGateway, upstream_factory: Any) -> Env:
    fake = upstream_factory([FakeModel(REAL), FakeModel(THINKER, capabilities=["completion", "thinking"])])
    add_node(gateway, fake, name="node-1", node_type=request.param)
    add_mapping(gateway, "claude-sonnet", REAL)
    add_mapping(gateway, "claude-thinker", THINKER)
    return Env(gateway, fake, add_user(gateway), request.param)


def raw_events(env: Env, body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(event name, data) of every SSE event of a streamed answer, read off the wire."""
    headers = {"x-api-key": env.token, "anthropic-version": "2023-06-01"}
    resp = httpx.post(env.gw.url + "/v1/messages", json=dict(body, stream=True), headers=headers, timeout=10)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/event-stream")
    events = []
    for block in resp.text.split("\n\n"):
        if not block.strip():
            continue
        name_line, data_line = block.split("\n")
        assert name_line.startswith("event: ") and data_line.startswith("data: ")
        data = json.loads(data_line[6:])
        assert data["type"] == name_line[7:]
        events.append((name_line[7:], data))
    return events


def check_published_order(events: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Anthropic's order: message_start; per block start, deltas, stop (indexes 0, 1, ...);
    message_delta; message_stop; pings anywhere. Returns the blocks as they were opened."""
    names = [name for name, _ in events if name != "ping"]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    blocks: list[dict[str, Any]] = []
    open_index = None
    for name, data in events[1:-2]:
        if name == "content_block_start":
            assert open_index is None and data["index"] == len(blocks)
            open_index = data["index"]
            blocks.append(data["content_block"])
        elif name == "content_block_delta":
            assert data["index"] == open_index
        elif name == "content_block_stop":
            assert data["index"] == open_index
            open_index = None
        else:
            assert name == "ping", name
    assert open_index is None
    return blocks


def test_message_not_streamed(env: Env) -> None:
    message = env.client().messages.create(
        model="claude-sonnet",
        max_tokens=100,
        system=[{"type": "text", "text": "be brief"}],
        messages=QUESTION,  # type: ignore[arg-type]
        stop_sequences=["END"],
        metadata={"user_id": "someone"},
        # Sampling parameters left this SDK's signature; other clients still send them.
        extra_body={"temperature": 0.5, "top_k": 20},
    )
    assert message.id.startswith("msg_") and message.type == "message" and message.role == "assistant"
    assert message.model == "claude-sonnet"
    assert [block.type for block in message.content] == ["text"]
    assert message.content[0].text == ANSWER  # type: ignore[union-attr]
    assert message.stop_reason == "end_turn" and message.stop_sequence is None
    # The fake counts words: "be brief" + "one two three"; five pieces of answer.
    assert (message.usage.input_tokens, message.usage.output_tokens) == (5, 5)

    sent = env.sent()
    assert sent["messages"][0] == {"role": "system", "content": "be brief"}
    assert sent["messages"][1] == {"role": "user", "content": "one two three"}
    assert "metadata" not in sent
    if env.node_type == "ollama":
        assert sent["model"] == REAL and sent["stream"] is False
        assert sent["options"] == {"temperature": 0.5, "top_k": 20, "num_predict": 100, "stop": ["END"]}
    else:
        assert sent["model"] == REAL and sent["max_tokens"] == 100
        assert (sent["temperature"], sent["top_k"], sent["stop"]) == (0.5, 20, ["END"])


def test_message_streamed_in_published_order(env: Env) -> None:
    events = raw_events(env, {"model": "claude-sonnet", "max_tokens": 100, "messages": QUESTION})
    blocks = check_published_order(events)
    assert blocks == [{"type": "text", "text": ""}]
    start = events[0][1]["message"]
    assert start["model"] == "claude-sonnet" and start["content"] == [] and start["stop_reason"] is None
    assert start["id"].startswith("msg_")
    deltas = [data["delta"] for name, data in events if name == "content_block_delta"]
    assert all(delta["type"] == "text_delta" for delta in deltas)
    assert "".join(delta["text"] for delta in deltas) == ANSWER
    final = events[-2][1]
    assert final["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}
    assert (final["usage"]["input_tokens"], final["usage"]["output_tokens"]) == (3, 5)
    assert [name for name, _ in events].count("ping") == 1

    # The SDK's own accumulation agrees.
    with env.client().messages.stream(model="claude-sonnet", max_tokens=100, messages=QUESTION) as stream:  # type: ignore[arg-type]
        text = "".join(stream.text_stream)
        message = stream.get_final_message()
    assert text == ANSWER and message.content[0].text == ANSWER  # type: ignore[union-attr]
    assert (message.usage.input_tokens, message.usage.output_tokens) == (3, 5)
    assert message.stop_reason == "end_turn"


def test_max_tokens_reached(env: Env) -> None:
    message = env.client().messages.create(model="claude-sonnet", max_tokens=2, messages=QUESTION)  # type: ignore[arg-type]
    assert message.stop_reason == "max_tokens" and message.content[0].text == "w0 w1 "  # type: ignore[union-attr]
    events = raw_events(env, {"model": "claude-sonnet", "max_tokens": 2, "messages": QUESTION})
    assert events[-2][1]["delta"]["stop_reason"] == "max_tokens"


def test_tool_use_and_tool_result_round_trip(env: Env) -> None:
    client = env.client()
    question = [{"role": "user", "content": "weather in Paris"}]
    message = client.messages.create(
        model="claude-sonnet",
        max_tokens=100,
        messages=question,  # type: ignore[arg-type]
        tools=[WEATHER],  # type: ignore[list-item]
        tool_choice={"type": "any"},
    )
    assert message.stop_reason == "tool_use"
    (call,) = message.content
    assert call.type == "tool_use" and call.name == "get_weather" and call.id
    assert call.input == {"query": "weather in Paris"}
    sent = env.sent()
    (tool,) = sent["tools"]
    assert tool["function"]["name"] == "get_weather"
    assert tool["function"]["parameters"] == WEATHER["input_schema"]
    assert tool["function"]["description"] == "Weather of a city"
    if env.node_type == "vllm":
        assert sent["tool_choice"] == "required"

    # The result goes back; the model answers in text.
    env.fake.text_after_tool_result = True
    history = [
        *question,
        {"role": "assistant", "content": [block.model_dump() for block in message.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "sunny"}]},
    ]
    answer = client.messages.create(model="claude-sonnet", max_tokens=100, messages=history, tools=[WEATHER])  # type: ignore[arg-type, list-item]
    assert answer.stop_reason == "end_turn" and answer.content[0].text == ANSWER  # type: ignore[union-attr]
    sent = env.sent()
    assistant, result = sent["messages"][1], sent["messages"][2]
    assert assistant["role"] == "assistant"
    (sent_call,) = assistant["tool_calls"]
    assert sent_call["function"]["name"] == "get_weather"
    assert result["role"] == "tool" and result["content"] == "sunny"
    if env.node_type == "ollama":
        assert sent_call["function"]["arguments"] == {"query": "weather in Paris"}
        assert result["tool_name"] == "get_weather"
    else:
        assert sent_call["id"] == call.id and json.loads(sent_call["function"]["arguments"]) == call.input
        assert result["tool_call_id"] == call.id


def test_tool_calls_streamed_as_they_arrive(env: Env) -> None:
    env.fake.tool_script = [("get_weather", {"query": "Paris"}), ("get_weather", {"query": "Oslo"})]
    body = {"model": "claude-sonnet", "max_tokens": 100, "messages": QUESTION, "tools": [WEATHER]}
    events = raw_events(env, body)
    blocks = check_published_order(events)
    assert [(b["type"], b["name"], b["input"]) for b in blocks] == [("tool_use", "get_weather", {})] * 2
    assert blocks[0]["id"] != blocks[1]["id"]
    for index, city in enumerate(["Paris", "Oslo"]):
        pieces = [
            d["delta"]["partial_json"]
            for name, d in events
            if name == "content_block_delta" and d["index"] == index
        ]
        assert all(d["delta"]["type"] == "input_json_delta" for n, d in events if n == "content_block_delta")
        assert json.loads("".join(pieces)) == {"query": city}
        # vLLM streams each call's arguments in two fragments, relayed one for one; Ollama
        # sends whole calls.
        assert len(pieces) == (2 if env.node_type == "vllm" else 1)
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"

    with env.client().messages.stream(**body) as stream:  # type: ignore[arg-type]
        message = stream.get_final_message()
    assert [(b.type, b.input) for b in message.content] == [  # type: ignore[union-attr]
        ("tool_use", {"query": "Paris"}),
        ("tool_use", {"query": "Oslo"}),
    ]


def test_thinking(env: Env) -> None:
    body = {
        "model": "claude-thinker",
        "max_tokens": 4096,
        "messages": QUESTION,
        "thinking": {"type": "enabled", "budget_tokens": 2048},
    }
    message = env.client().messages.create(**body)  # type: ignore[arg-type]
    assert [block.type for block in message.content] == ["thinking", "text"]
    assert message.content[0].thinking == "thinking..."  # type: ignore[union-attr]
    assert message.content[1].text == ANSWER  # type: ignore[union-attr]
    sent = env.sent()
    if env.node_type == "ollama":
        assert sent["think"] is True
    else:
        assert sent["chat_template_kwargs"] == {"enable_thinking": True}

    events = raw_events(env, body)
    blocks = check_published_order(events)
    assert blocks == [{"type": "thinking", "thinking": "", "signature": ""}, {"type": "text", "text": ""}]
    thinking = [d["delta"] for n, d in events if n == "content_block_delta" and d["index"] == 0]
    assert thinking == [{"type": "thinking_delta", "thinking": "thinking..."}]


def test_think_tags_and_printed_tool_calls_are_parsed(env: Env) -> None:
    env.fake.script = ["<thi", "nk>pondering</think>", "Hello"]
    message = env.client().messages.create(model="claude-sonnet", max_tokens=50, messages=QUESTION)  # type: ignore[arg-type]
    assert [(b.type, getattr(b, "thinking", None) or getattr(b, "text", None)) for b in message.content] == [
        ("thinking", "pondering"),
        ("text", "Hello"),
    ]
    events = raw_events(env, {"model": "claude-sonnet", "max_tokens": 50, "messages": QUESTION})
    assert [b["type"] for b in check_published_order(events)] == ["thinking", "text"]

    printed = (
        "Let me look. <|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0"
        '<|tool_call_argument_begin|>{"query": "Paris"}<|tool_call_end|><|tool_calls_section_end|>'
    )
    env.fake.script = [printed[i : i + 7] for i in range(0, len(printed), 7)]
    body = {"model": "claude-sonnet", "max_tokens": 50, "messages": QUESTION}
    message = env.client().messages.create(**body)  # type: ignore[arg-type]
    assert message.stop_reason == "tool_use"
    text, call = message.content
    assert text.text.strip() == "Let me look."  # type: ignore[union-attr]
    assert (call.type, call.name, call.input) == ("tool_use", "get_weather", {"query": "Paris"})  # type: ignore[union-attr]
    events = raw_events(env, body)
    blocks = check_published_order(events)
    assert [b["type"] for b in blocks] == ["text", "tool_use"]
    streamed_text = "".join(d["delta"].get("text", "") for n, d in events if n == "content_block_delta")
    assert "<|tool_call" not in streamed_text
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"


def test_images_and_anthropic_base_url(env: Env) -> None:
    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    content = [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": png}},
        {"type": "text", "text": "what is this"},
    ]
    # Claude Code style: its own base URL and a bearer token.
    client = anthropic.Anthropic(
        base_url=env.gw.url + "/anthropic", auth_token=env.token, max_retries=0, timeout=10
    )
    message = client.messages.create(
        model="claude-sonnet",
        max_tokens=50,
        messages=[{"role": "user", "content": content}],  # type: ignore[list-item]
    )
    assert message.content[0].text.startswith("saw 1 images.")  # type: ignore[union-attr]
    user = env.sent()["messages"][0]
    if env.node_type == "ollama":
        assert user["images"] == [png] and user["content"] == "what is this"
    else:
        assert user["content"][0] == {
            "type": "image_url",
            "image_url": {"url": f"data:image/png;base64,{png}"},
        }


def test_prefill_continues_the_last_assistant_message(env: Env) -> None:
    messages = [*QUESTION, {"role": "assistant", "content": "Sure:"}]
    message = env.client().messages.create(model="claude-sonnet", max_tokens=50, messages=messages)  # type: ignore[arg-type]
    assert message.content[0].text == ANSWER  # type: ignore[union-attr]
    sent = env.sent()
    assert sent["messages"][-1] == {"role": "assistant", "content": "Sure:"}
    if env.node_type == "vllm":
        assert sent["continue_final_message"] is True and sent["add_generation_prompt"] is False
