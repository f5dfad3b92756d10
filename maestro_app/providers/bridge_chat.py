"""Chat between dialects: OpenAI `/v1/chat/completions` ↔ Ollama `/api/chat`.

Request translators take a client body and return a new body for the node; answer
translators take a node's non-streamed answer and return what the client expects.
Inputs are never modified.
"""

from collections.abc import Mapping
from typing import Any

from maestro_app.providers._coerce import items, mapping, text
from maestro_app.providers.media import base64_to_data_url, data_url_to_base64
from maestro_app.providers.ollama import (
    done_reason_from_openai,
    ollama_metrics,
    rfc3339,
    unix_from_rfc3339,
    usage_from_ollama,
)
from maestro_app.providers.openai import (
    finish_reason_from_ollama,
    first_choice,
    image_urls_of_content,
    new_chat_id,
    new_tool_call_id,
    text_of_content,
    unix_now,
    usage_from_openai,
    usage_to_openai,
)
from maestro_app.providers.params import (
    ollama_format_to_openai,
    ollama_options_to_openai_params,
    ollama_think_to_openai_params,
    openai_params_to_ollama_options,
    openai_reasoning_to_ollama_think,
    openai_response_format_to_ollama,
)
from maestro_app.providers.toolcalls import (
    ollama_tool_calls_to_openai,
    ollama_tools_to_openai,
    openai_tool_calls_to_ollama,
    openai_tools_to_ollama,
)
from maestro_app.providers.types import Usage

_OLLAMA_ROLES = {"developer": "system", "function": "tool"}


def _reasoning_of(message: Mapping[str, Any]) -> str:
    # vLLM has sent both names over time.
    return text(message.get("reasoning_content")) or text(message.get("reasoning"))


# --- requests: OpenAI → Ollama -------------------------------------------------------


def _openai_message_to_ollama(message: Mapping[str, Any], tool_names: Mapping[str, str]) -> dict[str, Any]:
    role = text(message.get("role")) or "user"
    role = _OLLAMA_ROLES.get(role, role)
    content = message.get("content")
    converted: dict[str, Any] = {"role": role, "content": text_of_content(content)}
    # Ollama cannot fetch remote images, so only inline (data:) images survive.
    images = [b64 for url in image_urls_of_content(content) if (b64 := data_url_to_base64(url))]
    if images:
        converted["images"] = images
    tool_calls = openai_tool_calls_to_ollama(message.get("tool_calls"))
    if tool_calls:
        converted["tool_calls"] = tool_calls
    thinking = _reasoning_of(message)
    if thinking:
        converted["thinking"] = thinking
    if role == "tool":
        call_id = text(message.get("tool_call_id"))
        name = text(message.get("name")) or tool_names.get(call_id, "")
        if name:
            converted["tool_name"] = name
        if call_id:
            converted["tool_call_id"] = call_id
    return converted


def _openai_messages_to_ollama(messages: Any) -> list[dict[str, Any]]:
    converted: list[dict[str, Any]] = []
    tool_names: dict[str, str] = {}
    for message in items(messages):
        if not isinstance(message, Mapping):
            continue
        for call in items(message.get("tool_calls")):
            call_id = text(mapping(call).get("id"))
            if call_id:
                tool_names[call_id] = text(mapping(mapping(call).get("function")).get("name"))
        converted.append(_openai_message_to_ollama(message, tool_names))
    return converted


def openai_chat_to_ollama(body: Mapping[str, Any]) -> dict[str, Any]:
    """An Ollama `/api/chat` body for an OpenAI chat completions body."""
    result: dict[str, Any] = {}
    if "model" in body:
        result["model"] = body["model"]
    result["messages"] = _openai_messages_to_ollama(body.get("messages"))
    result["stream"] = body.get("stream") is True
    # Ollama has no tool_choice: "none" is honoured by not offering the tools at all.
    tools = openai_tools_to_ollama(body.get("tools")) if body.get("tool_choice") != "none" else []
    if tools:
        result["tools"] = tools
    options = openai_params_to_ollama_options(body)
    if options:
        result["options"] = options
    fmt = openai_response_format_to_ollama(body.get("response_format"))
    if fmt is not None:
        result["format"] = fmt
    think = openai_reasoning_to_ollama_think(body)
    if think is not None:
        result["think"] = think
    return result


# --- requests: Ollama → OpenAI -------------------------------------------------------


