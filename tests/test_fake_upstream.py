"""Tests of the fake LLM upstream (tests/fakes/upstream.py) used by the gateway tests."""

from __future__ import annotations

import base64
import json
import os
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

try:
    from tests.fakes.upstream import FakeModel, FakeUpstream
except ModuleNotFoundError:  # pytest put tests/ (not the project root) on sys.path
    from fakes.upstream import FakeModel, FakeUpstream

ROOT = Path(__file__).resolve().parents[1]

MODELS = [
    FakeModel("llama3:latest"),
    FakeModel("Qwen/Qwen2.5-7B", context_length=32768, family="qwen2"),
    FakeModel("deep-reason:1b", family="qwen3", capabilities=["completion", "thinking"]),
    FakeModel(
        "nomic-embed-text:latest",
        family="nomic-bert",
        capabilities=["embedding"],
        embedding_dim=4,
    ),
]
USER = [{"role": "user", "content": "tell me a joke"}]
TOOLS = [
    {
        "type": "function",
        "function": {"name": "search", "parameters": {"type": "object"}},
    }
]


@pytest.fixture
def up() -> Iterator[FakeUpstream]:
    with FakeUpstream(list(MODELS)) as upstream:
        yield upstream


@pytest.fixture
def client(up: FakeUpstream) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=up.url, timeout=5) as c:
        yield c


def ndjson(resp: httpx.Response) -> list[dict[str, Any]]:
    return [json.loads(line) for line in resp.text.splitlines() if line]


def sse(resp: httpx.Response) -> list[Any]:
    events = [block for block in resp.text.split("\n\n") if block]
    assert all(e.startswith("data: ") for e in events)
    return [e[6:] if e == "data: [DONE]" else json.loads(e[6:]) for e in events]


# --------------------------------------------------------------------------- lifecycle


def test_start_stop_binds_loopback_and_leaves_no_thread() -> None:
    before = threading.active_count()
    upstream = FakeUpstream(["m"]).start()
    assert upstream.url.startswith("http://127.0.0.1:")
    assert httpx.get(f"{upstream.url}/health").status_code == 200
    upstream.stop()
    upstream.stop()  # idempotent
    assert threading.active_count() == before
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{upstream.url}/health", timeout=1)
    with pytest.raises(ValueError):
        FakeUpstream(host="0.0.0.0")


