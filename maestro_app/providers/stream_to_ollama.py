"""OpenAI stream → Ollama stream.

Feed each parsed SSE payload (not `[DONE]`) of an OpenAI chat completions (or completions)
stream; send what comes out as NDJSON lines, then `finish()`'s lines. Error payloads
(`{"error": ...}`) are the caller's to handle: they are not answer chunks.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from maestro_app.providers._coerce import integer, items, mapping, text
from maestro_app.providers.ollama import done_reason_from_openai, ollama_metrics, rfc3339
from maestro_app.providers.openai import first_choice, text_of_content, usage_from_openai
from maestro_app.providers.toolcalls import arguments_to_json, arguments_to_object
from maestro_app.providers.types import Usage


@dataclass(slots=True)
class PartialToolCall:
    """A streamed tool call gathered from its fragments."""

    call_id: str = ""
    name: str = ""
    arguments: str = ""


class OpenAIChatStreamToOllama:
    """Turns OpenAI stream chunks into Ollama `/api/chat` (or, with `kind="generate"`,
    `/api/generate`) stream objects.

    Content and `reasoning_content` pass through as they come. Tool-call fragments are
    gathered by `index` and sent as one `message.tool_calls` object when the choice
    finishes, since Ollama clients expect whole calls with parsed arguments. The final
    `done` object comes from `finish()`, after the usage chunk that follows the finish.
    """

    def __init__(self, *, model: str, kind: Literal["chat", "generate"] = "chat") -> None:
        self.model = model
        self.kind = kind
        self.usage: Usage | None = None
        self._finish_reason: str | None = None
        self._tool_calls: dict[int, PartialToolCall] = {}
        self._finished = False

    def feed(self, chunk: Mapping[str, Any]) -> list[dict[str, Any]]:
        if self._finished or not isinstance(chunk, Mapping):
            return []
        self.usage = usage_from_openai(chunk) or self.usage
        choice = first_choice(chunk)
        out: list[dict[str, Any]] = []
        if self.kind == "chat":
            delta = mapping(choice.get("delta"))
            self._gather_tool_calls(delta.get("tool_calls"))
            content = text_of_content(delta.get("content"))
            thinking = text(delta.get("reasoning_content")) or text(delta.get("reasoning"))
            if content or thinking:
                message: dict[str, Any] = {"role": "assistant", "content": content}
                if thinking:
                    message["thinking"] = thinking
                out.append(self._object(message=message))
        else:
            piece = text(choice.get("text"))
            if piece:
                out.append(self._object(response=piece))
        finish_reason = choice.get("finish_reason")
        if isinstance(finish_reason, str) and finish_reason:
            self._finish_reason = finish_reason
            out.extend(self._whole_tool_calls())
        return out

    def finish(self) -> list[dict[str, Any]]:
        """Any tool calls still gathered, then the final `done` object."""
        if self._finished:
            return []
        self._finished = True
        out = self._whole_tool_calls()
        if self.kind == "chat":
            final = self._object(message={"role": "assistant", "content": ""})
        else:
            final = self._object(response="")
        final["done"] = True
        final["done_reason"] = done_reason_from_openai(self._finish_reason)
        final.update(ollama_metrics(self.usage))
        out.append(final)
        return out

    def _gather_tool_calls(self, fragments: Any) -> None:
        for fragment in items(fragments):
            if not isinstance(fragment, Mapping):
                continue
            call_id = text(fragment.get("id"))
            index = integer(fragment.get("index"))
            if index is None:
                # Without `index`, a fragment with a new id starts a call; one without an
                # id continues the latest call.
                known = {call.call_id for call in self._tool_calls.values()}
                latest = max(self._tool_calls, default=-1)
                index = latest + 1 if latest < 0 or (call_id and call_id not in known) else latest
            call = self._tool_calls.setdefault(index, PartialToolCall())
            if call_id and not call.call_id:
                call.call_id = call_id
            function = mapping(fragment.get("function"))
            name = text(function.get("name"))
            if name and not call.name:
                call.name = name
            arguments = function.get("arguments")
            if isinstance(arguments, str):
                call.arguments += arguments
            elif isinstance(arguments, Mapping):
                call.arguments += arguments_to_json(arguments)

    def _whole_tool_calls(self) -> list[dict[str, Any]]:
        if not self._tool_calls:
            return []
        # A fragment stream that never named its function is noise, not a call.
        partials = [self._tool_calls[index] for index in sorted(self._tool_calls)]
        self._tool_calls.clear()
        calls: list[dict[str, Any]] = []
        for partial in (partial for partial in partials if partial.name):
            call: dict[str, Any] = {
                "function": {
                    "index": len(calls),
                    "name": partial.name,
                    "arguments": arguments_to_object(partial.arguments),
                }
            }
            if partial.call_id:
                call["id"] = partial.call_id
            calls.append(call)
        if not calls:
            return []
        return [self._object(message={"role": "assistant", "content": "", "tool_calls": calls})]

    def _object(self, **fields: Any) -> dict[str, Any]:
        return {"model": self.model, "created_at": rfc3339(), **fields, "done": False}
