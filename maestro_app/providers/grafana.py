"""Grafana Assistant dialect (SPEC §2.5): messages, prompts, and the chat request they make.

A Grafana message is `{"role", "content": [part, ...]}` (a string content is one text part).
Parts the gateway understands:

    {"type": "text", "text"}                         user, assistant, system
    {"type": "thinking", "thinking"}                 assistant (never sent back to a model)
    {"type": "image", "url"}  or  {"type": "image", "data", "mimeType"}   user
    {"type": "tool_use", "id", "name", "input"}      assistant: a tool call
    {"type": "tool_result", "toolUseId", "content", "isError"?}   user or tool: its answer

Other part types are kept in the chat as the client sent them and left out of what the
model sees. A prompt (`prompt`, `systemPrompt`, `tools`, `maxTokens`, `temperature`) plus
the chat's stored messages become one OpenAI chat request, which then goes through the
gateway's normal pipeline.

Input errors raise `BadRequest` with the JSON path of the offending value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from maestro_app.domain.errors import BadRequest
from maestro_app.providers.toolcalls import arguments_to_json

ROLES = frozenset({"user", "assistant", "system", "tool"})
NAME_MAX = 512
ORIGIN_MAX = 128
Part = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Message:
    role: str
    content: list[Part]


@dataclass(frozen=True, slots=True)
class Prompt:
    """What `POST chats/{id}/prompt-stream` asks for."""

    content: list[Part] | None  # the new user message; None continues the stored chat
    system_prompt: str | None = None
    tools: list[dict[str, Any]] = field(default_factory=list)
    max_tokens: int | None = None
    temperature: float | None = None


# -- reading client input -----------------------------------------------------------------


def _fail(where: str, problem: str) -> BadRequest:
    return BadRequest(f"{where} {problem}", code="invalid_value")


def _string(obj: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str | None:
    value = obj.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise _fail(f"{where}.{key}", "must be a string")
    return value


def parse_part(part: Any, where: str) -> Part:
    if not isinstance(part, dict) or not isinstance(part.get("type"), str) or not part["type"]:
        raise _fail(where, 'must be an object with a string "type"')
    kind = part["type"]
    if kind == "text":
        _string(part, "text", where)
    elif kind == "thinking":
        _string(part, "thinking", where)
    elif kind == "image":
        if part.get("url") is None:
            _string(part, "data", where)
            _string(part, "mimeType", where)
        else:
            _string(part, "url", where)
    elif kind == "tool_use":
        _string(part, "id", where)
        if not _string(part, "name", where):
            raise _fail(f"{where}.name", "must not be empty")
    elif kind == "tool_result":
        _string(part, "toolUseId", where)
        result = part.get("content")
        if result is not None and not isinstance(result, str):
            parse_content(result, f"{where}.content")
        if part.get("isError") is not None and not isinstance(part["isError"], bool):
            raise _fail(f"{where}.isError", "must be a boolean")
    return part


def parse_content(value: Any, where: str) -> list[Part]:
    if isinstance(value, str):
        return [{"type": "text", "text": value}]
    if not isinstance(value, list):
        raise _fail(where, "must be a string or an array of parts")
    return [parse_part(part, f"{where}[{i}]") for i, part in enumerate(value)]


def parse_message(obj: Any, where: str) -> Message:
    if not isinstance(obj, dict):
        raise _fail(where, "must be an object")
    role = obj.get("role")
    if role not in ROLES:
        raise _fail(f"{where}.role", f"must be one of {', '.join(sorted(ROLES))}")
    content = parse_content(obj.get("content"), f"{where}.content")
    if role == "tool" and any(part["type"] != "tool_result" for part in content):
        raise _fail(f"{where}.content", "of a tool message may only hold tool_result parts")
    return Message(role=role, content=content)


def parse_messages(body: Any) -> list[Message]:
    """`POST chats/{id}/messages`: one message, a list of them, or `{"messages": [...]}`."""
    if isinstance(body, dict) and "role" not in body and isinstance(body.get("messages"), list):
        body = body["messages"]
    if isinstance(body, dict):
        return [parse_message(body, "message")]
    if not isinstance(body, list) or not body:
        raise BadRequest("Expected a message object or a non-empty array of messages")
    return [parse_message(obj, f"messages[{i}]") for i, obj in enumerate(body)]


def parse_prompt(body: dict[str, Any]) -> Prompt:
    content = None
    if body.get("prompt") is not None:
        content = parse_content(body["prompt"], "prompt")
        if not any(_has_input(part) for part in content):
            raise _fail("prompt", "must not be empty")
    system = _string(body, "systemPrompt", "body", required=False)
    tools = body.get("tools")
    if tools is not None and not isinstance(tools, list):
        raise _fail("tools", "must be an array")
    max_tokens = body.get("maxTokens")
    if max_tokens is not None and (
        not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or not 0 < max_tokens < 2**31
    ):
        raise _fail("maxTokens", "must be a positive integer")
    temperature = body.get("temperature")
    if temperature is not None and (
        not isinstance(temperature, int | float) or isinstance(temperature, bool) or not 0 <= temperature <= 2
    ):
        raise _fail("temperature", "must be a number from 0 to 2")
    return Prompt(
        content=content,
        system_prompt=system or None,
        tools=[openai_tool(tool, f"tools[{i}]") for i, tool in enumerate(tools or ())],
        max_tokens=max_tokens,
        temperature=temperature,
    )


def _has_input(part: Part) -> bool:
    return part["type"] != "text" or bool(part["text"].strip())


def openai_tool(tool: Any, where: str) -> dict[str, Any]:
    """An OpenAI function tool from either that shape or the MCP/Anthropic one
    (`{"name", "description", "inputSchema" | "input_schema" | "parameters"}`)."""
    if not isinstance(tool, dict):
        raise _fail(where, "must be an object")
    function = tool.get("function") if tool.get("type") == "function" else tool
    if not isinstance(function, dict) or not isinstance(function.get("name"), str) or not function["name"]:
        raise _fail(where, 'must name the tool ("name", or "function.name")')
    schema = next(
        (function[key] for key in ("parameters", "inputSchema", "input_schema") if key in function), None
    )
    if schema is not None and not isinstance(schema, dict):
        raise _fail(f"{where}.inputSchema", "must be an object")
    out: dict[str, Any] = {
        "name": function["name"],
        "parameters": schema or {"type": "object", "properties": {}},
    }
    if isinstance(function.get("description"), str):
        out["description"] = function["description"]
    return {"type": "function", "function": out}


# -- to the model ---------------------------------------------------------------------------


def _text(content: Iterable[Part]) -> str:
    return "\n".join(part["text"] for part in content if part["type"] == "text")


def _user_parts(content: list[Part]) -> str | list[dict[str, Any]] | None:
    parts: list[dict[str, Any]] = []
    for part in content:
        if part["type"] == "text":
            parts.append({"type": "text", "text": part["text"]})
        elif part["type"] == "image":
            url = part.get("url") or f"data:{part['mimeType']};base64,{part['data']}"
            parts.append({"type": "image_url", "image_url": {"url": url}})
    if not parts:
        return None
    if all(p["type"] == "text" for p in parts):
        return "\n".join(p["text"] for p in parts)
    return parts


def _tool_results(content: list[Part]) -> list[dict[str, Any]]:
    results = []
    for part in content:
        if part["type"] != "tool_result":
            continue
        value = part.get("content")
        answer = value if isinstance(value, str) else _text(value or ())
        results.append({"role": "tool", "tool_call_id": part["toolUseId"], "content": answer})
    return results


def _assistant(content: list[Part]) -> dict[str, Any] | None:
    calls = [
        {
            "id": part["id"],
            "type": "function",
            "function": {"name": part["name"], "arguments": arguments_to_json(part.get("input"))},
        }
        for part in content
        if part["type"] == "tool_use"
    ]
    text = _text(content)
    if not text and not calls:
        return None
    message: dict[str, Any] = {"role": "assistant", "content": text or None}
    if calls:
        message["tool_calls"] = calls
    return message


def openai_messages(messages: Iterable[Message]) -> list[dict[str, Any]]:
    """The conversation as OpenAI chat messages; thinking and unknown parts are left out."""
    out: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "assistant":
            converted = _assistant(message.content)
            if converted is not None:
                out.append(converted)
        elif message.role == "system":
            if text := _text(message.content):
                out.append({"role": "system", "content": text})
        else:
            out.extend(_tool_results(message.content))
            user = _user_parts(message.content)
            if user is not None:
                out.append({"role": "user", "content": user})
    return out


def chat_request(*, model: str, prompt: Prompt, history: Iterable[Message]) -> dict[str, Any]:
    """The OpenAI chat request of a prompt: streamed, with usage, tools kept."""
    conversation = list(history)
    if prompt.content is not None:
        conversation.append(Message(role="user", content=prompt.content))
    if not conversation or conversation[-1].role not in ("user", "tool"):
        raise BadRequest(
            "Missing prompt: the chat does not end with a user message, so there is nothing to answer",
            code="missing_field",
        )
    messages = openai_messages(conversation)
    if not messages:
        raise BadRequest("The chat has nothing to send to the model: give a prompt", code="missing_field")
    if prompt.system_prompt:
        messages.insert(0, {"role": "system", "content": prompt.system_prompt})
    body: dict[str, Any] = {
        "model": model,
        "messages": messages,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if prompt.tools:
        body["tools"] = prompt.tools
    if prompt.max_tokens is not None:
        body["max_tokens"] = prompt.max_tokens
    if prompt.temperature is not None:
        body["temperature"] = prompt.temperature
    return body
