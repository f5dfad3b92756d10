"""Chat Completions stream -> OpenAI Responses stream events.

Wraps the transform of a chat leg (whatever the node's dialect, its output is
`chat.completion.chunk`s, post-processed) and turns its chunks into the Responses event
sequence, each event with a strictly increasing `sequence_number`:

    response.created, response.in_progress
    per output item, in the order the answer produces them:
      reasoning:     output_item.added, reasoning_summary_part.added,
                     reasoning_summary_text.delta*, reasoning_summary_text.done,
                     reasoning_summary_part.done, output_item.done
      message:       output_item.added, content_part.added, output_text.delta*,
                     output_text.done, content_part.done, output_item.done
      function_call: output_item.added, function_call_arguments.delta*,
                     function_call_arguments.done, output_item.done
    response.completed (or response.incomplete) with usage; response.failed from `fail()`

An item is closed when an item of another kind (or another tool call) starts, so every
item's events are contiguous. Tool calls are streamed as their fragments arrive.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from maestro_app.providers._coerce import integer, items, mapping, text
from maestro_app.providers.postprocess import StreamTransform, WrappingTransform
from maestro_app.providers.responses_answer import (
    function_call_item,
    incomplete_reason,
    message_item,
    new_item_id,
    output_text_part,
    reasoning_item,
    response_object,
    responses_usage,
)

Event = dict[str, Any]


class _Item:
    """The output item being streamed."""

    __slots__ = ("kind", "item_id", "index", "text", "call_id", "name", "chat_index")

    def __init__(
        self, kind: str, index: int, *, call_id: str = "", name: str = "", chat_index: int = -1
    ) -> None:
        self.kind = kind
        self.item_id = new_item_id({"reasoning": "rs", "message": "msg", "function_call": "fc"}[kind])
        self.index = index
        self.text = ""  # summary, message text or arguments
        self.call_id = call_id
        self.name = name
        self.chat_index = chat_index

    def body(self, status: str) -> Event:
        if self.kind == "reasoning":
            return reasoning_item(self.item_id, self.text)
        if self.kind == "message":
            return message_item(self.item_id, self.text, status=status)
        return function_call_item(
            self.item_id, call_id=self.call_id, name=self.name, arguments=self.text, status=status
        )


class ChatStreamToResponses(WrappingTransform):
    """Feed parsed upstream frames; send what comes out as `event:`/`data:` SSE events."""

    def __init__(self, inner: StreamTransform, *, model: str, request: Mapping[str, Any]) -> None:
        super().__init__(inner)
        self._model = model
        self._request = request
        self._id = new_item_id("resp")
        self._created = int(time.time())
        self._sequence = 0
        self._started = False
        self._ended = False
        self._current: _Item | None = None
        self._calls: dict[int, _Item] = {}
        self._output: list[Event] = []
        self._finish_reason: str | None = None
        self._usage: Event | None = None

    # -- the transform interface ------------------------------------------------------------

    def feed(self, chunk: dict[str, Any]) -> list[Event]:
        if self._ended:
            return []
        out = self._start()
        for piece in self._inner.feed(chunk):
            self._chunk(piece, out)
        return out

    def finish(self) -> list[Event]:
        if self._ended:
            return []
        out = self._start()
        for piece in self._inner.finish():
            self._chunk(piece, out)
        incomplete = incomplete_reason(self._finish_reason)
        status = "incomplete" if incomplete else "completed"
        self._close(out, status)
        if self._usage is None and self.usage is not None:
            self._usage = responses_usage(
                {"prompt_tokens": self.usage.prompt_tokens, "completion_tokens": self.usage.completion_tokens}
            )
        self._ended = True
        final = self._snapshot(status, incomplete=incomplete)
        out.append(self._event(f"response.{status}", response=final))
        return out

    def fail(self, message: str) -> list[Event]:
        """The events that end a stream the upstream broke: `response.failed`."""
        if self._ended:
            return []
        out = self._start()
        self._close(out, "incomplete", announce=False)
        self._ended = True
        error = {"code": "server_error", "message": message}
        out.append(self._event("response.failed", response=self._snapshot("failed", error=error)))
        return out

    # -- chat chunks ------------------------------------------------------------------------

    def _chunk(self, chunk: Mapping[str, Any], out: list[Event]) -> None:
        usage = responses_usage(chunk.get("usage"))
        if usage is not None:
            self._usage = usage
        for choice in items(chunk.get("choices")):
            choice = mapping(choice)
            if integer(choice.get("index")) not in (None, 0):
                continue
            delta = mapping(choice.get("delta"))
            reasoning = text(delta.get("reasoning_content")) or text(delta.get("reasoning"))
            if reasoning:
                self._reasoning(reasoning, out)
            content = delta.get("content")
            if isinstance(content, str) and content:
                self._text(content, out)
            for fragment in items(delta.get("tool_calls")):
                self._tool_call(mapping(fragment), out)
            if isinstance(choice.get("finish_reason"), str):
                self._finish_reason = choice["finish_reason"]

    def _reasoning(self, piece: str, out: list[Event]) -> None:
        self._append("reasoning", piece, out, "response.reasoning_summary_text.delta", summary_index=0)

    def _text(self, piece: str, out: list[Event]) -> None:
        self._append("message", piece, out, "response.output_text.delta", content_index=0, logprobs=[])

    def _append(self, kind: str, piece: str, out: list[Event], delta_event: str, **fields: Any) -> None:
        """`piece` of the current reasoning or message item, opening one if needed."""
        item = self._current
        if item is None or item.kind != kind:
            item = self._open(kind, out)
            added = "reasoning_summary_part" if kind == "reasoning" else "content_part"
            out.append(self._part_event(f"response.{added}.added", item))
        item.text += piece
        out.append(self._event(delta_event, **self._where(item), **fields, delta=piece))

    def _tool_call(self, fragment: Mapping[str, Any], out: list[Event]) -> None:
        function = mapping(fragment.get("function"))
        chat_index = integer(fragment.get("index"))
        if chat_index is None:
            # Without an index, a fragment with a new id (or a name) starts a call.
            fresh = text(fragment.get("id")) or text(function.get("name"))
            latest = (
                self._current.chat_index if self._current and self._current.kind == "function_call" else -1
            )
            chat_index = latest + 1 if fresh or latest < 0 else latest
        item = self._calls.get(chat_index)
        if item is None:
            call_id = text(fragment.get("id")) or new_item_id("call")
            item = self._open(
                "function_call", out, call_id=call_id, name=text(function.get("name")), chat_index=chat_index
            )
            self._calls[chat_index] = item
        elif item is not self._current:
            return  # a late fragment of a call already closed: its events are out
        arguments = function.get("arguments")
        if isinstance(arguments, str) and arguments:
            item.text += arguments
            out.append(
                self._event("response.function_call_arguments.delta", **self._where(item), delta=arguments)
            )

    # -- items ------------------------------------------------------------------------------

    def _open(self, kind: str, out: list[Event], **call: Any) -> _Item:
        self._close(out, "completed")
        item = _Item(kind, len(self._output), **call)
        self._output.append(item.body("in_progress"))
        self._current = item
        added = item.body("in_progress")
        if kind == "reasoning":
            added["summary"] = []
        elif kind == "message":
            added["content"] = []
        out.append(self._event("response.output_item.added", output_index=item.index, item=added))
        return item

    def _close(self, out: list[Event], status: str, *, announce: bool = True) -> None:
        item, self._current = self._current, None
        if item is None:
            return
        done = item.body(status)
        self._output[item.index] = done
        if not announce:
            return
        where = self._where(item)
        if item.kind == "reasoning":
            out.append(
                self._event("response.reasoning_summary_text.done", **where, summary_index=0, text=item.text)
            )
            out.append(self._part_event("response.reasoning_summary_part.done", item))
        elif item.kind == "message":
            out.append(
                self._event(
                    "response.output_text.done", **where, content_index=0, text=item.text, logprobs=[]
                )
            )
            out.append(self._part_event("response.content_part.done", item))
        else:
            out.append(self._event("response.function_call_arguments.done", **where, arguments=item.text))
        out.append(self._event("response.output_item.done", output_index=item.index, item=done))

    # -- events -----------------------------------------------------------------------------

    def _start(self) -> list[Event]:
        if self._started:
            return []
        self._started = True
        return [
            self._event("response.created", response=self._snapshot("in_progress")),
            self._event("response.in_progress", response=self._snapshot("in_progress")),
        ]

    def _snapshot(self, status: str, *, incomplete: str | None = None, error: Event | None = None) -> Event:
        return response_object(
            self._request,
            response_id=self._id,
            created_at=self._created,
            model=self._model,
            status=status,
            output=list(self._output),
            usage=self._usage if status != "in_progress" else None,
            incomplete=incomplete,
            error=error,
        )

    @staticmethod
    def _where(item: _Item) -> Event:
        return {"item_id": item.item_id, "output_index": item.index}

    def _part_event(self, kind: str, item: _Item) -> Event:
        if item.kind == "reasoning":
            part = {"type": "summary_text", "text": item.text}
            return self._event(kind, **self._where(item), summary_index=0, part=part)
        return self._event(kind, **self._where(item), content_index=0, part=output_text_part(item.text))

    def _event(self, kind: str, **fields: Any) -> Event:
        event = {"type": kind, "sequence_number": self._sequence, **fields}
        self._sequence += 1
        return event
