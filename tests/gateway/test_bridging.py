"""Dialect bridging (SPEC §2.3), both ways, through real sockets.

OpenAI client -> Ollama node: /v1/* is translated to /api/* and the answer back.
Ollama client -> vLLM node: /api/* is translated to /v1/* and the answer back.
What the node received is read from the fake's request log.
"""

from __future__ import annotations

import base64
import json
import struct
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import LiveGateway
from tests.fakes.upstream import FakeModel, FakeUpstream
from tests.support import activity, add_mapping, add_node, add_user

REAL = "llama3:latest"
REAL_EMBED = "nomic-embed-text:latest"
ANSWER = "w0 w1 w2 w3 w4 "
# A 1x1 PNG.
PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
OPENAI_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather in a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
]
OLLAMA_TOOLS = [{"type": "function", "function": dict(OPENAI_TOOLS[0]["function"])}]
QUESTION = [{"role": "user", "content": "weather in Paris"}]
SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}}


@dataclass
class Env:
    gw: LiveGateway
    fake: FakeUpstream
    client: httpx.Client

    def sent(self, path: str) -> Any:
        hits = [r for r in self.fake.requests if r.path == path]
        assert hits, f"the node got no {path} request; it got {[r.path for r in self.fake.requests]}"
        return hits[-1].json


def _env(gateway: LiveGateway, upstream_factory: Any, node_type: str) -> Env:
    fake = upstream_factory(
        [
            FakeModel(REAL, family="llama"),
            FakeModel(REAL_EMBED, family="nomic-bert", capabilities=["embedding"], embedding_dim=4),
        ]
    )
    add_node(gateway, fake, name=f"{node_type}-node", node_type=node_type)
    add_mapping(gateway, "chat-model", REAL)
    add_mapping(gateway, "embedder", REAL_EMBED)
    return Env(gateway, fake, gateway.client(add_user(gateway)))


@pytest.fixture
def to_ollama(gateway: LiveGateway, upstream_factory: Any) -> Env:
    """An OpenAI client in front of an Ollama node."""
    return _env(gateway, upstream_factory, "ollama")


@pytest.fixture
def to_vllm(gateway: LiveGateway, upstream_factory: Any) -> Env:
    """An Ollama client in front of a vLLM node."""
    return _env(gateway, upstream_factory, "vllm")


def sse(text: str) -> tuple[list[dict[str, Any]], bool]:
    """(JSON events, whether the stream ended with [DONE])."""
    events = [line[6:] for line in text.split("\n") if line.startswith("data: ")]
    done = bool(events) and events[-1] == "[DONE]"
    return [json.loads(e) for e in events if e != "[DONE]"], done


def ndjson(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.split("\n") if line.strip()]


# == OpenAI client -> Ollama node =========================================================


def test_openai_chat_to_ollama_node(to_ollama: Env) -> None:
    resp = to_ollama.client.post(
        "/v1/chat/completions",
        json={
            "model": "chat-model",
            "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": "one two three"},
            ],
            "temperature": 0.2,
            "top_p": 0.9,
            "max_tokens": 3,
            "stop": "END",
            "seed": 42,
            "response_format": {"type": "json_schema", "json_schema": {"name": "r", "schema": SCHEMA}},
        },
    )
    assert resp.status_code == 200, resp.text
    sent = to_ollama.sent("/api/chat")
    assert sent["model"] == REAL and sent["stream"] is False
    assert sent["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "one two three"},
    ]
    assert sent["options"] == {
        "temperature": 0.2,
        "top_p": 0.9,
        "num_predict": 3,
        "stop": ["END"],
        "seed": 42,
    }
    assert sent["format"] == SCHEMA
    body = resp.json()
    assert body["object"] == "chat.completion" and body["model"] == "chat-model"
    assert body["id"].startswith("chatcmpl-") and isinstance(body["created"], int)
    choice = body["choices"][0]
    assert choice["message"] == {"role": "assistant", "content": "w0 w1 w2 "}
    assert choice["finish_reason"] == "length"  # num_predict reached
    assert body["usage"] == {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}


