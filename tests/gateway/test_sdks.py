"""The real `openai` and `ollama` Python SDKs against the gateway, on both node types."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ollama
import openai
import pytest

from tests.conftest import LiveGateway
from tests.fakes.upstream import FakeModel, FakeUpstream
from tests.support import activity, add_mapping, add_node, add_user

REAL = "llama3:latest"
REAL_EMBED = "nomic-embed-text:latest"
ANSWER = "w0 w1 w2 w3 w4 "
MESSAGES = [{"role": "user", "content": "one two three"}]


@dataclass
class Env:
    gw: LiveGateway
    fake: FakeUpstream
    token: str
    node_type: str

    def openai(self, token: str | None = None) -> openai.OpenAI:
        return openai.OpenAI(
            base_url=self.gw.url + "/v1", api_key=token or self.token, max_retries=0, timeout=10
        )

    def ollama(self, token: str | None = None) -> ollama.Client:
        return ollama.Client(
            host=self.gw.url, headers={"Authorization": f"Bearer {token or self.token}"}, timeout=10
        )


@pytest.fixture(params=["ollama", "vllm"])
def env(request: pytest.FixtureRequest, gateway: LiveGateway, upstream_factory: Any) -> Env:
    fake = upstream_factory(
        [
            FakeModel(REAL, family="llama"),
            FakeModel(REAL_EMBED, family="nomic-bert", capabilities=["embedding"], embedding_dim=4),
        ]
    )
    add_node(gateway, fake, name="node-1", node_type=request.param)
    add_mapping(gateway, "chat-model", REAL, context_length=16384)
    add_mapping(gateway, "embedder", REAL_EMBED)
    return Env(gateway, fake, add_user(gateway), request.param)


# -- openai SDK ---------------------------------------------------------------------------


def test_openai_chat(env: Env) -> None:
    client = env.openai()
    completion = client.chat.completions.create(model="chat-model", messages=MESSAGES)  # type: ignore[arg-type]
    assert completion.model == "chat-model"
    assert completion.choices[0].message.content == ANSWER
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (3, 5)

    stream = client.chat.completions.create(
        model="chat-model",
        messages=MESSAGES,
        stream=True,  # type: ignore[arg-type]
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert all(c.model == "chat-model" for c in chunks)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == ANSWER
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == [
        "stop"
    ]
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 5


def test_openai_embeddings_and_models_list(env: Env) -> None:
    # The SDK asks for base64 unless told otherwise and decodes what it gets.
    result = env.openai().embeddings.create(model="embedder", input=["alpha beta", "gamma"])
    assert result.model == "embedder"
    assert len(result.data) == 2 and all(len(d.embedding) == 4 for d in result.data)
    assert result.usage.prompt_tokens == 3
    floats = env.openai().embeddings.create(model="embedder", input="alpha beta", encoding_format="float")
    assert floats.data[0].embedding == pytest.approx(result.data[0].embedding, rel=1e-6)

    models = {m.id: m for m in env.openai().models.list()}
    assert set(models) == {"chat-model", "embedder"}
    assert models["chat-model"].object == "model"
    assert models["chat-model"].model_extra and models["chat-model"].model_extra["max_model_len"] == 16384


def test_openai_errors(env: Env) -> None:
    with pytest.raises(openai.AuthenticationError) as bad_token:
        env.openai("not-a-valid-token").chat.completions.create(model="chat-model", messages=MESSAGES)  # type: ignore[arg-type]
    assert bad_token.value.status_code == 401
    assert isinstance(bad_token.value.body, dict) and bad_token.value.body.get("message")
    # The node itself answers 404 for a model it does not have.
    with pytest.raises(openai.NotFoundError) as not_found:
        env.openai().chat.completions.create(model="no-such-model", messages=MESSAGES)  # type: ignore[arg-type]
    assert not_found.value.status_code == 404
    assert "no-such-model" in str(not_found.value)


# -- ollama SDK ---------------------------------------------------------------------------


def test_ollama_chat(env: Env) -> None:
    answer = env.ollama().chat(model="chat-model", messages=MESSAGES)
    assert answer.model == "chat-model"
    assert answer.message.role == "assistant" and answer.message.content == ANSWER
    assert answer.done is True and answer.prompt_eval_count == 3 and answer.eval_count == 5

    parts = list(env.ollama().chat(model="chat-model", messages=MESSAGES, stream=True))
    assert len(parts) > 2 and all(p.model == "chat-model" for p in parts)
    assert "".join(p.message.content or "" for p in parts) == ANSWER
    assert parts[-1].done is True and parts[-1].eval_count == 5


def test_ollama_chat_with_tools(env: Env) -> None:
    def get_weather(city: str) -> str:
        """Weather in a city.

        Args:
          city: the city
        """
        return "sunny"

    answer = env.ollama().chat(
        model="chat-model", messages=[{"role": "user", "content": "Paris?"}], tools=[get_weather]
    )
    calls = answer.message.tool_calls or []
    assert [c.function.name for c in calls] == ["get_weather"]
    assert dict(calls[0].function.arguments) == {"query": "Paris?"}


def test_ollama_generate_and_embed(env: Env) -> None:
    answer = env.ollama().generate(model="chat-model", prompt="say four words")
    assert answer.model == "chat-model" and answer.response == ANSWER and answer.done is True
    parts = list(env.ollama().generate(model="chat-model", prompt="say four words", stream=True))
    assert "".join(p.response for p in parts) == ANSWER and parts[-1].eval_count == 5

    result = env.ollama().embed(model="embedder", input=["alpha beta", "gamma"])
    assert result.model == "embedder"
    assert len(result.embeddings) == 2 and all(len(v) == 4 for v in result.embeddings)
    legacy = env.ollama().embeddings(model="embedder", prompt="alpha beta")
    assert list(legacy.embedding) == pytest.approx(list(result.embeddings[0]))


def test_ollama_list_ps_and_show(env: Env) -> None:
    names = sorted(m.model or "" for m in env.ollama().list().models)
    assert names == ["chat-model", "embedder"]
    env.ollama().chat(model="chat-model", messages=MESSAGES)
    running = [m.model for m in env.ollama().ps().models]
    assert running == (["chat-model"] if env.node_type == "ollama" else [])
    shown = env.ollama().show("chat-model")
    assert shown.modelinfo is not None
    arch = shown.modelinfo["general.architecture"]
    assert shown.modelinfo[f"{arch}.context_length"] == 16384


@pytest.mark.parametrize("env", ["ollama"], indirect=True)  # the allowlist does not depend on the node
def test_ollama_model_outside_allowlist_is_403(env: Env) -> None:
    token = add_user(env.gw, "restricted", all_models=False)
    granted = env.gw.admin.post("/admin/users/restricted/models", json={"models": ["embedder"]})
    assert granted.status_code in (200, 201), granted.text
    client = env.ollama(token)
    with pytest.raises(ollama.ResponseError) as caught:
        client.chat(model="chat-model", messages=MESSAGES)
    assert caught.value.status_code == 403
    assert "chat-model" in caught.value.error
    with pytest.raises(ollama.ResponseError) as streamed:
        list(client.chat(model="chat-model", messages=MESSAGES, stream=True))
    assert streamed.value.status_code == 403
    # The allowed model works, and listings show only what the user may use.
    assert client.embed(model="embedder", input="x").embeddings
    assert [m.model for m in client.list().models] == ["embedder"]


# -- what the ledger says about the client --------------------------------------------------


@pytest.mark.parametrize("env", ["ollama"], indirect=True)  # detection does not depend on the node
def test_the_ledger_names_the_client(env: Env) -> None:
    """The record's source comes from the headers the real SDKs send; other agents name
    themselves (curl) or fall back to the endpoint's dialect."""
    env.openai().chat.completions.create(model="chat-model", messages=MESSAGES)  # type: ignore[arg-type]
    env.ollama().chat(model="chat-model", messages=MESSAGES)
    chat = {"model": "chat-model", "messages": MESSAGES, "stream": False}
    client = env.gw.client(env.token)
    assert client.post("/api/chat", json=chat, headers={"User-Agent": "curl/8.5.0"}).status_code == 200
    aiohttp = {"User-Agent": "Python/3.11 aiohttp/3.11.18"}  # Open WebUI without its user headers
    assert client.post("/api/chat", json=chat, headers=aiohttp).status_code == 200
    assert client.post("/v1/chat/completions", json=chat, headers=aiohttp).status_code == 200
    records = activity(env.gw)
    assert sorted((r["endpoint"], r["source"]) for r in records) == [
        ("/api/chat", "curl"),
        ("/api/chat", "ollama"),
        ("/api/chat", "ollama-sdk"),
        ("/v1/chat/completions", "openai"),
        ("/v1/chat/completions", "openai-sdk"),
    ]