def test_run_as_process() -> None:
    argv = [
        sys.executable,
        "-m",
        "tests.fakes.upstream",
        "--port",
        "0",
        "--chunks",
        "3",
        "--models",
        "m1,m2",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen(
        argv,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline().strip()
            assert line.startswith("listening on http://127.0.0.1:")
            url = line.removeprefix("listening on ")
            models = httpx.get(f"{url}/v1/models").json()["data"]
            assert [m["id"] for m in models] == ["m1", "m2"]
            r = httpx.post(
                f"{url}/api/generate",
                json={"model": "m1", "prompt": "hi", "stream": False},
            )
            assert r.json()["response"] == "w0 w1 w2 "
        finally:
            proc.terminate()
            _, stderr = proc.communicate(timeout=10)
        assert proc.returncode == 0
        assert stderr == ""


# --------------------------------------------------------------------------- Ollama shapes


def test_ollama_probes(client: httpx.Client) -> None:
    assert client.get("/api/version").json() == {"version": "0.12.0"}
    tags = client.get("/api/tags").json()["models"]
    assert [m["name"] for m in tags] == [m.name for m in MODELS]
    first = tags[0]
    assert first["model"] == "llama3:latest"
    assert {"modified_at", "size", "digest"} <= set(first)
    assert first["details"]["family"] == "llama"
    assert {"parameter_size", "quantization_level", "format"} <= set(first["details"])
    assert client.get("/api/ps").json() == {"models": []}
    client.post("/api/generate", json={"model": "llama3", "prompt": "hi", "stream": False})
    ps = client.get("/api/ps").json()["models"]
    assert [m["name"] for m in ps] == ["llama3"]
    assert {"model", "size", "digest", "details", "expires_at", "size_vram"} <= set(ps[0])


def test_ollama_show(client: httpx.Client) -> None:
    body = client.post("/api/show", json={"model": "Qwen/Qwen2.5-7B"}).json()
    assert {
        "modelfile",
        "parameters",
        "template",
        "details",
        "model_info",
        "capabilities",
    } <= set(body)
    assert body["model_info"]["general.architecture"] == "qwen2"
    assert body["model_info"]["qwen2.context_length"] == 32768
    assert body["capabilities"] == ["completion"]
    r = client.post("/api/show", json={"model": "nope"})
    assert r.status_code == 404
    assert r.json() == {"error": "model 'nope' not found"}


def test_ollama_chat_non_stream(client: httpx.Client) -> None:
    r = client.post("/api/chat", json={"model": "llama3:latest", "messages": USER, "stream": False})
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["model"] == "llama3:latest"
    assert body["message"] == {"role": "assistant", "content": "w0 w1 w2 w3 w4 "}
    assert body["done"] is True
    assert body["done_reason"] == "stop"
    assert body["prompt_eval_count"] == 4
    assert body["eval_count"] == 5
    for key in (
        "total_duration",
        "load_duration",
        "prompt_eval_duration",
        "eval_duration",
        "created_at",
    ):
        assert key in body


def test_ollama_chat_stream(client: httpx.Client) -> None:
    r = client.post("/api/chat", json={"model": "llama3", "messages": USER})
    assert r.headers["content-type"] == "application/x-ndjson"
    lines = ndjson(r)
    assert len(lines) == 6
    assert all(not line["done"] for line in lines[:-1])
    assert "".join(line["message"]["content"] for line in lines) == "w0 w1 w2 w3 w4 "
    assert all(line["model"] == "llama3" for line in lines)
    last = lines[-1]
    assert last["done"] is True and last["done_reason"] == "stop"
    assert last["eval_count"] == 5 and last["prompt_eval_count"] == 4
    for key in (
        "total_duration",
        "load_duration",
        "prompt_eval_duration",
        "eval_duration",
    ):
        assert isinstance(last[key], int)


def test_ollama_generate(client: httpx.Client) -> None:
    lines = ndjson(client.post("/api/generate", json={"model": "llama3", "prompt": "one two three"}))
    assert "".join(line["response"] for line in lines) == "w0 w1 w2 w3 w4 "
    assert lines[-1]["done"] is True and lines[-1]["prompt_eval_count"] == 3
    body = client.post(
        "/api/generate",
        json={
            "model": "llama3",
            "prompt": "x",
            "stream": False,
            "images": ["aGk=", "aGk="],
        },
    ).json()
    assert body["response"] == "saw 2 images. w0 w1 w2 w3 w4 "
    assert body["done_reason"] == "stop" and body["eval_count"] == 5


def test_ollama_images_and_thinking(client: httpx.Client) -> None:
    messages = [{"role": "user", "content": "what is it", "images": ["aGk="]}]
    lines = ndjson(client.post("/api/chat", json={"model": "llama3", "messages": messages, "think": True}))
    assert lines[0]["message"]["thinking"] == "thinking..."
    assert "".join(line["message"]["content"] for line in lines) == "saw 1 images. w0 w1 w2 w3 w4 "
    body = client.post(
        "/api/chat",
        json={"model": "llama3", "messages": messages, "think": True, "stream": False},
    )
    assert body.json()["message"]["thinking"] == "thinking..."


def test_ollama_tool_calls(client: httpx.Client) -> None:
    req = {"model": "llama3", "messages": USER, "tools": TOOLS}
    body = client.post("/api/chat", json={**req, "stream": False}).json()
    assert body["message"]["tool_calls"] == [
        {"function": {"name": "search", "arguments": {"query": "tell me a joke"}}}
    ]
    lines = ndjson(client.post("/api/chat", json=req))
    assert len(lines) == 2
    assert lines[0]["message"]["tool_calls"][0]["function"]["arguments"] == {"query": "tell me a joke"}
    assert lines[1]["done"] is True


def test_ollama_embeddings(client: httpx.Client) -> None:
    one = client.post("/api/embed", json={"model": "nomic-embed-text", "input": "hello world"}).json()
    assert one["model"] == "nomic-embed-text"
    assert len(one["embeddings"]) == 1 and len(one["embeddings"][0]) == 4
    assert one["prompt_eval_count"] == 2
    many = client.post("/api/embed", json={"model": "nomic-embed-text", "input": ["hello world", "b"]}).json()
    assert len(many["embeddings"]) == 2
    assert many["embeddings"][0] == one["embeddings"][0]  # deterministic
    assert many["embeddings"][1] != one["embeddings"][0]
    legacy = client.post(
        "/api/embeddings", json={"model": "nomic-embed-text", "prompt": "hello world"}
    ).json()
    assert legacy == {"embedding": one["embeddings"][0]}


def test_ollama_model_management(client: httpx.Client, up: FakeUpstream) -> None:
    statuses = [line["status"] for line in ndjson(client.post("/api/pull", json={"model": "new:1b"}))]
    assert statuses[0] == "pulling manifest" and statuses[-1] == "success"
    assert "new:1b" in [m["name"] for m in client.get("/api/tags").json()["models"]]
    assert client.post("/api/pull", json={"model": "other", "stream": False}).json() == {"status": "success"}
    push = ndjson(client.post("/api/push", json={"model": "new:1b"}))
    assert push[-1] == {"status": "success"}
    assert client.post("/api/push", json={"model": "ghost", "stream": False}).status_code == 404
    create = ndjson(client.post("/api/create", json={"model": "mine", "from": "llama3"}))
    assert create[-1] == {"status": "success"}
    assert client.post("/api/copy", json={"source": "mine", "destination": "mine2"}).status_code == 200
    assert client.post("/api/copy", json={"source": "ghost", "destination": "x"}).status_code == 404
    assert client.request("DELETE", "/api/delete", json={"model": "mine2"}).status_code == 200
    r = client.request("DELETE", "/api/delete", json={"model": "mine2"})
    assert r.status_code == 404 and r.json() == {"error": "model 'mine2' not found"}
    assert {m.name for m in up.models} >= {"new:1b", "other", "mine"}


# --------------------------------------------------------------------------- OpenAI shapes


def test_openai_models_and_health(client: httpx.Client) -> None:
    r = client.get("/health")
    assert r.status_code == 200 and r.content == b""
    body = client.get("/v1/models").json()
    assert body["object"] == "list"
    entry = body["data"][1]
    assert entry["id"] == "Qwen/Qwen2.5-7B" and entry["object"] == "model"
    assert entry["max_model_len"] == 32768
    assert {"created", "owned_by"} <= set(entry)


def test_openai_chat_non_stream(client: httpx.Client) -> None:
    body = client.post("/v1/chat/completions", json={"model": "Qwen/Qwen2.5-7B", "messages": USER}).json()
    assert body["object"] == "chat.completion" and body["model"] == "Qwen/Qwen2.5-7B"
    choice = body["choices"][0]
    assert choice["message"] == {"role": "assistant", "content": "w0 w1 w2 w3 w4 "}
    assert choice["finish_reason"] == "stop"
    assert body["usage"] == {
        "prompt_tokens": 4,
        "completion_tokens": 5,
        "total_tokens": 9,
    }


def test_openai_chat_stream_and_include_usage(client: httpx.Client) -> None:
    req = {"model": "Qwen/Qwen2.5-7B", "messages": USER, "stream": True}
    r = client.post("/v1/chat/completions", json=req)
    assert r.headers["content-type"].startswith("text/event-stream")
    events = sse(r)
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == "w0 w1 w2 w3 w4 "
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert all(c["choices"] and "usage" not in c for c in chunks)

    events = sse(
        client.post(
            "/v1/chat/completions",
            json={**req, "stream_options": {"include_usage": True}},
        )
    )
    usage_chunk = events[-2]
    assert usage_chunk["choices"] == []
    assert usage_chunk["usage"] == {
        "prompt_tokens": 4,
        "completion_tokens": 5,
        "total_tokens": 9,
    }
    assert all(c["usage"] is None for c in events[:-2])


def test_openai_completions(client: httpx.Client) -> None:
    body = client.post("/v1/completions", json={"model": "llama3:latest", "prompt": "a b"}).json()
    assert body["object"] == "text_completion"
    assert body["choices"][0]["text"] == "w0 w1 w2 w3 w4 "
    assert body["usage"]["prompt_tokens"] == 2
    events = sse(
        client.post(
            "/v1/completions",
            json={"model": "llama3:latest", "prompt": "a", "stream": True},
        )
    )
    assert events[-1] == "[DONE]"
    assert "".join(e["choices"][0]["text"] for e in events[:-1]) == "w0 w1 w2 w3 w4 "
    assert all("usage" not in e for e in events[:-1])
    events = sse(
        client.post(
            "/v1/completions",
            json={
                "model": "llama3:latest",
                "prompt": "a",
                "stream": True,
                "stream_options": {"include_usage": True},
            },
        )
    )
    assert events[-2]["choices"] == [] and events[-2]["usage"]["completion_tokens"] == 5


def test_openai_embeddings(client: httpx.Client) -> None:
    body = client.post(
        "/v1/embeddings",
        json={"model": "nomic-embed-text:latest", "input": ["a b", "c"]},
    ).json()
    assert body["object"] == "list"
    assert [(d["object"], d["index"], len(d["embedding"])) for d in body["data"]] == [
        ("embedding", 0, 4),
        ("embedding", 1, 4),
    ]
    assert body["usage"] == {"prompt_tokens": 3, "total_tokens": 3}
    b64 = client.post(
        "/v1/embeddings",
        json={
            "model": "nomic-embed-text:latest",
            "input": "a b",
            "encoding_format": "base64",
        },
    ).json()
    decoded = struct.unpack("<4f", base64.b64decode(b64["data"][0]["embedding"]))
    assert decoded == pytest.approx(body["data"][0]["embedding"], rel=1e-6)


def test_openai_tool_calls(client: httpx.Client) -> None:
    req = {"model": "llama3:latest", "messages": USER, "tools": TOOLS}
    choice = client.post("/v1/chat/completions", json=req).json()["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    (call,) = choice["message"]["tool_calls"]
    assert call["id"].startswith("call_") and call["type"] == "function"
    assert call["function"]["name"] == "search"
    assert json.loads(call["function"]["arguments"]) == {"query": "tell me a joke"}

    chunks = sse(client.post("/v1/chat/completions", json={**req, "stream": True}))[:-1]
    deltas = [c["choices"][0]["delta"].get("tool_calls") for c in chunks]
    deltas = [d[0] for d in deltas if d]
    assert len(deltas) == 3
    assert deltas[0]["id"].startswith("call_") and deltas[0]["function"] == {
        "name": "search",
        "arguments": "",
    }
    assert json.loads("".join(d["function"]["arguments"] for d in deltas)) == {"query": "tell me a joke"}
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_openai_images_and_reasoning(client: httpx.Client) -> None:
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "compare"},
                {
                    "type": "image_url",
                    "image_url": {"url": "data:image/png;base64,aGk="},
                },
                {
                    "type": "image_url",
                    "image_url": {"url": "data:image/png;base64,aGk="},
                },
            ],
        }
    ]
    body = client.post("/v1/chat/completions", json={"model": "deep-reason:1b", "messages": messages}).json()
    message = body["choices"][0]["message"]
    assert message["content"] == "saw 2 images. w0 w1 w2 w3 w4 "
    assert message["reasoning_content"] == "thinking..."
    chunks = sse(
        client.post(
            "/v1/chat/completions",
            json={"model": "deep-reason:1b", "messages": USER, "stream": True},
        )
    )
    deltas = [c["choices"][0]["delta"] for c in chunks[:-1]]
    assert deltas[1] == {"reasoning_content": "thinking..."}
    assert deltas[2] == {"content": "w0 "}


