"""Checking Anthropic Messages and count_tokens bodies before anything is routed or recorded.

Every failure is a BadRequest (400 `invalid_request_error`) naming the offending field, as
the Messages API does, so a bad body changes nothing. What is checked is what the
translation (`providers.anthropic`) relies on, plus the fields the API requires; fields the
gateway does not use (`metadata`, `service_tier`, `context_management`, ...) are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from maestro_app.domain.errors import BadRequest

# Tuples, not sets: a client's value may be a list or an object, which a set cannot hash.
_ROLES = ("user", "assistant")
_TOOL_CHOICES = ("auto", "any", "tool", "none")
# Blocks that belong to one side of the conversation.
_ROLE_OF = {"tool_use": "assistant", "thinking": "assistant", "tool_result": "user"}


def _fail(message: str, code: str = "invalid_type") -> BadRequest:
    return BadRequest(message, code=code)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _missing(where: str, what: str) -> BadRequest:
    return _fail(f"{where}: Field required ({what})", "missing_field")


def _string(value: Any, where: str, *, empty: bool = True) -> None:
    if not isinstance(value, str):
        raise _missing(where, "a string") if value is None else _fail(f"{where} must be a string")
    if not empty and not value.strip():
        raise _fail(f"{where} must not be empty", "invalid_value")


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _missing(where, "an object") if value is None else _fail(f"{where} must be an object")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise _missing(where, "an array") if value is None else _fail(f"{where} must be an array")
    return value


def _source(source: Any, where: str, kinds: dict[str, tuple[str, ...]]) -> None:
    source = _object(source, where)
    kind = source.get("type")
    if not isinstance(kind, str) or kind not in kinds:
        raise _fail(f"{where}.type must be one of {', '.join(sorted(kinds))}", "unsupported_source")
    for name in kinds[kind]:
        _string(source.get(name), f"{where}.{name}")


_IMAGE_SOURCES = {"base64": ("media_type", "data"), "url": ("url",)}
# Nodes read text: plain-text documents only (a PDF would need Anthropic's own reader).
_DOCUMENT_SOURCES: dict[str, tuple[str, ...]] = {"text": ("data",), "content": ()}


def _block(block: Any, where: str, *, role: str) -> None:
    """Blocks the translation reads are checked; others (server tool blocks, redacted
    thinking, blocks newer than this gateway) are accepted and left out of what a node reads."""
    block = _object(block, where)
    kind = block.get("type")
    _string(kind, f"{where}.type")
    owner = _ROLE_OF.get(kind)
    if owner is not None and owner != role:
        raise _fail(
            f"{where}: content block type '{kind}' is not allowed in a {role} message", "invalid_value"
        )
    if kind == "text":
        _string(block.get("text"), f"{where}.text")
    elif kind == "image":
        _source(block.get("source"), f"{where}.source", _IMAGE_SOURCES)
    elif kind == "document":
        _source(block.get("source"), f"{where}.source", _DOCUMENT_SOURCES)
    elif kind == "thinking":
        _string(block.get("thinking"), f"{where}.thinking")
    elif kind == "tool_use":
        _string(block.get("id"), f"{where}.id", empty=False)
        _string(block.get("name"), f"{where}.name", empty=False)
        _object(block.get("input"), f"{where}.input")
    elif kind == "tool_result":
        _tool_result(block, where)


def _tool_result(block: Mapping[str, Any], where: str) -> None:
    _string(block.get("tool_use_id"), f"{where}.tool_use_id", empty=False)
    if block.get("is_error") is not None and not isinstance(block["is_error"], bool):
        raise _fail(f"{where}.is_error must be a boolean")
    content = block.get("content")
    if content is None or isinstance(content, str):
        return
    for i, inner in enumerate(_list(content, f"{where}.content")):
        _block(inner, f"{where}.content[{i}]", role="user")
        if inner["type"] == "tool_result":
            raise _fail(f"{where}.content[{i}]: a tool result cannot hold another", "invalid_value")


def _messages(messages: Any) -> None:
    if not _list(messages, "messages"):
        raise _fail("messages: at least one message is required", "invalid_value")
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        message = _object(message, where)
        role = message.get("role")
        if role not in _ROLES:
            raise _fail(f"{where}.role must be 'user' or 'assistant'", "invalid_value")
        content = message.get("content")
        if isinstance(content, str):
            continue
        for j, block in enumerate(_list(content, f"{where}.content")):
            _block(block, f"{where}.content[{j}]", role=role)


def _system(system: Any) -> None:
    if system is None or isinstance(system, str):
        return
    for i, block in enumerate(_list(system, "system")):
        block = _object(block, f"system[{i}]")
        if block.get("type") != "text":
            raise _fail(f"system[{i}].type must be 'text'", "invalid_value")
        _string(block.get("text"), f"system[{i}].text")


def _tools(tools: Any, tool_choice: Any) -> None:
    if tools is not None:
        for i, tool in enumerate(_list(tools, "tools")):
            tool = _object(tool, f"tools[{i}]")
            _string(tool.get("name"), f"tools[{i}].name", empty=False)
            kind = tool.get("type")
            if kind in (None, "custom"):
                _object(tool.get("input_schema"), f"tools[{i}].input_schema")
            elif tool.get("input_schema") is not None:
                _object(tool["input_schema"], f"tools[{i}].input_schema")
            if tool.get("description") is not None:
                _string(tool["description"], f"tools[{i}].description")
    if tool_choice is not None:
        choice = _object(tool_choice, "tool_choice")
        if choice.get("type") not in _TOOL_CHOICES:
            raise _fail("tool_choice.type must be one of any, auto, none, tool", "invalid_value")
        if choice["type"] == "tool":
            _string(choice.get("name"), "tool_choice.name", empty=False)
        parallel = choice.get("disable_parallel_tool_use")
        if parallel is not None and not isinstance(parallel, bool):
            raise _fail("tool_choice.disable_parallel_tool_use must be a boolean")


def _thinking(thinking: Any) -> None:
    if thinking is None:
        return
    thinking = _object(thinking, "thinking")
    _string(thinking.get("type"), "thinking.type", empty=False)
    if thinking["type"] == "enabled":
        budget = thinking.get("budget_tokens")
        if not _is_int(budget) or budget < 1:
            raise _fail("thinking.budget_tokens must be a positive integer")


def _output_config(config: Any) -> None:
    if config is None:
        return
    config = _object(config, "output_config")
    if config.get("effort") is not None:
        _string(config["effort"], "output_config.effort")
    if config.get("format") is not None:
        fmt = _object(config["format"], "output_config.format")
        if fmt.get("type") != "json_schema":
            raise _fail("output_config.format.type must be 'json_schema'", "invalid_value")
        _object(fmt.get("schema"), "output_config.format.schema")


def _sampling(body: Mapping[str, Any]) -> None:
    for name in ("temperature", "top_p"):
        if body.get(name) is not None and not _is_number(body[name]):
            raise _fail(f"{name} must be a number")
    if body.get("top_k") is not None and not _is_int(body["top_k"]):
        raise _fail("top_k must be an integer")
    stops = body.get("stop_sequences")
    if stops is not None and not all(isinstance(s, str) for s in _list(stops, "stop_sequences")):
        raise _fail("stop_sequences must be an array of strings")
    if body.get("stream") is not None and not isinstance(body["stream"], bool):
        raise _fail("stream must be a boolean")
    if body.get("metadata") is not None:
        _object(body["metadata"], "metadata")


def check_count_tokens_body(body: Mapping[str, Any]) -> None:
    """A `/v1/messages/count_tokens` body: model, messages, and optional system/tools/thinking."""
    _string(body.get("model"), "model", empty=False)
    _messages(body.get("messages"))
    _system(body.get("system"))
    _tools(body.get("tools"), body.get("tool_choice"))
    _thinking(body.get("thinking"))


def check_messages_body(body: Mapping[str, Any]) -> None:
    """A `/v1/messages` body: what count_tokens needs, plus `max_tokens` and the sampling fields."""
    check_count_tokens_body(body)
    max_tokens = body.get("max_tokens")
    if max_tokens is None:
        raise _missing("max_tokens", "an integer")
    if not _is_int(max_tokens) or max_tokens < 1:
        raise _fail("max_tokens must be a positive integer")
    _sampling(body)
    _output_config(body.get("output_config"))
