"""Anthropic Messages dialect, spoken to nodes through OpenAI chat completions.

    anthropic_to_openai_chat(body)          Messages request  -> chat completions request
    openai_chat_response_to_anthropic(...)  chat.completion   -> Message
    stop_reason_from_openai(...)            finish_reason     -> stop_reason, stop_sequence
    anthropic_usage(usage)                  Usage             -> Messages `usage`

An Anthropic request becomes an OpenAI chat request *before* routing, so the gateway's rules
(tool filtering, system prompts, groups' capability needs) and the existing legs (vLLM as
is, Ollama through the bridge, post-processing of printed tool calls and `<think>`) apply
unchanged; only the answer is turned back into a Message (streams: `stream_to_anthropic`).

Translation: `system` (text or text blocks) -> a first system message; text and image
blocks (base64 -> data URL, url as is) -> content parts; `tool_use` -> `tool_calls` with
JSON arguments; `tool_result` -> a `tool` message (its images in a user message after it);
`thinking` -> `reasoning_content`; tools with `input_schema` -> function tools; `tool_choice`
auto/any/tool/none -> auto/required/function/none; `stop_sequences` -> `stop`; `thinking`
enabled/disabled -> `chat_template_kwargs.enable_thinking` (vLLM; `think` on Ollama nodes;
`adaptive` and other kinds leave the model's default; the budget has no equivalent);
`output_config.format` (a JSON schema) -> `response_format`. Server tools (no
`input_schema`: web search, code execution...) and blocks of theirs have no meaning on a
node and are left out, as are `metadata`, `output_config.effort` and the other
Anthropic-only fields.

Bodies are checked before (`gateway.anthropic_body`); the translators stay tolerant anyway.
"""

import uuid
from collections.abc import Mapping
from typing import Any

import orjson

from maestro_app.providers._coerce import integer, items, mapping, text
from maestro_app.providers.openai import first_choice, text_of_content, usage_from_openai
from maestro_app.providers.tokens import estimate_tokens
from maestro_app.providers.toolcalls import arguments_to_object
from maestro_app.providers.types import Usage

Body = dict[str, Any]

_SAMPLING = ("temperature", "top_p", "top_k")
_TOOL_CHOICES = {"auto": "auto", "any": "required", "none": "none"}


def new_message_id() -> str:
    return f"msg_{uuid.uuid4().hex[:24]}"


def new_tool_use_id() -> str:
    return f"toolu_{uuid.uuid4().hex[:24]}"


# -- requests -------------------------------------------------------------------------------


def system_text(system: Any) -> str:
    """`system` as one text: a string, or the texts of its blocks joined by a blank line."""
    if isinstance(system, str):
        return system
    texts = [text(mapping(block).get("text")) for block in items(system)]
    return "\n\n".join(t for t in texts if t)


def _image_url(source: Mapping[str, Any]) -> str:
    if source.get("type") == "url":
        return text(source.get("url"))
    data = text(source.get("data"))
    if not data:
        return ""
    return f"data:{text(source.get('media_type')) or 'image/png'};base64,{data}"


def _document_text(block: Mapping[str, Any]) -> str:
    """Plain-text documents (the only kind a node can read) as text, titled."""
    source = mapping(block.get("source"))
    if source.get("type") == "content":
        body = _blocks_text(source.get("content"))
    else:
        body = text(source.get("data"))
    title = text(block.get("title"))
    return f"{title}\n\n{body}" if title and body else body


def _blocks_text(blocks: Any) -> str:
    if isinstance(blocks, str):
        return blocks
    return "\n".join(t for t in (_block_text(mapping(block)) for block in items(blocks)) if t)


def _block_text(block: Mapping[str, Any]) -> str:
    kind = block.get("type")
    if kind == "text":
        return text(block.get("text"))
    if kind == "document":
        return _document_text(block)
    if kind == "search_result":
        title, body = text(block.get("title")), _blocks_text(block.get("content"))
        return f"{title}\n\n{body}" if title and body else body
    return ""


def _part(block: Mapping[str, Any]) -> dict[str, Any] | None:
    """An OpenAI content part for a user-side block (None: not content)."""
    if block.get("type") == "image":
        url = _image_url(mapping(block.get("source")))
        return {"type": "image_url", "image_url": {"url": url}} if url else None
    piece = _block_text(block)
    return {"type": "text", "text": piece} if piece else None