# --------------------------------------------------------------------------- models, knobs


def test_unknown_model_404_in_both_dialects(client: httpx.Client, up: FakeUpstream) -> None:
    r = client.post("/api/chat", json={"model": "x", "messages": USER})
    assert r.status_code == 404 and r.json() == {"error": "model 'x' not found"}
    r = client.post("/v1/chat/completions", json={"model": "x", "messages": USER})
    assert r.status_code == 404
    assert r.json() == {
        "error": {
            "message": "The model `x` does not exist.",
            "type": "NotFoundError",
            "code": 404,
        }
    }
    up.models = []
    assert client.post("/api/chat", json={"model": "x", "messages": USER, "stream": False}).status_code == 200
    assert client.get("/api/tags").json() == {"models": []}
    up.models = ["only"]
    assert isinstance(up.models[0], FakeModel)


def test_bad_requests(client: httpx.Client) -> None:
    r = client.post("/api/chat", content=b"{not json")
    assert r.status_code == 400 and "error" in r.json()
    r = client.post("/v1/chat/completions", json={"messages": USER})
    assert r.status_code == 400 and r.json()["error"]["code"] == 400
    r = client.get("/v1/nowhere")
    assert r.status_code == 404 and r.json()["error"]["code"] == 404
    assert client.get("/api/chat").status_code == 405


