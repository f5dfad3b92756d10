"""Tool calls between dialects.

OpenAI: `{"id", "type": "function", "function": {"name", "arguments": "<JSON text>"}}`.
Ollama: `{"function": {"name", "arguments": {...}}}` (newer versions add `id` and
`function.index`). Arguments that are not a JSON object survive the trip as `{"_raw": text}`.
"""

import copy
from collections.abc import Mapping
from typing import Any

import orjson

from maestro_app.providers._coerce import items, mapping, text
from maestro_app.providers.openai import new_tool_call_id

RAW_ARGUMENTS_KEY = "_raw"


def arguments_to_object(raw: Any) -> dict[str, Any]:
    """Ollama-side arguments: always an object, whatever the OpenAI side held."""
    if isinstance(raw, Mapping):
        return copy.deepcopy(dict(raw))
    if raw is None:
        return {}
    if isinstance(raw, str):
        if not raw.strip():
            return {}
        try:
            parsed = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return {RAW_ARGUMENTS_KEY: raw}
        return parsed if isinstance(parsed, dict) else {RAW_ARGUMENTS_KEY: raw}
    return {RAW_ARGUMENTS_KEY: arguments_to_json(raw)}


def arguments_to_json(raw: Any) -> str:
    """OpenAI-side arguments: JSON text (a `{"_raw": text}` object gives back its text)."""
    if isinstance(raw, str):
        return raw
    if raw is None:
        return "{}"
    if isinstance(raw, Mapping) and set(raw) == {RAW_ARGUMENTS_KEY}:
        inner = raw[RAW_ARGUMENTS_KEY]
        if isinstance(inner, str):
            return inner
    try:
        return orjson.dumps(raw).decode()
    except TypeError:
        return "{}"


def openai_tool_calls_to_ollama(tool_calls: Any) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    for call in items(tool_calls):
        if not isinstance(call, Mapping):
            continue
        function = mapping(call.get("function"))
        converted: dict[str, Any] = {
            "function": {
                "index": len(calls),
                "name": text(function.get("name")),
                "arguments": arguments_to_object(function.get("arguments")),
            }
        }
        call_id = text(call.get("id"))
        if call_id:
            converted["id"] = call_id
        calls.append(converted)
    return calls


def ollama_tool_calls_to_openai(tool_calls: Any) -> list[dict[str, Any]]:
    """OpenAI tool calls; calls without an id get a fresh `call_...` id."""
    calls: list[dict[str, Any]] = []
    for call in items(tool_calls):
        if not isinstance(call, Mapping):
            continue
        function = mapping(call.get("function"))
        calls.append(
            {
                "id": text(call.get("id")) or new_tool_call_id(),
                "type": "function",
                "function": {
                    "name": text(function.get("name")),
                    "arguments": arguments_to_json(function.get("arguments")),
                },
            }
        )
    return calls


def ollama_tools_to_openai(tools: Any) -> list[dict[str, Any]]:
    """Tool definitions; the shapes match, but OpenAI insists on `type`."""
    converted: list[dict[str, Any]] = []
    for tool in items(tools):
        if isinstance(tool, Mapping):
            converted.append({"type": "function", **copy.deepcopy(dict(tool))})
    return converted


def openai_tools_to_ollama(tools: Any) -> list[dict[str, Any]]:
    return [copy.deepcopy(dict(tool)) for tool in items(tools) if isinstance(tool, Mapping)]