def test_openai_chat_stream_to_ollama_node(to_ollama: Env) -> None:
    with to_ollama.client.stream(
        "POST",
        "/v1/chat/completions",
        json={
            "model": "chat-model",
            "messages": QUESTION,
            "stream": True,
            "stream_options": {"include_usage": True},
        },
    ) as s:
        assert s.status_code == 200, s.read()
        assert s.headers["content-type"].startswith("text/event-stream")
        text = s.read().decode()
    assert to_ollama.sent("/api/chat")["stream"] is True
    chunks, done = sse(text)
    assert done, text
    assert all(c["model"] == "chat-model" for c in chunks)
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert len({c["id"] for c in chunks}) == 1
    with_choices = [c for c in chunks if c["choices"]]
    assert with_choices[0]["choices"][0]["delta"].get("role") == "assistant"
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in with_choices) == ANSWER
    assert with_choices[-1]["choices"][0]["finish_reason"] == "stop"
    usage_chunk = chunks[-1]
    assert usage_chunk["choices"] == []
    assert usage_chunk["usage"] == {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8}
    assert REAL not in text

    # Without include_usage: no usage chunk, but the gateway still records the node's counts.
    with to_ollama.client.stream(
        "POST", "/v1/chat/completions", json={"model": "chat-model", "messages": QUESTION, "stream": True}
    ) as s:
        chunks, done = sse(s.read().decode())
    assert done and all(c["choices"] for c in chunks)
    records = activity(to_ollama.gw)
    assert len(records) == 2
    assert all((r["prompt_tokens"], r["completion_tokens"], r["estimated"]) == (3, 5, False) for r in records)


def test_openai_tools_and_tool_results_to_ollama_node(to_ollama: Env) -> None:
    resp = to_ollama.client.post(
        "/v1/chat/completions",
        json={"model": "chat-model", "messages": QUESTION, "tools": OPENAI_TOOLS, "tool_choice": "auto"},
    )
    assert resp.status_code == 200, resp.text
    sent = to_ollama.sent("/api/chat")
    assert [t["function"]["name"] for t in sent["tools"]] == ["get_weather"]
    assert sent["tools"][0]["function"]["parameters"] == OPENAI_TOOLS[0]["function"]["parameters"]
    choice = resp.json()["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    (call,) = choice["message"]["tool_calls"]
    assert call["type"] == "function" and call["id"]
    assert call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == {"query": "weather in Paris"}

    with to_ollama.client.stream(
        "POST",
        "/v1/chat/completions",
        json={"model": "chat-model", "messages": QUESTION, "tools": OPENAI_TOOLS, "stream": True},
    ) as s:
        chunks, done = sse(s.read().decode())
    assert done
    calls = [tc for c in chunks if c["choices"] for tc in c["choices"][0]["delta"].get("tool_calls") or []]
    assert len(calls) == 1
    call = calls[0]
    assert call["index"] == 0 and call["id"] and call["type"] == "function"
    assert call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == {"query": "weather in Paris"}
    finals = [
        c["choices"][0]["finish_reason"] for c in chunks if c["choices"] and c["choices"][0]["finish_reason"]
    ]
    assert finals == ["tool_calls"]

    # The tool's result goes back: OpenAI pairs it by call id, Ollama by tool name.
    history = [
        {"role": "user", "content": "weather in Paris"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_abc",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_abc", "content": "sunny"},
    ]
    resp = to_ollama.client.post("/v1/chat/completions", json={"model": "chat-model", "messages": history})
    assert resp.status_code == 200, resp.text
    sent = to_ollama.sent("/api/chat")["messages"]
    assert sent[1]["role"] == "assistant"
    assert sent[1]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert sent[1]["tool_calls"][0]["function"]["arguments"] == {"city": "Paris"}  # an object for Ollama
    assert sent[2]["role"] == "tool" and sent[2]["content"] == "sunny"
    assert sent[2]["tool_name"] == "get_weather"


def test_openai_reasoning_to_ollama_node(to_ollama: Env) -> None:
    resp = to_ollama.client.post(
        "/v1/chat/completions", json={"model": "chat-model", "messages": QUESTION, "reasoning_effort": "high"}
    )
    assert resp.status_code == 200, resp.text
    assert to_ollama.sent("/api/chat")["think"] == "high"
    message = resp.json()["choices"][0]["message"]
    assert message["reasoning_content"] == "thinking..." and message["content"] == ANSWER

    with to_ollama.client.stream(
        "POST",
        "/v1/chat/completions",
        json={"model": "chat-model", "messages": QUESTION, "reasoning_effort": "high", "stream": True},
    ) as s:
        chunks, done = sse(s.read().decode())
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert "".join(d.get("reasoning_content") or "" for d in deltas) == "thinking..."
    assert "".join(d.get("content") or "" for d in deltas) == ANSWER


def test_openai_image_to_ollama_node(to_ollama: Env) -> None:
    resp = to_ollama.client.post(
        "/v1/chat/completions",
        json={
            "model": "chat-model",
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "what is this"},
                        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_B64}"}},
                    ],
                }
            ],
        },
    )
    assert resp.status_code == 200, resp.text
    (message,) = to_ollama.sent("/api/chat")["messages"]
    assert message["content"] == "what is this"
    assert message["images"] == [PNG_B64]  # bare base64, as Ollama wants
    assert resp.json()["choices"][0]["message"]["content"].startswith("saw 1 images.")


