"""Printed tool calls and <think> blocks become structured fields, in the client's dialect,
streamed and not, through the real gateway (SPEC §3.6)."""

from __future__ import annotations

import json

import pytest

from tests.support import add_node, add_user

KIMI = (
    "Let me look. <|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0"
    '<|tool_call_argument_begin|>{"city": "Paris"}<|tool_call_end|><|tool_calls_section_end|>'
)
DEEPSEEK = (
    '<tool_calls><invoke name="search"><parameter name="query">maestro</parameter>'
    '<parameter name="limit">3</parameter></invoke></tool_calls>'
)
MESSAGES = [{"role": "user", "content": "weather?"}]


def _split(text: str, size: int = 7) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


@pytest.fixture(params=["vllm", "ollama"])
def setup(request, gateway, upstream_factory):  # type: ignore[no-untyped-def]
    fake = upstream_factory(["m"])
    add_node(gateway, fake, name="n", node_type=request.param)
    return fake, gateway.client(add_user(gateway))


def _openai_stream(client, body):  # type: ignore[no-untyped-def]
    resp = client.post("/v1/chat/completions", json=dict(body, stream=True))
    assert resp.status_code == 200, resp.text
    return [json.loads(line[6:]) for line in resp.text.splitlines() if line.startswith("data: {")]


def test_printed_tool_calls_become_openai_tool_calls(setup):
    fake, client = setup
    fake.script = _split(KIMI)
    answer = client.post("/v1/chat/completions", json={"model": "m", "messages": MESSAGES}).json()
    choice = answer["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"].strip() == "Let me look."
    (call,) = choice["message"]["tool_calls"]
    assert call["function"]["name"] == "get_weather" and call["id"].startswith("call_")
    assert json.loads(call["function"]["arguments"]) == {"city": "Paris"}

    chunks = _openai_stream(client, {"model": "m", "messages": MESSAGES})
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c.get("choices"))
    calls = [
        tc for c in chunks if c.get("choices") for tc in c["choices"][0]["delta"].get("tool_calls") or []
    ]
    assert "<|tool_call" not in text and text.strip() == "Let me look."
    assert [tc["function"]["name"] for tc in calls] == ["get_weather"]
    assert json.loads(calls[0]["function"]["arguments"]) == {"city": "Paris"}
    finals = [
        c["choices"][0]["finish_reason"]
        for c in chunks
        if c.get("choices") and c["choices"][0].get("finish_reason")
    ]
    assert finals == ["tool_calls"]


def test_printed_tool_calls_become_ollama_tool_calls(setup):
    fake, client = setup
    fake.script = _split(DEEPSEEK, 5)
    answer = client.post("/api/chat", json={"model": "m", "messages": MESSAGES, "stream": False}).json()
    (call,) = answer["message"]["tool_calls"]
    assert call["function"]["name"] == "search"
    assert call["function"]["arguments"] == {"query": "maestro", "limit": 3}
    assert "<tool_calls>" not in answer["message"]["content"]

    resp = client.post("/api/chat", json={"model": "m", "messages": MESSAGES})
    lines = [json.loads(x) for x in resp.text.splitlines() if x.strip()]
    streamed = [tc for line in lines for tc in line.get("message", {}).get("tool_calls") or []]
    assert [tc["function"]["name"] for tc in streamed] == ["search"]
    assert "".join(line.get("message", {}).get("content", "") for line in lines).strip() == ""
    assert lines[-1]["done"] is True


def test_think_block_becomes_reasoning(setup):
    fake, client = setup
    fake.script = _split("<think>first, the plan</think>The answer.", 4)
    answer = client.post("/v1/chat/completions", json={"model": "m", "messages": MESSAGES}).json()
    message = answer["choices"][0]["message"]
    assert message["reasoning_content"] == "first, the plan" and message["content"] == "The answer."
    chunks = _openai_stream(client, {"model": "m", "messages": MESSAGES})
    reasoning = "".join(
        c["choices"][0]["delta"].get("reasoning_content") or "" for c in chunks if c.get("choices")
    )
    content = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c.get("choices"))
    assert (reasoning, content) == ("first, the plan", "The answer.")
    ollama = client.post("/api/chat", json={"model": "m", "messages": MESSAGES, "stream": False}).json()
    assert (
        ollama["message"]["thinking"] == "first, the plan" and ollama["message"]["content"] == "The answer."
    )


def test_fenced_examples_stay_text(setup):
    fake, client = setup
    text = "Example:\n```\n" + DEEPSEEK + "\n```\nDone."
    fake.script = _split(text, 3)
    message = client.post("/v1/chat/completions", json={"model": "m", "messages": MESSAGES}).json()[
        "choices"
    ][0]
    assert message["finish_reason"] == "stop" and not message["message"].get("tool_calls")
    assert message["message"]["content"] == text