def test_chunk_knobs_and_overrides(client: httpx.Client, up: FakeUpstream) -> None:
    up.chunks = 2
    req = {"model": "llama3", "messages": USER, "stream": False}
    assert client.post("/api/chat", json=req).json()["message"]["content"] == "w0 w1 "
    r = client.post("/api/chat", json=req, headers={"X-Fake-Chunks": "3"})
    assert r.json()["eval_count"] == 3
    t0 = time.monotonic()
    client.post("/api/chat", json=req, headers={"X-Fake-Chunk-Delay": "0.05"})
    assert time.monotonic() - t0 >= 0.09
    t0 = time.monotonic()
    client.post("/api/chat", json={**req, "fake_chunk_delay": 0.05})
    assert time.monotonic() - t0 >= 0.09
    r = client.post("/api/chat", json={**req, "options": {"num_predict": 1}})
    assert r.json()["done_reason"] == "length" and r.json()["message"]["content"] == "w0 "
    r = client.post(
        "/v1/chat/completions",
        json={"model": "llama3", "messages": USER, "max_tokens": 1},
    )
    assert r.json()["choices"][0]["finish_reason"] == "length"


def test_streaming_is_incremental(client: httpx.Client, up: FakeUpstream) -> None:
    up.chunk_delay = 0.05
    arrivals: list[float] = []
    t0 = time.monotonic()
    with client.stream("POST", "/api/chat", json={"model": "llama3", "messages": USER}) as r:
        for line in r.iter_lines():
            if line:
                arrivals.append(time.monotonic() - t0)
    assert len(arrivals) == 6
    assert arrivals[-1] - arrivals[0] >= 0.2
    assert arrivals[0] < 0.15

    arrivals.clear()
    t0 = time.monotonic()
    req = {"model": "llama3", "messages": USER, "stream": True}
    with client.stream("POST", "/v1/chat/completions", json=req) as r:
        for line in r.iter_lines():
            if line.startswith("data: "):
                arrivals.append(time.monotonic() - t0)
    assert len(arrivals) == 8  # role, 5 pieces, finish, [DONE]
    assert arrivals[-1] - arrivals[0] >= 0.3