def test_openai_completions_to_ollama_generate_streamed_and_not(to_ollama: Env) -> None:
    resp = to_ollama.client.post(
        "/v1/completions",
        json={"model": "chat-model", "prompt": "once upon", "max_tokens": 4, "temperature": 0.5, "seed": 7},
    )
    assert resp.status_code == 200, resp.text
    sent = to_ollama.sent("/api/generate")
    assert sent["model"] == REAL and sent["prompt"] == "once upon" and sent["stream"] is False
    assert sent["options"] == {"temperature": 0.5, "seed": 7, "num_predict": 4}
    body = resp.json()
    assert body["object"] == "text_completion" and body["model"] == "chat-model"
    assert body["choices"][0]["text"] == "w0 w1 w2 w3 " and body["choices"][0]["finish_reason"] == "length"
    assert body["usage"] == {"prompt_tokens": 2, "completion_tokens": 4, "total_tokens": 6}

    with to_ollama.client.stream(
        "POST",
        "/v1/completions",
        json={
            "model": "chat-model",
            "prompt": "once upon",
            "stream": True,
            "stream_options": {"include_usage": True},
        },
    ) as s:
        assert s.status_code == 200 and s.headers["content-type"].startswith("text/event-stream")
        chunks, done = sse(s.read().decode())
    assert done and to_ollama.sent("/api/generate")["stream"] is True
    assert all(c["model"] == "chat-model" and c["object"] == "text_completion" for c in chunks)
    assert "".join(c["choices"][0]["text"] for c in chunks if c["choices"]) == ANSWER
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 5


def test_openai_embeddings_to_ollama_embed(to_ollama: Env) -> None:
    resp = to_ollama.client.post(
        "/v1/embeddings", json={"model": "embedder", "input": ["alpha beta", "gamma"]}
    )
    assert resp.status_code == 200, resp.text
    sent = to_ollama.sent("/api/embed")
    assert sent["model"] == REAL_EMBED and sent["input"] == ["alpha beta", "gamma"]
    body = resp.json()
    assert body["object"] == "list" and body["model"] == "embedder"
    assert [d["index"] for d in body["data"]] == [0, 1]
    assert all(d["object"] == "embedding" and len(d["embedding"]) == 4 for d in body["data"])
    assert body["usage"]["prompt_tokens"] == 3

    # A client asking encoding_format=base64 gets base64 (little-endian float32), as from OpenAI.
    encoded = to_ollama.client.post(
        "/v1/embeddings",
        json={"model": "embedder", "input": ["alpha beta", "gamma"], "encoding_format": "base64"},
    )
    assert encoded.status_code == 200, encoded.text
    vector = encoded.json()["data"][0]["embedding"]
    assert isinstance(vector, str), vector
    assert list(struct.unpack("<4f", base64.b64decode(vector))) == pytest.approx(
        body["data"][0]["embedding"], rel=1e-6
    )