def _openai_content(message: Mapping[str, Any]) -> str | list[dict[str, Any]]:
    content = text(message.get("content"))
    images = [image for image in items(message.get("images")) if isinstance(image, str) and image]
    if not images:
        return content
    parts: list[dict[str, Any]] = [{"type": "text", "text": content}] if content else []
    parts.extend({"type": "image_url", "image_url": {"url": base64_to_data_url(image)}} for image in images)
    return parts


def _ollama_messages_to_openai(messages: Any) -> list[dict[str, Any]]:
    converted: list[dict[str, Any]] = []
    # Ollama answers a tool call by tool name, OpenAI by call id: results are paired with
    # the calls of the latest assistant message, by name first, else in order.
    pending: list[tuple[str, str]] = []
    for message in items(messages):
        if not isinstance(message, Mapping):
            continue
        role = text(message.get("role")) or "user"
        content = _openai_content(message)
        result: dict[str, Any] = {"role": role, "content": content}
        tool_calls = ollama_tool_calls_to_openai(message.get("tool_calls")) if role == "assistant" else []
        if tool_calls:
            result["tool_calls"] = tool_calls
            result["content"] = content or None
            pending = [(call["id"], call["function"]["name"]) for call in tool_calls]
        if role == "tool":
            result["tool_call_id"] = text(message.get("tool_call_id")) or _claim_call_id(
                pending, text(message.get("tool_name")) or text(message.get("name"))
            )
        converted.append(result)
    return converted


def _claim_call_id(pending: list[tuple[str, str]], name: str) -> str:
    for position, (call_id, call_name) in enumerate(pending):
        if call_name == name:
            del pending[position]
            return call_id
    if pending:
        return pending.pop(0)[0]
    return new_tool_call_id()


def ollama_chat_to_openai(body: Mapping[str, Any]) -> dict[str, Any]:
    """An OpenAI chat completions body for an Ollama `/api/chat` body."""
    result: dict[str, Any] = {}
    if "model" in body:
        result["model"] = body["model"]
    result["messages"] = _ollama_messages_to_openai(body.get("messages"))
    tools = ollama_tools_to_openai(body.get("tools"))
    if tools:
        result["tools"] = tools
    result.update(ollama_options_to_openai_params(body.get("options")))
    response_format = ollama_format_to_openai(body.get("format"))
    if response_format is not None:
        result["response_format"] = response_format
    result.update(ollama_think_to_openai_params(body.get("think")))
    stream = body.get("stream") is not False
    result["stream"] = stream
    if stream:
        result["stream_options"] = {"include_usage": True}
    return result


# --- answers -------------------------------------------------------------------------


def ollama_chat_response_to_openai(resp: Mapping[str, Any], *, model: str) -> dict[str, Any]:
    """A `chat.completion` for a non-streamed Ollama `/api/chat` answer."""
    source = mapping(resp)
    message = mapping(source.get("message"))
    content = text(message.get("content"))
    tool_calls = ollama_tool_calls_to_openai(message.get("tool_calls"))
    converted: dict[str, Any] = {
        "role": "assistant",
        "content": content if content or not tool_calls else None,
    }
    if tool_calls:
        converted["tool_calls"] = tool_calls
    thinking = text(message.get("thinking"))
    if thinking:
        converted["reasoning_content"] = thinking
    usage = usage_from_ollama(source) or Usage(0, 0)
    return {
        "id": new_chat_id(),
        "object": "chat.completion",
        "created": unix_from_rfc3339(source.get("created_at")) or unix_now(),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": converted,
                "logprobs": None,
                "finish_reason": finish_reason_from_ollama(
                    source.get("done_reason"), tool_calls=bool(tool_calls)
                ),
            }
        ],
        "usage": usage_to_openai(usage),
    }


def openai_chat_response_to_ollama(resp: Mapping[str, Any], *, model: str) -> dict[str, Any]:
    """A final Ollama `/api/chat` answer for a non-streamed OpenAI chat completion."""
    source = mapping(resp)
    choice = first_choice(source)
    message = mapping(choice.get("message"))
    converted: dict[str, Any] = {"role": "assistant", "content": text_of_content(message.get("content"))}
    thinking = _reasoning_of(message)
    if thinking:
        converted["thinking"] = thinking
    tool_calls = openai_tool_calls_to_ollama(message.get("tool_calls"))
    if tool_calls:
        converted["tool_calls"] = tool_calls
    return {
        "model": model,
        "created_at": rfc3339(source.get("created")),
        "message": converted,
        "done": True,
        "done_reason": done_reason_from_openai(choice.get("finish_reason")),
        **ollama_metrics(usage_from_openai(source)),
    }