def test_requests_are_recorded(client: httpx.Client, up: FakeUpstream) -> None:
    client.post(
        "/api/chat",
        json={"model": "llama3", "messages": USER},
        headers={"X-Custom": "Yes"},
    )
    client.get("/api/tags")
    rec = up.requests[0]
    assert (rec.method, rec.path) == ("POST", "/api/chat")
    assert rec.headers["x-custom"] == "Yes"
    assert rec.json == {"model": "llama3", "messages": USER}
    assert up.requests[1].json is None
    assert up.hits["/api/chat"] == 1 and up.hits["/api/tags"] == 1
    up.reset_stats()
    assert up.requests == [] and not up.hits and up.cancelled == 0


# --------------------------------------------------------------------------- failures


def test_fail_status(client: httpx.Client, up: FakeUpstream) -> None:
    up.fail_next("status", times=2, status=503)
    assert client.get("/api/tags").status_code == 200  # probes are not affected
    r = client.post("/api/chat", json={"model": "llama3", "messages": USER})
    assert r.status_code == 503 and isinstance(r.json()["error"], str)
    r = client.post("/v1/chat/completions", json={"model": "llama3", "messages": USER})
    assert r.status_code == 503 and r.json()["error"]["code"] == 503
    assert client.post("/api/chat", json={"model": "llama3", "messages": USER}).status_code == 200
    up.fail_next("status", status=429, body={"custom": True})
    r = client.post("/api/generate", json={"model": "llama3", "prompt": "x"})
    assert r.status_code == 429 and r.json() == {"custom": True}
    up.fail_next("status", status=500, paths=["/api/embed"])
    assert client.post("/api/chat", json={"model": "llama3", "messages": USER}).status_code == 200
    assert client.post("/api/embed", json={"model": "llama3", "input": "x"}).status_code == 500
    r = client.get("/api/tags", headers={"X-Fake-Fail": "mode=status;status=502"})
    assert r.status_code == 502


def test_fail_reset(client: httpx.Client, up: FakeUpstream) -> None:
    up.fail_next("reset")
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        client.post("/api/chat", json={"model": "llama3", "messages": USER})
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        client.post(
            "/v1/completions",
            json={"model": "llama3", "prompt": "x"},
            headers={"X-Fake-Fail": "reset"},
        )
    assert client.post("/api/chat", json={"model": "llama3", "messages": USER}).status_code == 200
    assert up.cancelled == 0