# == Ollama client -> vLLM node ===========================================================


def test_ollama_chat_stream_to_vllm_node(to_vllm: Env) -> None:
    with to_vllm.client.stream(
        "POST",
        "/api/chat",
        json={
            "model": "chat-model",
            "messages": [{"role": "user", "content": "one two three"}],
            "options": {"temperature": 0.3, "top_p": 0.8, "num_predict": 3, "stop": ["END"], "seed": 9},
        },
    ) as s:
        assert s.status_code == 200, s.read()
        assert s.headers["content-type"].startswith("application/x-ndjson")
        text = s.read().decode()
    sent = to_vllm.sent("/v1/chat/completions")
    assert sent["model"] == REAL and sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}
    assert (sent["temperature"], sent["top_p"], sent["max_tokens"], sent["stop"], sent["seed"]) == (
        0.3,
        0.8,
        3,
        ["END"],
        9,
    )
    assert "options" not in sent
    lines = ndjson(text)
    assert all(line["model"] == "chat-model" for line in lines)
    assert "".join(line["message"]["content"] for line in lines) == "w0 w1 w2 "
    final = lines[-1]
    assert final["done"] is True and final["done_reason"] == "length"
    assert final["prompt_eval_count"] == 3 and final["eval_count"] == 3
    assert REAL not in text


def test_ollama_chat_to_vllm_node_not_streamed(to_vllm: Env) -> None:
    resp = to_vllm.client.post(
        "/api/chat",
        json={
            "model": "chat-model",
            "messages": [{"role": "system", "content": "be brief"}, *QUESTION],
            "stream": False,
            "options": {"temperature": 0.1},
            "format": "json",
        },
    )
    assert resp.status_code == 200, resp.text
    sent = to_vllm.sent("/v1/chat/completions")
    assert sent["stream"] is False and "stream_options" not in sent
    assert sent["messages"] == [{"role": "system", "content": "be brief"}, *QUESTION]
    assert sent["temperature"] == 0.1
    assert sent["response_format"] == {"type": "json_object"}
    body = resp.json()
    assert body["model"] == "chat-model" and body["done"] is True and body["done_reason"] == "stop"
    assert body["message"]["role"] == "assistant" and body["message"]["content"] == ANSWER
    assert body["prompt_eval_count"] == 5 and body["eval_count"] == 5
    assert isinstance(body["created_at"], str) and body["created_at"].endswith("Z")


def test_ollama_tools_and_tool_results_to_vllm_node(to_vllm: Env) -> None:
    resp = to_vllm.client.post(
        "/api/chat",
        json={"model": "chat-model", "messages": QUESTION, "tools": OLLAMA_TOOLS, "stream": False},
    )
    assert resp.status_code == 200, resp.text
    sent = to_vllm.sent("/v1/chat/completions")
    assert sent["tools"][0]["type"] == "function"
    assert sent["tools"][0]["function"]["name"] == "get_weather"
    message = resp.json()["message"]
    (call,) = message["tool_calls"]
    assert call["function"]["name"] == "get_weather"
    assert call["function"]["arguments"] == {"query": "weather in Paris"}  # an object, not JSON text

    with to_vllm.client.stream(
        "POST", "/api/chat", json={"model": "chat-model", "messages": QUESTION, "tools": OLLAMA_TOOLS}
    ) as s:
        lines = ndjson(s.read().decode())
    calls = [c for line in lines for c in line["message"].get("tool_calls") or []]
    assert len(calls) == 1, lines  # fragments gathered into one whole call
    assert calls[0]["function"]["name"] == "get_weather"
    assert calls[0]["function"]["arguments"] == {"query": "weather in Paris"}
    assert lines[-1]["done"] is True and lines[-1]["eval_count"] is not None
    assert all(line["model"] == "chat-model" for line in lines)

    # The tool's result goes back: Ollama names the tool, OpenAI wants the call's id.
    history = [
        {"role": "user", "content": "weather in Paris"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}],
        },
        {"role": "tool", "content": "sunny", "tool_name": "get_weather"},
    ]
    resp = to_vllm.client.post(
        "/api/chat", json={"model": "chat-model", "messages": history, "stream": False}
    )
    assert resp.status_code == 200, resp.text
    sent = to_vllm.sent("/v1/chat/completions")["messages"]
    (call,) = sent[1]["tool_calls"]
    assert call["type"] == "function" and call["id"]
    assert json.loads(call["function"]["arguments"]) == {"city": "Paris"}  # JSON text for OpenAI
    assert sent[2]["role"] == "tool" and sent[2]["tool_call_id"] == call["id"]


