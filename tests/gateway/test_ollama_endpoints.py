"""Ollama-native endpoints (SPEC §2.2, §3.1) through real sockets, on an Ollama node and on
a vLLM node (the same fake serves /api/* and /v1/*; a vLLM node is reached over /v1/*)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import LiveGateway
from tests.fakes.upstream import FakeModel, FakeUpstream
from tests.support import add_mapping, add_node, add_user

REAL_CHAT = "llama3:latest"
REAL_EMBED = "nomic-embed-text:latest"
MODELS = [
    FakeModel(REAL_CHAT, context_length=8192, family="llama"),
    FakeModel(REAL_EMBED, family="nomic-bert", capabilities=["embedding"], embedding_dim=4),
    FakeModel("qwen3:latest", context_length=40960, family="qwen3"),
]
USER_MSG = [{"role": "user", "content": "one two three"}]
ANSWER = "w0 w1 w2 w3 w4 "


@dataclass
class Env:
    gw: LiveGateway
    fake: FakeUpstream
    client: httpx.Client
    node_type: str

    def sent(self, path: str) -> Any:
        """The body of the last request the fake received on `path`."""
        hits = [r for r in self.fake.requests if r.path == path]
        assert hits, f"the node got no {path} request; it got {[r.path for r in self.fake.requests]}"
        return hits[-1].json

    @property
    def chat_path(self) -> str:
        return "/api/chat" if self.node_type == "ollama" else "/v1/chat/completions"

    @property
    def generate_path(self) -> str:
        return "/api/generate" if self.node_type == "ollama" else "/v1/completions"

    @property
    def embed_path(self) -> str:
        return "/api/embed" if self.node_type == "ollama" else "/v1/embeddings"


@pytest.fixture(params=["ollama", "vllm"])
def env(request: pytest.FixtureRequest, gateway: LiveGateway, upstream_factory: Any) -> Env:
    fake = upstream_factory(list(MODELS))
    add_node(gateway, fake, name="node-1", node_type=request.param)
    add_mapping(gateway, "chat-model", REAL_CHAT, context_length="32K", capabilities=["completion", "tools"])
    add_mapping(gateway, "embedder", REAL_EMBED)
    return Env(gateway, fake, gateway.client(add_user(gateway)), request.param)


def ndjson(text: str) -> list[dict[str, Any]]:
    lines = [line for line in text.split("\n") if line.strip()]
    return [json.loads(line) for line in lines]


def assert_no_real_name(text: str) -> None:
    assert REAL_CHAT not in text and REAL_EMBED not in text, text


# -- chat ---------------------------------------------------------------------------------


def _arrivals(client: httpx.Client, path: str, body: dict[str, Any]) -> list[tuple[float, dict[str, Any]]]:
    """(seconds since the request, line) for each NDJSON line, as the client received it."""
    arrivals: list[tuple[float, dict[str, Any]]] = []
    start = time.monotonic()
    with client.stream("POST", path, json=body) as s:
        assert s.status_code == 200, s.read()
        for i, line in enumerate(s.iter_lines()):
            if line.strip():
                arrivals.append((time.monotonic() - start, json.loads(line)))
            if i > 50:  # bounded: the fake sends 5 pieces and a final line
                break
    return arrivals


# -- chat and generate --------------------------------------------------------------------


def test_chat_streamed_by_default_and_not(env: Env) -> None:
    with env.client.stream("POST", "/api/chat", json={"model": "chat-model", "messages": USER_MSG}) as s:
        assert s.status_code == 200, s.read()
        assert s.headers["content-type"].startswith("application/x-ndjson")
        text = s.read().decode()
    assert text.endswith("\n")
    lines = ndjson(text)  # every line is one JSON object
    assert len(lines) >= 2
    assert all(line["model"] == "chat-model" for line in lines)
    assert all(line["done"] is False for line in lines[:-1])
    final = lines[-1]
    assert final["done"] is True and final["done_reason"] == "stop"
    assert final["prompt_eval_count"] == 3 and final["eval_count"] == 5
    assert "".join(line["message"]["content"] for line in lines) == ANSWER
    assert all(line["message"]["role"] == "assistant" for line in lines)
    assert_no_real_name(text)
    assert env.sent(env.chat_path)["model"] == REAL_CHAT

    resp = env.client.post("/api/chat", json={"model": "chat-model", "messages": USER_MSG, "stream": False})
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert body["model"] == "chat-model"
    assert body["message"] == {"role": "assistant", "content": ANSWER}
    assert body["done"] is True and body["done_reason"] == "stop"
    assert body["prompt_eval_count"] == 3 and body["eval_count"] == 5
    assert_no_real_name(resp.text)
    assert env.sent(env.chat_path)["stream"] is False


def test_generate_streamed_and_not(env: Env) -> None:
    with env.client.stream(
        "POST", "/api/generate", json={"model": "chat-model", "prompt": "say four words"}
    ) as s:
        assert s.status_code == 200, s.read()
        assert s.headers["content-type"].startswith("application/x-ndjson")
        text = s.read().decode()
    lines = ndjson(text)
    assert all(line["model"] == "chat-model" for line in lines)
    assert "".join(line["response"] for line in lines) == ANSWER
    final = lines[-1]
    assert final["done"] is True and final["done_reason"] == "stop"
    assert final["prompt_eval_count"] == 3 and final["eval_count"] == 5
    assert all(line["done"] is False for line in lines[:-1])
    assert_no_real_name(text)
    assert env.sent(env.generate_path)["model"] == REAL_CHAT

    resp = env.client.post(
        "/api/generate", json={"model": "chat-model", "prompt": "say four words", "stream": False}
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["model"] == "chat-model" and body["response"] == ANSWER
    assert body["done"] is True and body["prompt_eval_count"] == 3 and body["eval_count"] == 5
    assert_no_real_name(resp.text)


def test_streams_are_incremental(env: Env) -> None:
    env.fake.chunk_delay = 0.1
    for path, body in (
        ("/api/chat", {"model": "chat-model", "messages": USER_MSG}),
        ("/api/generate", {"model": "chat-model", "prompt": "go"}),
    ):
        arrivals = _arrivals(env.client, path, body)
        pieces = [t for t, obj in arrivals if obj.get("response") or obj.get("message", {}).get("content")]
        assert len(pieces) == 5 and arrivals[-1][1]["done"] is True, arrivals
        # The first piece reaches the client while the node is still generating the rest.
        assert pieces[0] < arrivals[-1][0] - 0.3, (path, [t for t, _ in arrivals])


def test_load_requests_answer_load(env: Env) -> None:
    """Ollama clients (`ollama run`, Open WebUI) preload a model with an empty chat or prompt;
    Ollama answers one JSON object with done_reason "load" and generates nothing."""
    for path, body in (
        ("/api/chat", {"model": "chat-model", "messages": []}),
        ("/api/chat", {"model": "chat-model"}),
        ("/api/generate", {"model": "chat-model"}),
    ):
        resp = env.client.post(path, json=body)
        assert resp.status_code == 200, (path, body, resp.text)
        answer = resp.json()
        assert answer["model"] == "chat-model" and answer["done"] is True, (path, answer)
        assert answer["done_reason"] == "load", (path, answer)
        assert answer.get("response", "") == "" and answer.get("message", {}).get("content", "") == ""
    asked = [r.path for r in env.fake.requests if r.path in ("/v1/chat/completions", "/v1/completions")]
    assert asked == [], "the vLLM node was asked to generate for a load request"


# -- embeddings ---------------------------------------------------------------------------


def test_embed_and_legacy_embeddings(env: Env) -> None:
    resp = env.client.post("/api/embed", json={"model": "embedder", "input": ["alpha beta", "gamma"]})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["model"] == "embedder"
    assert len(body["embeddings"]) == 2 and all(len(v) == 4 for v in body["embeddings"])
    assert all(isinstance(x, float) for v in body["embeddings"] for x in v)
    assert body["embeddings"][0] != body["embeddings"][1]
    assert body["prompt_eval_count"] == 3
    assert_no_real_name(resp.text)
    assert env.sent(env.embed_path)["model"] == REAL_EMBED

    single = env.client.post("/api/embed", json={"model": "embedder", "input": "alpha beta"})
    assert single.status_code == 200, single.text
    assert single.json()["embeddings"] == body["embeddings"][:1]

    legacy = env.client.post("/api/embeddings", json={"model": "embedder", "prompt": "alpha beta"})
    assert legacy.status_code == 200, legacy.text
    assert legacy.json() == {"embedding": body["embeddings"][0]}  # legacy shape, same vector


# -- listings -----------------------------------------------------------------------------


def test_tags_show_display_names_only(env: Env) -> None:
    resp = env.client.get("/api/tags")
    assert resp.status_code == 200, resp.text
    models = resp.json()["models"]
    # Mapped real names appear only as their display names; unmapped ones as they are.
    assert sorted(m["name"] for m in models) == ["chat-model", "embedder", "qwen3:latest"]
    assert all(m["model"] == m["name"] for m in models)
    assert all({"modified_at", "size", "digest", "details"} <= set(m) for m in models)
    assert_no_real_name(resp.text)


def test_show_reports_mapping_context_length(env: Env) -> None:
    resp = env.client.post("/api/show", json={"model": "chat-model"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    info = body["model_info"]
    arch = info["general.architecture"]
    assert info[f"{arch}.context_length"] == 32 * 1024
    assert body["capabilities"] == ["completion", "tools"]  # the mapping's, over the node's
    assert_no_real_name(resp.text)

    legacy = env.client.post("/api/show", json={"name": "chat-model"})  # older clients send `name`
    assert legacy.status_code == 200, legacy.text
    assert legacy.json()["model_info"][f"{arch}.context_length"] == 32 * 1024

    if env.node_type == "ollama":
        assert arch == "llama"  # the node's own architecture is kept
        assert env.sent("/api/show")["model"] == REAL_CHAT

    # An unmapped model, named without its `:latest` tag, keeps the node's own context length.
    plain = env.client.post("/api/show", json={"model": "qwen3"})
    assert plain.status_code == 200, plain.text
    info = plain.json()["model_info"]
    assert info[f"{info['general.architecture']}.context_length"] == 40960


def test_ps_lists_loaded_models_by_display_name(env: Env) -> None:
    assert (
        env.client.post(
            "/api/chat", json={"model": "chat-model", "messages": USER_MSG, "stream": False}
        ).status_code
        == 200
    )
    resp = env.client.get("/api/ps")
    assert resp.status_code == 200, resp.text
    models = resp.json()["models"]
    assert isinstance(models, list)
    if env.node_type == "ollama":
        assert [(m["name"], m["model"]) for m in models] == [("chat-model", "chat-model")]
        assert_no_real_name(resp.text)


# -- errors in the Ollama dialect ---------------------------------------------------------


def test_unknown_model_is_404_in_ollama_format(env: Env) -> None:
    for path, body in (
        ("/api/chat", {"messages": USER_MSG}),
        ("/api/generate", {"prompt": "hi"}),
        ("/api/embed", {"input": "hi"}),
        ("/api/show", {}),
    ):
        resp = env.client.post(path, json={"model": "no-such-model", "stream": False, **body})
        assert resp.status_code == 404, (path, resp.text)
        assert isinstance(resp.json()["error"], str) and "no-such-model" in resp.json()["error"], path
    # A mapped name the node does not have: the node's "not found" names the display name only.
    add_mapping(env.gw, "ghost", "ghost-real:1b")
    for path, body in (
        ("/api/chat", {"messages": USER_MSG}),
        ("/api/generate", {"prompt": "hi"}),
        ("/api/embed", {"input": "hi"}),
    ):
        resp = env.client.post(path, json={"model": "ghost", "stream": False, **body})
        assert resp.status_code == 404, (path, resp.text)
        assert "ghost" in resp.json()["error"] and "ghost-real" not in resp.text, (path, resp.text)


def test_version_is_open_and_the_rest_needs_a_token(env: Env) -> None:
    version = httpx.get(env.gw.url + "/api/version")
    assert version.status_code == 200, version.text
    assert isinstance(version.json()["version"], str) and version.json()["version"].count(".") == 2
    resp = httpx.post(env.gw.url + "/api/chat", json={"model": "chat-model", "messages": USER_MSG})
    assert resp.status_code == 401
    assert isinstance(resp.json()["error"], str)
    tags = httpx.get(env.gw.url + "/api/tags")
    assert tags.status_code == 401 and isinstance(tags.json()["error"], str)