def test_fail_cut(client: httpx.Client, up: FakeUpstream) -> None:
    up.fail_next("cut", after_chunks=2)
    lines: list[str] = []
    with (
        pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)),
        client.stream("POST", "/api/chat", json={"model": "llama3", "messages": USER}) as r,
    ):
        assert r.status_code == 200
        lines.extend(line for line in r.iter_lines() if line)
    assert [json.loads(line)["message"]["content"] for line in lines] == ["w0 ", "w1 "]

    req = {"model": "llama3", "messages": USER, "stream": True}
    events: list[str] = []
    with (
        pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)),
        client.stream(
            "POST",
            "/v1/chat/completions",
            json=req,
            headers={"X-Fake-Fail": "mode=cut;after_chunks=10"},
        ) as r,
    ):
        events.extend(line for line in r.iter_lines() if line)
    assert len(events) == 7 and "data: [DONE]" not in events

    up.fail_next("cut")
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        client.post("/api/chat", json={"model": "llama3", "messages": USER, "stream": False})
    assert up.cancelled == 0


def test_fail_slow(client: httpx.Client, up: FakeUpstream) -> None:
    up.fail_next("slow", delay=0.3)
    t0 = time.monotonic()
    r = client.post("/v1/embeddings", json={"model": "llama3", "input": "x"})
    assert r.status_code == 200 and time.monotonic() - t0 >= 0.3
    t0 = time.monotonic()
    client.post("/v1/embeddings", json={"model": "llama3", "input": "x"})
    assert time.monotonic() - t0 < 0.3


def test_fail_hang(client: httpx.Client, up: FakeUpstream) -> None:
    up.fail_next("hang")
    with pytest.raises(httpx.ReadTimeout):
        client.post("/api/chat", json={"model": "llama3", "messages": USER}, timeout=0.3)
    assert up.wait_until(lambda: up.cancelled == 1 and up.in_flight == 0)

    # A request still hanging when the server stops gets its connection dropped.
    up.fail_next("hang")
    errors: list[BaseException] = []

    def call() -> None:
        try:
            httpx.post(
                f"{up.url}/api/chat",
                json={"model": "llama3", "messages": USER},
                timeout=10,
            )
        except httpx.HTTPError as exc:
            errors.append(exc)

    thread = threading.Thread(target=call)
    thread.start()
    assert up.wait_until(lambda: up.in_flight == 1)
    t0 = time.monotonic()
    up.stop()
    thread.join(timeout=5)
    assert time.monotonic() - t0 < 2
    assert len(errors) == 1


def test_fail_health(client: httpx.Client, up: FakeUpstream) -> None:
    up.fail_health(True)
    for path in ("/health", "/api/version", "/api/tags", "/v1/models"):
        assert client.get(path).status_code == 503
    assert client.post("/api/chat", json={"model": "llama3", "messages": USER}).status_code == 200
    up.fail_health(False)
    assert client.get("/health").status_code == 200


def test_fail_next_validates_mode(up: FakeUpstream) -> None:
    with pytest.raises(ValueError):
        up.fail_next("explode")


# --------------------------------------------------------------------------- auth, cancellation


def test_api_key() -> None:
    with (
        FakeUpstream(["m"], api_key="sekret") as upstream,
        httpx.Client(base_url=upstream.url) as c,
    ):
        assert c.get("/health").status_code == 200
        assert c.get("/api/version").status_code == 200
        r = c.get("/v1/models")
        assert r.status_code == 401 and r.json()["error"]["code"] == 401
        r = c.post("/api/chat", json={"model": "m", "messages": USER})
        assert r.status_code == 401 and isinstance(r.json()["error"], str)
        bad = {"Authorization": "Bearer wrong"}
        assert c.get("/api/tags", headers=bad).status_code == 401
        good = {"Authorization": "Bearer sekret"}
        assert c.get("/api/tags", headers=good).status_code == 200
        assert c.post("/api/chat", json={"model": "m", "messages": USER}, headers=good).status_code == 200


def test_cancelled_counter(client: httpx.Client, up: FakeUpstream) -> None:
    up.chunk_delay = 0.05
    with client.stream("POST", "/api/chat", json={"model": "llama3", "messages": USER}) as r:
        lines = r.iter_lines()
        assert json.loads(next(lines))["message"]["content"] == "w0 "
        assert up.in_flight == 1
    assert up.wait_until(lambda: up.cancelled == 1 and up.in_flight == 0)
    req = {"model": "llama3", "messages": USER, "stream": True}
    with client.stream("POST", "/v1/chat/completions", json=req) as r:
        next(r.iter_lines())
    assert up.wait_until(lambda: up.cancelled == 2)
    # A stream read to its end is not counted.
    client.post("/api/chat", json={"model": "llama3", "messages": USER})
    time.sleep(0.05)
    assert up.cancelled == 2
