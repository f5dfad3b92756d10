"""The Grafana Assistant's answer events, built from the OpenAI chat stream of the pipeline.

    start     {"messageId", "chatId", "role": "assistant"}
    progress  ... + "content": the assistant message so far
    final     ... + "content", "stopReason", "usage", "model" (+ "error" when it broke off)

Every progress event carries the whole message so far (`[{"type": "text", "text"}]`, with
`thinking` and `tool_use` parts when the model produced them), so a client that missed one
loses nothing. Tool calls appear once their arguments are complete (at the finish reason),
as `{"type": "tool_use", "id", "name", "input"}`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from maestro_app.providers._coerce import integer, items, mapping, text
from maestro_app.providers.openai import new_tool_call_id, usage_from_openai
from maestro_app.providers.toolcalls import arguments_to_object

# OpenAI finish reasons -> the assistant's stop reasons
STOP_REASONS = {
    "stop": "end_turn",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "length": "max_tokens",
}
ERROR = "error"
CANCELLED = "cancelled"


@dataclass(slots=True)
class _Call:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


@dataclass(slots=True)
class AnswerBuilder:
    message_id: str
    chat_id: str
    model: str
    text: str = ""
    thinking: str = ""
    finish_reason: str | None = None
    usage: dict[str, int] | None = None
    error: str | None = None
    cancelled: bool = False
    _calls: dict[int, _Call] = field(default_factory=dict)

    def feed(self, chunk: dict[str, Any]) -> bool:
        """Take one OpenAI stream chunk; True when the visible message changed."""
        usage = usage_from_openai(chunk)
        if usage is not None:
            self.usage = {
                "inputTokens": usage.prompt_tokens,
                "outputTokens": usage.completion_tokens,
                "totalTokens": usage.total_tokens,
            }
        changed = False
        for choice in items(chunk.get("choices")):
            choice = mapping(choice)
            delta = mapping(choice.get("delta"))
            piece = text(delta.get("content"))
            reasoning = text(delta.get("reasoning_content")) or text(delta.get("reasoning"))
            if piece or reasoning:
                self.text += piece
                self.thinking += reasoning
                changed = True
            for call in items(delta.get("tool_calls")):
                self._add_call(mapping(call))
            if isinstance(choice.get("finish_reason"), str):
                self.finish_reason = choice["finish_reason"]
                changed = changed or bool(self._calls)
        return changed

    def _add_call(self, delta: Any) -> None:
        index = integer(delta.get("index"))
        call = self._calls.setdefault(len(self._calls) if index is None else index, _Call())
        call.id = call.id or text(delta.get("id")) or new_tool_call_id()
        function = mapping(delta.get("function"))
        call.name = call.name or text(function.get("name"))
        if arguments := text(function.get("arguments")):
            call.arguments.append(arguments)

    def fail(self, message: str) -> None:
        self.error = message

    @property
    def stop_reason(self) -> str:
        if self.error is not None:
            return ERROR
        if self.cancelled:
            return CANCELLED
        if self.finish_reason is None:
            return "end_turn"
        return STOP_REASONS.get(self.finish_reason, self.finish_reason)

    def content(self, *, final: bool = False) -> list[dict[str, Any]]:
        parts: list[dict[str, Any]] = []
        if self.thinking:
            parts.append({"type": "thinking", "thinking": self.thinking})
        if self.text:
            parts.append({"type": "text", "text": self.text})
        if final or self.finish_reason is not None:
            parts.extend(
                {
                    "type": "tool_use",
                    "id": call.id,
                    "name": call.name,
                    "input": arguments_to_object("".join(call.arguments)),
                }
                for _, call in sorted(self._calls.items())
                if call.name
            )
        if not parts and final:
            parts.append({"type": "text", "text": ""})
        return parts

    def _head(self) -> dict[str, Any]:
        return {"messageId": self.message_id, "chatId": self.chat_id, "role": "assistant"}

    def start_event(self) -> dict[str, Any]:
        return self._head()

    def progress_event(self) -> dict[str, Any]:
        return {**self._head(), "content": self.content()}

    def final_event(self) -> dict[str, Any]:
        event = {
            **self._head(),
            "content": self.content(final=True),
            "stopReason": self.stop_reason,
            "usage": self.usage,
            "model": self.model,
        }
        if self.error is not None:
            event["error"] = {"message": self.error}
        return event
