"""How one client endpoint reaches one node type: the upstream leg of a request.

    client kind  x  node type  ->  Leg(upstream path, framing, request/answer/stream transforms)

Same dialect: the body goes through with the model renamed (and, on OpenAI streams, usage
asked for). Other dialect: the providers' bridge translates both ways. Responses clients
ride on the OpenAI chat leg of the node type, with the Responses dialect translated around
it (`_responses_leg`). Anthropic Messages bodies arrive already translated to OpenAI chat
(`Endpoint.prepare`) and ride the OpenAI chat legs, answers turned back into Anthropic's
shapes. The pipeline only ever talks to a `Leg`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol

import orjson

from maestro_app.providers import bridge
from maestro_app.providers.anthropic import openai_chat_response_to_anthropic
from maestro_app.providers.ollama import usage_from_ollama
from maestro_app.providers.openai import usage_from_openai
from maestro_app.providers.postprocess import (
    OllamaStreamPostprocess,
    OpenAIStreamPostprocess,
    postprocess_ollama_answer,
    postprocess_openai_answer,
)
from maestro_app.providers.responses import responses_to_chat
from maestro_app.providers.responses_answer import chat_answer_to_response
from maestro_app.providers.sse import plain_sse_objects, sse_data
from maestro_app.providers.stream_to_anthropic import OpenAIChatStreamToAnthropic
from maestro_app.providers.stream_to_responses import ChatStreamToResponses
from maestro_app.providers.tokens import context_chars, estimate_tokens
from maestro_app.providers.types import Usage

Body = dict[str, Any]


class StreamTransform(Protocol):
    usage: Usage | None

    def feed(self, chunk: Body) -> list[Body]: ...

    def finish(self) -> list[Body]: ...


@dataclass(frozen=True, slots=True)
class Leg:
    path: str
    framing: str  # "sse" | "ndjson" (upstream stream framing)
    request: Callable[[Body], Body]
    # (upstream answer, display model, client's request body) -> client answer
    answer: Callable[[Body, str, Body], Body]
    # (display model, client asked for usage, client's request body) -> transform
    stream: Callable[[str, bool, Body], StreamTransform]
    usage: Callable[[Body], Usage | None]


# -- same-dialect pass-through ------------------------------------------------------------


class OpenAIPassThrough:
    """Rename the model; keep usage; drop the usage-only chunk the client did not ask for."""

    __slots__ = ("model", "include_usage", "usage")

    def __init__(self, model: str, include_usage: bool) -> None:
        self.model = model
        self.include_usage = include_usage
        self.usage: Usage | None = None

    def feed(self, chunk: Body) -> list[Body]:
        if "model" in chunk:
            chunk["model"] = self.model
        if chunk.get("usage"):
            self.usage = usage_from_openai(chunk) or self.usage
            if not self.include_usage:
                if not chunk.get("choices"):
                    return []
                chunk.pop("usage", None)
        return [chunk]

    def finish(self) -> list[Body]:
        return []

    def whole(self, raw: bytes) -> tuple[bytes, list[Body]] | None:
        """`feed` for a whole answer in hand, worked on its bytes: (the events for the
        client, without `[DONE]`; the chunks, for counting) or None to go chunk by chunk.

        One parse checks every chunk; one `replace` renames the model in all but the last
        event, which goes through `feed` itself (usage, and whether the client sees it).
        The relay of a 32-chunk answer in one read: 117 -> 56 µs (`python -m tests.
        benchmarks.relay_stream`). It applies only where the result is what `feed` would
        send: plain framing, no error chunk, usage in the last chunk only, and every chunk
        naming the same model, written the way orjson writes it, once."""
        plain = plain_sse_objects(raw)
        if plain is None:
            return None
        events, chunks = plain
        last = chunks[-1]
        real = last.get("model") if last.__class__ is dict else None
        for chunk in chunks:
            if chunk.__class__ is not dict or "error" in chunk or chunk.get("model") != real:
                return None
            if chunk.get("usage") and chunk is not last:
                return None
        cut = events.rfind(b"\n\ndata: {")  # the last event starts 2 bytes on (none: it is the only one)
        head = events[: cut + 2] if cut >= 0 else b""
        if real is not None:
            written = b'"model":' + orjson.dumps(real)
            if head.count(written) != len(chunks) - 1:  # each chunk's own, as orjson writes it
                return None
            head = head.replace(written, b'"model":' + orjson.dumps(self.model))
        return head + b"".join(map(sse_data, self.feed(last))), chunks


class OllamaPassThrough:
    __slots__ = ("model", "usage")

    def __init__(self, model: str, include_usage: bool = True) -> None:
        self.model = model
        self.usage: Usage | None = None

    def feed(self, chunk: Body) -> list[Body]:
        if "model" in chunk:
            chunk["model"] = self.model
        if chunk.get("done"):
            self.usage = usage_from_ollama(chunk) or self.usage
        return [chunk]

    def finish(self) -> list[Body]:
        return []


def _rename(answer: Body, model: str, _request: Body) -> Body:
    if "model" in answer:
        answer["model"] = model
    return answer


def _openai_request(body: Body) -> Body:
    if body.get("stream"):
        options = dict(body.get("stream_options") or {})
        options["include_usage"] = True
        body["stream_options"] = options
    return body


def _same(body: Body) -> Body:
    return body


def _legacy_to_embed(body: Body) -> Body:
    out = {k: v for k, v in body.items() if k != "prompt"}
    out["input"] = body.get("prompt", "")
    return out


def _to_openai_stream(kind: Literal["chat", "completion"]) -> Callable[[str, bool, Body], StreamTransform]:
    return lambda model, include_usage, _request: bridge.OllamaChatStreamToOpenAI(
        model=model, include_usage=include_usage, kind=kind
    )


def _to_ollama_stream(kind: Literal["chat", "generate"]) -> Callable[[str, bool, Body], StreamTransform]:
    return lambda model, _include_usage, _request: bridge.OpenAIChatStreamToOllama(model=model, kind=kind)


def _passthrough(cls: Any) -> Callable[[str, bool, Body], StreamTransform]:
    return lambda model, include_usage, _request: cls(model, include_usage)  # type: ignore[no-any-return]


def _no_stream(model: str, include_usage: bool, request: Body) -> StreamTransform:
    raise AssertionError("this leg never streams")


OPENAI_TO_VLLM = {
    "chat": Leg(
        "/v1/chat/completions",
        "sse",
        _openai_request,
        _rename,
        _passthrough(OpenAIPassThrough),
        usage_from_openai,
    ),
    "completion": Leg(
        "/v1/completions", "sse", _openai_request, _rename, _passthrough(OpenAIPassThrough), usage_from_openai
    ),
    "embed": Leg("/v1/embeddings", "sse", _same, _rename, _no_stream, usage_from_openai),
}

OLLAMA_TO_OLLAMA = {
    "chat": Leg("/api/chat", "ndjson", _same, _rename, _passthrough(OllamaPassThrough), usage_from_ollama),
    "generate": Leg(
        "/api/generate", "ndjson", _same, _rename, _passthrough(OllamaPassThrough), usage_from_ollama
    ),
    "embed": Leg("/api/embed", "ndjson", _same, _rename, _no_stream, usage_from_ollama),
    # Legacy /api/embeddings goes to /api/embed (it reports prompt_eval_count).
    "embed_legacy": Leg(
        "/api/embed",
        "ndjson",
        _legacy_to_embed,
        lambda a, m, _r: bridge.ollama_embed_response_to_ollama_legacy(a),
        _no_stream,
        usage_from_ollama,
    ),
}

OPENAI_TO_OLLAMA = {
    "chat": Leg(
        "/api/chat",
        "ndjson",
        bridge.openai_chat_to_ollama,
        lambda a, m, _r: bridge.ollama_chat_response_to_openai(a, model=m),
        _to_openai_stream("chat"),
        usage_from_ollama,
    ),
    "completion": Leg(
        "/api/generate",
        "ndjson",
        bridge.openai_completions_to_ollama_generate,
        lambda a, m, _r: bridge.ollama_generate_response_to_openai_completion(a, model=m),
        _to_openai_stream("completion"),
        usage_from_ollama,
    ),
    "embed": Leg(
        "/api/embed",
        "ndjson",
        bridge.openai_embeddings_to_ollama_embed,
        lambda a, m, r: bridge.ollama_embed_response_to_openai(
            a, model=m, encoding_format=r.get("encoding_format")
        ),
        _no_stream,
        usage_from_ollama,
    ),
}

OLLAMA_TO_VLLM = {
    "chat": Leg(
        "/v1/chat/completions",
        "sse",
        bridge.ollama_chat_to_openai,
        lambda a, m, _r: bridge.openai_chat_response_to_ollama(a, model=m),
        _to_ollama_stream("chat"),
        usage_from_openai,
    ),
    "generate": Leg(
        "/v1/completions",
        "sse",
        bridge.ollama_generate_to_openai_completions,
        lambda a, m, _r: bridge.openai_completion_response_to_ollama_generate(a, model=m),
        _to_ollama_stream("generate"),
        usage_from_openai,
    ),
    "embed": Leg(
        "/v1/embeddings",
        "sse",
        bridge.ollama_embed_to_openai_embeddings,
        lambda a, m, _r: bridge.openai_embeddings_response_to_ollama_embed(a, model=m),
        _no_stream,
        usage_from_openai,
    ),
    "embed_legacy": Leg(
        "/v1/embeddings",
        "sse",
        bridge.ollama_embed_to_openai_embeddings,
        lambda a, m, _r: bridge.openai_embeddings_response_to_ollama_legacy(a, model=m),
        _no_stream,
        usage_from_openai,
    ),
}


def _postprocessed(leg: Leg, dialect: str) -> Leg:
    """Chat legs in the client's dialect: printed tool calls become structured ones,
    `<think>` and upstream `reasoning` become reasoning fields (SPEC §3.6)."""
    answer, stream = leg.answer, leg.stream
    if dialect == "openai":
        return replace(
            leg,
            answer=lambda a, m, r: postprocess_openai_answer(answer(a, m, r), tools=r.get("tools")),
            stream=lambda m, u, r: OpenAIStreamPostprocess(stream(m, u, r), tools=r.get("tools")),
        )
    return replace(
        leg,
        answer=lambda a, m, r: postprocess_ollama_answer(answer(a, m, r), tools=r.get("tools")),
        stream=lambda m, u, r: OllamaStreamPostprocess(stream(m, u, r), tools=r.get("tools")),
    )


for _table, _dialect in (
    (OPENAI_TO_VLLM, "openai"),
    (OPENAI_TO_OLLAMA, "openai"),
    (OLLAMA_TO_OLLAMA, "ollama"),
    (OLLAMA_TO_VLLM, "ollama"),
):
    _table["chat"] = _postprocessed(_table["chat"], _dialect)


def _responses_leg(chat: Leg) -> Leg:
    """The Responses API over a (post-processed) OpenAI chat leg: the body becomes a chat
    body before the leg's own translation; answers and streams come back as Responses.
    The chat side always streams usage: `response.completed` carries it."""
    return Leg(
        chat.path,
        chat.framing,
        lambda body: chat.request(responses_to_chat(body)),
        lambda a, m, r: chat_answer_to_response(chat.answer(a, m, responses_to_chat(r)), model=m, request=r),
        lambda m, _u, r: ChatStreamToResponses(
            chat.stream(m, True, responses_to_chat(r)), model=m, request=r
        ),
        chat.usage,
    )


for _table in (OPENAI_TO_VLLM, OPENAI_TO_OLLAMA):
    _table["responses"] = _responses_leg(_table["chat"])


def _anthropic(leg: Leg) -> Leg:
    """An Anthropic Messages leg from a (post-processed) OpenAI chat leg: the client's body
    was translated to OpenAI chat before routing (`providers.anthropic`), so only the
    answer and the stream are turned back into Anthropic's shapes."""
    answer, stream = leg.answer, leg.stream
    return replace(
        leg,
        answer=lambda a, m, r: openai_chat_response_to_anthropic(
            answer(a, m, r), model=m, request=r, input_estimate=estimate_tokens(context_chars(r))
        ),
        stream=lambda m, _u, r: OpenAIChatStreamToAnthropic(
            stream(m, False, r),
            model=m,
            input_estimate=estimate_tokens(context_chars(r)),
            stops=r.get("stop"),
        ),
    )


ANTHROPIC_TO_VLLM = {"chat": _anthropic(OPENAI_TO_VLLM["chat"])}
ANTHROPIC_TO_OLLAMA = {"chat": _anthropic(OPENAI_TO_OLLAMA["chat"])}

LEGS: dict[tuple[str, str], dict[str, Leg]] = {
    ("openai", "vllm"): OPENAI_TO_VLLM,
    ("openai", "ollama"): OPENAI_TO_OLLAMA,
    ("ollama", "ollama"): OLLAMA_TO_OLLAMA,
    ("ollama", "vllm"): OLLAMA_TO_VLLM,
    ("anthropic", "vllm"): ANTHROPIC_TO_VLLM,
    ("anthropic", "ollama"): ANTHROPIC_TO_OLLAMA,
}


def leg_for(dialect: str, kind: str, node_type: str) -> Leg:
    return LEGS[(dialect, "vllm" if node_type != "ollama" else "ollama")][kind]
