"""OpenAI chat stream → Anthropic Messages stream events.

Wraps the (post-processed) OpenAI-side stream transform of a chat leg and turns the
`chat.completion.chunk`s it emits into the Messages event sequence:

    message_start, ping,
    per content block: content_block_start, content_block_delta..., content_block_stop
        (thinking: thinking_delta; text: text_delta; tool_use: input_json_delta),
    message_delta (stop_reason, stop_sequence, usage), message_stop

Blocks follow each other: reasoning, text and tool calls open a new block whenever the
kind changes. Tool calls are streamed as they arrive: a tool_use block opens once a call's
name is known, and each upstream arguments fragment becomes one `input_json_delta`. The
closing events wait for `finish()`, since OpenAI usage comes after the finish reason.
Each event is a dict whose `type` is also the SSE event name.
"""

import logging
from collections.abc import Mapping
from typing import Any

from maestro_app.providers._coerce import integer, items, mapping, text
from maestro_app.providers.anthropic import (
    anthropic_usage,
    new_message_id,
    new_tool_use_id,
    stop_reason_from_openai,
)
from maestro_app.providers.openai import first_choice
from maestro_app.providers.postprocess import StreamTransform, WrappingTransform
from maestro_app.providers.stream_to_ollama import PartialToolCall
from maestro_app.providers.tokens import estimate_tokens
from maestro_app.providers.toolcalls import arguments_to_json
from maestro_app.providers.types import Usage

logger = logging.getLogger(__name__)

Event = dict[str, Any]


class OpenAIChatStreamToAnthropic(WrappingTransform):
    """Anthropic events for the chunks of `inner`, an OpenAI-side chat stream transform."""

    __slots__ = (
        "_model", "_input_estimate", "_stops", "_started", "_finished", "_index", "_open",
        "_open_call", "_done_calls", "_pending", "_tool_use", "_finish_reason", "_stop_reason", "_chars",
    )  # fmt: skip

    def __init__(self, inner: StreamTransform, *, model: str, input_estimate: int, stops: Any = None) -> None:
        super().__init__(inner)
        self._model = model
        self._input_estimate = input_estimate
        self._stops = stops
        self._started = False
        self._finished = False
        self._index = -1  # index of the open block; -1 before the first
        self._open: str | None = None  # "thinking" | "text" | "tool_use" | None
        self._open_call: int | None = None  # upstream tool-call index of the open tool_use
        self._done_calls: set[int] = set()
        self._pending: dict[int, PartialToolCall] = {}
        self._tool_use = False
        self._finish_reason: Any = None
        self._stop_reason: Any = None
        self._chars = 0  # of answer text, for an estimate when the upstream counts nothing

    def feed(self, chunk: dict[str, Any]) -> list[Event]:
        if self._finished:
            return []
        # message_start goes out with the first upstream chunk, whatever that chunk says.
        return self._start() + self._events(self._inner.feed(chunk))

    def finish(self) -> list[Event]:
        if self._finished:
            return []
        out = self._start() + self._events(self._inner.finish())
        out.extend(self._close_block())
        self._finished = True
        usage = self._inner.usage or Usage(self._input_estimate, estimate_tokens(self._chars))
        stop_reason, stop_sequence = stop_reason_from_openai(
            self._finish_reason, tool_use=self._tool_use, stop_reason=self._stop_reason, stops=self._stops
        )
        out.append(
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": stop_sequence},
                "usage": anthropic_usage(usage),
            }
        )
        out.append({"type": "message_stop"})
        return out

    # -- chunks -> events ---------------------------------------------------------------

    def _events(self, chunks: list[dict[str, Any]]) -> list[Event]:
        out: list[Event] = []
        for chunk in chunks:
            if not chunk.get("choices"):
                continue
            choice = first_choice(chunk)
            delta = mapping(choice.get("delta"))
            reasoning = text(delta.get("reasoning_content")) or text(delta.get("reasoning"))
            if reasoning:
                out.extend(self._text("thinking", reasoning))
            content = delta.get("content")
            if isinstance(content, str) and content:
                out.extend(self._text("text", content))
            for fragment in items(delta.get("tool_calls")):
                if isinstance(fragment, Mapping):
                    out.extend(self._tool_fragment(fragment))
            if choice.get("finish_reason"):
                self._finish_reason = choice["finish_reason"]
                self._stop_reason = choice.get("stop_reason")
        return out

    def _start(self) -> list[Event]:
        if self._started:
            return []
        self._started = True
        message: dict[str, Any] = {
            "id": new_message_id(),
            "type": "message",
            "role": "assistant",
            "model": self._model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": anthropic_usage(Usage(self._input_estimate, 0)),
        }
        return [{"type": "message_start", "message": message}, {"type": "ping"}]

    def _open_block(self, kind: str, block: dict[str, Any]) -> list[Event]:
        out = self._close_block()
        self._index += 1
        self._open = kind
        return [*out, {"type": "content_block_start", "index": self._index, "content_block": block}]

    def _close_block(self) -> list[Event]:
        if self._open is None:
            return []
        if self._open_call is not None:
            self._done_calls.add(self._open_call)
            self._open_call = None
        self._open = None
        return [{"type": "content_block_stop", "index": self._index}]

    def _delta(self, delta: dict[str, Any]) -> Event:
        return {"type": "content_block_delta", "index": self._index, "delta": delta}

    def _text(self, kind: str, piece: str) -> list[Event]:
        out: list[Event] = []
        if self._open != kind:
            empty = (
                {"type": "thinking", "thinking": "", "signature": ""}
                if kind == "thinking"
                else {"type": "text", "text": ""}
            )
            out = self._open_block(kind, empty)
        self._chars += len(piece)
        field = "thinking" if kind == "thinking" else "text"
        out.append(self._delta({"type": f"{field}_delta", field: piece}))
        return out

    def _call_index(self, fragment: Mapping[str, Any]) -> int:
        index = integer(fragment.get("index"))
        if index is not None:
            return index
        # Without `index`, a fragment with an id starts a call; one without continues the last.
        latest = max([*self._done_calls, *self._pending, -1 if self._open_call is None else self._open_call])
        return latest + 1 if text(fragment.get("id")) or latest < 0 else latest

    def _tool_fragment(self, fragment: Mapping[str, Any]) -> list[Event]:
        index = self._call_index(fragment)
        function = mapping(fragment.get("function"))
        arguments = function.get("arguments")
        piece = arguments if isinstance(arguments, str) else arguments_to_json(arguments) if arguments else ""
        if index == self._open_call and self._open == "tool_use":
            return [self._json(piece)] if piece else []
        if index in self._done_calls:
            logger.warning("dropping arguments for tool call %d after its block was closed", index)
            return []
        pending = self._pending.setdefault(index, PartialToolCall())
        pending.call_id = pending.call_id or text(fragment.get("id"))
        pending.name = pending.name or text(function.get("name"))
        pending.arguments += piece
        if not pending.name:
            return []
        del self._pending[index]
        self._tool_use = True
        block = {
            "type": "tool_use",
            "id": pending.call_id or new_tool_use_id(),
            "name": pending.name,
            "input": {},
        }
        out = self._open_block("tool_use", block)
        self._open_call = index
        if pending.arguments:
            out.append(self._json(pending.arguments))
        return out

    def _json(self, piece: str) -> Event:
        self._chars += len(piece)
        return self._delta({"type": "input_json_delta", "partial_json": piece})