def test_ollama_images_to_vllm_node(to_vllm: Env) -> None:
    resp = to_vllm.client.post(
        "/api/chat",
        json={
            "model": "chat-model",
            "stream": False,
            "messages": [{"role": "user", "content": "what is this", "images": [PNG_B64]}],
        },
    )
    assert resp.status_code == 200, resp.text
    (message,) = to_vllm.sent("/v1/chat/completions")["messages"]
    parts = message["content"]
    assert {"type": "text", "text": "what is this"} in parts
    images = [p["image_url"]["url"] for p in parts if p["type"] == "image_url"]
    assert images == [f"data:image/png;base64,{PNG_B64}"]
    assert resp.json()["message"]["content"].startswith("saw 1 images.")


def test_ollama_generate_to_vllm_completions_streamed_and_not(to_vllm: Env) -> None:
    resp = to_vllm.client.post(
        "/api/generate",
        json={
            "model": "chat-model",
            "prompt": "once upon",
            "system": "you tell tales",
            "stream": False,
            "options": {"num_predict": 2, "temperature": 0.4, "stop": ["."], "seed": 3},
        },
    )
    assert resp.status_code == 200, resp.text
    sent = to_vllm.sent("/v1/completions")
    assert sent["model"] == REAL and sent["stream"] is False
    assert sent["prompt"].startswith("you tell tales") and sent["prompt"].endswith("once upon")
    assert (sent["max_tokens"], sent["temperature"], sent["stop"], sent["seed"]) == (2, 0.4, ["."], 3)
    body = resp.json()
    assert body["model"] == "chat-model" and body["response"] == "w0 w1 "
    assert body["done"] is True and body["done_reason"] == "length" and body["eval_count"] == 2

    with to_vllm.client.stream(
        "POST", "/api/generate", json={"model": "chat-model", "prompt": "once upon"}
    ) as s:
        assert s.headers["content-type"].startswith("application/x-ndjson")
        lines = ndjson(s.read().decode())
    sent = to_vllm.sent("/v1/completions")
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    assert "".join(line["response"] for line in lines) == ANSWER
    assert lines[-1]["done"] is True
    assert lines[-1]["prompt_eval_count"] == 2 and lines[-1]["eval_count"] == 5
    assert all(line["model"] == "chat-model" for line in lines)


def test_ollama_embed_to_vllm_embeddings(to_vllm: Env) -> None:
    resp = to_vllm.client.post("/api/embed", json={"model": "embedder", "input": ["alpha beta", "gamma"]})
    assert resp.status_code == 200, resp.text
    sent = to_vllm.sent("/v1/embeddings")
    assert sent["model"] == REAL_EMBED and sent["input"] == ["alpha beta", "gamma"]
    assert sent["encoding_format"] == "float"
    body = resp.json()
    assert body["model"] == "embedder" and len(body["embeddings"]) == 2
    assert all(len(v) == 4 for v in body["embeddings"]) and body["prompt_eval_count"] == 3

    legacy = to_vllm.client.post("/api/embeddings", json={"model": "embedder", "prompt": "alpha beta"})
    assert legacy.status_code == 200, legacy.text
    assert legacy.json() == {"embedding": body["embeddings"][0]}
    assert to_vllm.sent("/v1/embeddings")["input"] == "alpha beta"
