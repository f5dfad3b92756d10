"""Whatever a client or a node sends, the translators answer with JSON and never raise."""

from collections.abc import Callable
from typing import Any

import orjson
from hypothesis import example, given, settings
from hypothesis import strategies as st

from maestro_app.providers import bridge

KEYS = [
    "model", "messages", "role", "content", "type", "text", "image_url", "url", "images",
    "tool_calls", "id", "index", "function", "name", "arguments", "tool_call_id", "tool_name",
    "thinking", "reasoning_content", "reasoning", "tools", "options", "temperature", "top_p",
    "num_predict", "max_tokens", "max_completion_tokens", "stop", "seed", "format",
    "response_format", "json_schema", "schema", "think", "reasoning_effort", "effort",
    "chat_template_kwargs", "enable_thinking", "stream", "prompt", "system", "suffix", "input",
    "dimensions", "embeddings", "embedding", "data", "usage", "prompt_tokens",
    "completion_tokens", "prompt_eval_count", "eval_count", "choices", "delta", "message",
    "finish_reason", "done", "done_reason", "created", "created_at", "response",
]  # fmt: skip
STRINGS = [
    "", "user", "assistant", "tool", "system", "developer", "text", "image_url", "json",
    "json_object", "json_schema", "length", "stop", "tool_calls", "none", "high", "{\"a\":1}",
    "{oops", "data:image/png;base64,iVBORw0KGgo=", "data:,x", "https://x/y.png",
    "2024-05-01T12:00:00.123456789Z", "AAAA",
]  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(STRINGS),
    st.text(max_size=8),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(KEYS), children, max_size=6),
    ),
    max_leaves=30,
)
bodies = st.dictionaries(st.sampled_from(KEYS), json_values, max_size=10)

REQUESTS: list[Callable[[Any], dict[str, Any]]] = [
    bridge.openai_chat_to_ollama,
    bridge.ollama_chat_to_openai,
    bridge.openai_completions_to_ollama_generate,
    bridge.ollama_generate_to_openai_completions,
    bridge.openai_embeddings_to_ollama_embed,
    bridge.ollama_embed_to_openai_embeddings,
    bridge.ollama_embed_response_to_ollama_legacy,
]
ANSWERS: list[Callable[..., dict[str, Any]]] = [
    bridge.ollama_chat_response_to_openai,
    bridge.openai_chat_response_to_ollama,
    bridge.ollama_generate_response_to_openai_completion,
    bridge.openai_completion_response_to_ollama_generate,
    bridge.ollama_embed_response_to_openai,
    bridge.openai_embeddings_response_to_ollama_embed,
    bridge.openai_embeddings_response_to_ollama_legacy,
]


@settings(max_examples=300, deadline=None)
@given(body=bodies)
# Found on CI: numbers beyond the signed 64-bit range made orjson refuse the translation.
@example(body={"prompt_eval_count": 1.8446744073709552e19})
@example(body={"max_tokens": 1.8446744073709552e19})
def test_translators_never_raise_and_answer_json(body: dict[str, Any]) -> None:
    before = orjson.dumps(body)
    for translate in REQUESTS:
        orjson.dumps(translate(body))
    for translate in ANSWERS:
        orjson.dumps(translate(body, model="shown"))
    assert orjson.dumps(body) == before


@settings(max_examples=200, deadline=None)
@given(chunks=st.lists(bodies, max_size=6), include_usage=st.booleans())
def test_stream_transformers_never_raise(chunks: list[dict[str, Any]], include_usage: bool) -> None:
    streams: list[bridge.OllamaChatStreamToOpenAI | bridge.OpenAIChatStreamToOllama] = [
        bridge.OllamaChatStreamToOpenAI(model="m", include_usage=include_usage),
        bridge.OllamaChatStreamToOpenAI(model="m", include_usage=include_usage, kind="completion"),
        bridge.OpenAIChatStreamToOllama(model="m"),
        bridge.OpenAIChatStreamToOllama(model="m", kind="generate"),
    ]
    for stream in streams:
        out: list[dict[str, Any]] = []
        for chunk in chunks:
            out += stream.feed(chunk)
        out += stream.finish()
        orjson.dumps(out)
        assert out, "finish() always closes the stream"
