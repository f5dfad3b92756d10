"""Ollama stream → OpenAI stream.

Feed each parsed NDJSON object of an Ollama `/api/chat` (or `/api/generate`) stream; send
what comes out as SSE events, then `finish()`'s chunks, then `data: [DONE]`. Error lines
(`{"error": ...}`) are the caller's to handle: they are not answer chunks.
"""

from collections.abc import Mapping
from typing import Any, Literal

from maestro_app.providers._coerce import mapping, text
from maestro_app.providers.ollama import usage_from_ollama
from maestro_app.providers.openai import (
    finish_reason_from_ollama,
    new_chat_id,
    new_completion_id,
    unix_now,
    usage_to_openai,
)
from maestro_app.providers.toolcalls import ollama_tool_calls_to_openai
from maestro_app.providers.types import Usage


class OllamaChatStreamToOpenAI:
    """Turns Ollama stream objects into `chat.completion.chunk` (or, with
    `kind="completion"`, `text_completion`) chunks.

    The first chat chunk carries `delta.role`; `thinking` becomes `reasoning_content`;
    tool calls get an `index` counted over the whole answer. The `done` object becomes a
    chunk with `finish_reason` and, when `include_usage`, a usage chunk with no choices.
    """

    def __init__(
        self, *, model: str, include_usage: bool, kind: Literal["chat", "completion"] = "chat"
    ) -> None:
        self.model = model
        self.include_usage = include_usage
        self.kind = kind
        self.usage: Usage | None = None
        self._id = new_chat_id() if kind == "chat" else new_completion_id()
        self._created = unix_now()
        self._role_sent = False
        self._tool_calls_sent = 0
        self._finished = False

    def feed(self, chunk: Mapping[str, Any]) -> list[dict[str, Any]]:
        if self._finished or not isinstance(chunk, Mapping):
            return []
        out: list[dict[str, Any]] = []
        piece = self._chat_piece(chunk) if self.kind == "chat" else self._completion_piece(chunk)
        if piece is not None:
            out.append(piece)
        if chunk.get("done") is True:
            self.usage = usage_from_ollama(chunk) or self.usage
            out.extend(self._closing(chunk.get("done_reason")))
        return out

    def finish(self) -> list[dict[str, Any]]:
        """Closing chunks when the upstream ended without a `done` object."""
        if self._finished:
            return []
        return self._closing(None)

    def _chat_piece(self, chunk: Mapping[str, Any]) -> dict[str, Any] | None:
        message = mapping(chunk.get("message"))
        delta: dict[str, Any] = {}
        content = text(message.get("content"))
        if content:
            delta["content"] = content
        thinking = text(message.get("thinking"))
        if thinking:
            delta["reasoning_content"] = thinking
        calls = ollama_tool_calls_to_openai(message.get("tool_calls"))
        if calls:
            delta["tool_calls"] = [
                {"index": self._tool_calls_sent + offset, **call} for offset, call in enumerate(calls)
            ]
            self._tool_calls_sent += len(calls)
        if not delta:
            return None
        return self._chat_chunk(delta, None)

    def _completion_piece(self, chunk: Mapping[str, Any]) -> dict[str, Any] | None:
        response = text(chunk.get("response"))
        return self._completion_chunk(response, None) if response else None

    def _closing(self, done_reason: Any) -> list[dict[str, Any]]:
        self._finished = True
        reason = finish_reason_from_ollama(done_reason, tool_calls=self._tool_calls_sent > 0)
        closing = self._chat_chunk({}, reason) if self.kind == "chat" else self._completion_chunk("", reason)
        out = [closing]
        if self.include_usage and self.usage is not None:
            out.append(self._envelope([]) | {"usage": usage_to_openai(self.usage)})
        return out

    def _chat_chunk(self, delta: dict[str, Any], finish_reason: str | None) -> dict[str, Any]:
        if not self._role_sent:
            delta = {"role": "assistant", **delta}
            self._role_sent = True
        return self._envelope(
            [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]
        )

    def _completion_chunk(self, piece: str, finish_reason: str | None) -> dict[str, Any]:
        return self._envelope([{"index": 0, "text": piece, "logprobs": None, "finish_reason": finish_reason}])

    def _envelope(self, choices: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "id": self._id,
            "object": "chat.completion.chunk" if self.kind == "chat" else "text_completion",
            "created": self._created,
            "model": self.model,
            "choices": choices,
        }