def _content(parts: list[dict[str, Any]]) -> str | list[dict[str, Any]]:
    """Text-only content as one string (what every chat template reads), else the parts."""
    if all(part["type"] == "text" for part in parts):
        return "\n".join(part["text"] for part in parts)
    return parts


def _tool_message(block: Mapping[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The `tool` message of a `tool_result`, and its images (tool messages carry text only)."""
    content = block.get("content")
    blocks = [{"type": "text", "text": content}] if isinstance(content, str) else items(content)
    parts = [part for part in (_part(mapping(b)) for b in blocks) if part is not None]
    images = [part for part in parts if part["type"] == "image_url"]
    result = "\n".join(part["text"] for part in parts if part["type"] == "text")
    if not result and block.get("is_error") is True:
        result = "Error"
    message = {"role": "tool", "tool_call_id": text(block.get("tool_use_id")), "content": result}
    return message, images


def _user_messages(blocks: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Tool results first (they must follow the assistant's calls), then the user's parts."""
    tool_messages: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    for block in blocks:
        if block.get("type") == "tool_result":
            message, images = _tool_message(block)
            tool_messages.append(message)
            parts.extend(images)
        elif (part := _part(block)) is not None:
            parts.append(part)
    if parts:
        tool_messages.append({"role": "user", "content": _content(parts)})
    return tool_messages


def _json_text(value: Any) -> str:
    try:
        return orjson.dumps(value if value is not None else {}).decode()
    except TypeError:
        return "{}"


def _assistant_message(blocks: list[Mapping[str, Any]]) -> dict[str, Any]:
    texts: list[str] = []
    reasoning: list[str] = []
    calls: list[dict[str, Any]] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "thinking":
            reasoning.append(text(block.get("thinking")))
        elif kind == "tool_use":
            calls.append(
                {
                    "id": text(block.get("id")) or new_tool_use_id(),
                    "type": "function",
                    "function": {
                        "name": text(block.get("name")),
                        "arguments": _json_text(block.get("input")),
                    },
                }
            )
        elif piece := _block_text(block):
            texts.append(piece)
    content = "\n".join(texts)
    message: dict[str, Any] = {"role": "assistant", "content": content or (None if calls else "")}
    if calls:
        message["tool_calls"] = calls
    if any(reasoning):
        message["reasoning_content"] = "\n".join(r for r in reasoning if r)
    return message


def _messages(messages: Any) -> list[dict[str, Any]]:
    converted: list[dict[str, Any]] = []
    for message in (mapping(m) for m in items(messages)):
        role = "assistant" if message.get("role") == "assistant" else "user"
        content = message.get("content")
        if isinstance(content, str):
            converted.append({"role": role, "content": content})
            continue
        blocks = [mapping(block) for block in items(content)]
        if role == "assistant":
            converted.append(_assistant_message(blocks))
        else:
            converted.extend(_user_messages(blocks))
    return converted


def _tools(tools: Any) -> list[dict[str, Any]]:
    converted: list[dict[str, Any]] = []
    for tool in (mapping(t) for t in items(tools)):
        schema = tool.get("input_schema")
        if not isinstance(schema, Mapping):
            continue  # a server tool: only Anthropic's platform can run it
        function: dict[str, Any] = {"name": text(tool.get("name")), "parameters": dict(schema)}
        description = text(tool.get("description"))
        if description:
            function["description"] = description
        converted.append({"type": "function", "function": function})
    return converted


def _tool_choice(choice: Mapping[str, Any]) -> Any:
    kind = choice.get("type")
    if kind == "tool":
        return {"type": "function", "function": {"name": text(choice.get("name"))}}
    return _TOOL_CHOICES.get(text(kind))


def _is_prefill(messages: list[dict[str, Any]]) -> bool:
    """A last assistant message with text is a prefill: the answer continues it."""
    last = messages[-1] if messages else None
    return bool(last and last["role"] == "assistant" and last.get("content") and not last.get("tool_calls"))


def anthropic_to_openai_chat(body: Mapping[str, Any]) -> Body:
    """An OpenAI chat completions body for an Anthropic Messages (or count_tokens) body."""
    messages = _messages(body.get("messages"))
    system = system_text(body.get("system"))
    if system:
        messages.insert(0, {"role": "system", "content": system})
    result: Body = {"model": body.get("model"), "messages": messages, "stream": body.get("stream") is True}
    max_tokens = integer(body.get("max_tokens"))
    if max_tokens is not None:
        result["max_tokens"] = max_tokens
    for name in _SAMPLING:
        if body.get(name) is not None:
            result[name] = body[name]
    stops = [stop for stop in items(body.get("stop_sequences")) if isinstance(stop, str)]
    if stops:
        result["stop"] = stops
    tools = _tools(body.get("tools"))
    choice = mapping(body.get("tool_choice"))
    if tools:
        result["tools"] = tools
        if (tool_choice := _tool_choice(choice)) is not None:
            result["tool_choice"] = tool_choice
        if choice.get("disable_parallel_tool_use") is True:
            result["parallel_tool_calls"] = False
    schema = mapping(mapping(body.get("output_config")).get("format")).get("schema")
    if isinstance(schema, Mapping):
        result["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "response", "schema": dict(schema)},
        }
    thinking = mapping(body.get("thinking")).get("type")
    if thinking in ("enabled", "disabled"):
        result["chat_template_kwargs"] = {"enable_thinking": thinking == "enabled"}
    if _is_prefill(messages):
        # vLLM's names for "continue the last message"; Ollama continues one on its own.
        result["continue_final_message"] = True
        result["add_generation_prompt"] = False
    return result


# -- answers --------------------------------------------------------------------------------


def anthropic_usage(usage: Usage) -> dict[str, int]:
    return {
        "input_tokens": usage.prompt_tokens,
        "output_tokens": usage.completion_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }


def stop_reason_from_openai(
    finish_reason: Any, *, tool_use: bool, stop_reason: Any = None, stops: Any = None
) -> tuple[str, str | None]:
    """(stop_reason, stop_sequence). `stop_reason` is vLLM's name for the stop string that
    ended the answer; other upstreams do not say, and their stops read as `end_turn`."""
    if finish_reason == "length":
        return "max_tokens", None
    if tool_use or finish_reason in ("tool_calls", "function_call"):
        return "tool_use", None
    if finish_reason == "content_filter":
        return "refusal", None
    if isinstance(stop_reason, str) and stop_reason in items(stops):
        return "stop_sequence", stop_reason
    return "end_turn", None


def tool_use_block(call: Mapping[str, Any]) -> dict[str, Any]:
    function = mapping(call.get("function"))
    return {
        "type": "tool_use",
        "id": text(call.get("id")) or new_tool_use_id(),
        "name": text(function.get("name")),
        "input": arguments_to_object(function.get("arguments")),
    }


def _estimated(input_estimate: int, content: list[dict[str, Any]]) -> Usage:
    chars = sum(
        len(block.get("text") or block.get("thinking") or "") or len(orjson.dumps(block.get("input") or {}))
        for block in content
    )
    return Usage(input_estimate, estimate_tokens(chars))


def openai_chat_response_to_anthropic(
    answer: Mapping[str, Any], *, model: str, request: Mapping[str, Any], input_estimate: int
) -> Body:
    """A Message for a (post-processed) `chat.completion`; `request` is the OpenAI body it
    answered (its stop strings). When the upstream counted nothing, usage is estimated:
    `input_estimate` and the answer's characters / 4."""
    choice = first_choice(answer)
    message = mapping(choice.get("message"))
    content: list[dict[str, Any]] = []
    reasoning = text(message.get("reasoning_content")) or text(message.get("reasoning"))
    if reasoning:
        content.append({"type": "thinking", "thinking": reasoning, "signature": ""})
    answer_text = text_of_content(message.get("content"))
    if answer_text:
        content.append({"type": "text", "text": answer_text})
    content.extend(tool_use_block(mapping(call)) for call in items(message.get("tool_calls")))
    stop_reason, stop_sequence = stop_reason_from_openai(
        choice.get("finish_reason"),
        tool_use=any(block["type"] == "tool_use" for block in content),
        stop_reason=choice.get("stop_reason"),
        stops=request.get("stop"),
    )
    return {
        "id": new_message_id(),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": stop_sequence,
        "usage": anthropic_usage(usage_from_openai(answer) or _estimated(input_estimate, content)),
    }
