"""OpenAI Responses requests (`POST /v1/responses`) as Chat Completions bodies.

Responses clients (Codex, the OpenAI SDK) reach every node through the chat legs: the body
becomes a chat completions body here, the chat leg takes it on to the node's own dialect,
and the answer comes back through `responses_answer` and `stream_to_responses`.

    instructions + leading system/developer items   -> one first system message
    input: a string                                 -> one user message
    message item (user / assistant / system / developer; input_text, output_text,
        refusal, input_image with a URL or data URL) -> chat message (developer -> system)
    function_call items                             -> tool_calls of one assistant message
                                                       (with the assistant text before them)
    function_call_output                            -> tool message; its images follow the
                                                       tool messages as one user message
    reasoning items                                 -> dropped (no node takes them back)
    other output item types (web_search_call, ...)  -> dropped, as are the tools making them
    item_reference, previous_response_id, conversation, prompt, background -> 400: nothing
                                                       is stored, so nothing can be referred to
    tools: function only                            -> chat function tools; other types dropped
    max_output_tokens -> max_tokens; temperature, top_p, parallel_tool_calls as they are;
    reasoning.effort -> reasoning_effort; text.format -> response_format
    store, metadata, include, user, truncation, ...  -> accepted, not forwarded

`responses_to_chat` is strict: a malformed body raises `ResponsesRequestError` (a 400 with
the offending `param`), so the gateway calls it once to check a request before routing it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from maestro_app.providers._coerce import integer, items, mapping, text

Body = dict[str, Any]

_ROLES = frozenset({"user", "assistant", "system", "developer"})
_EFFORTS = frozenset({"none", "minimal", "low", "medium", "high", "xhigh"})
_TOOL_CHOICES = frozenset({"auto", "none", "required"})
_TEXT_PARTS = frozenset({"input_text", "output_text", "text", "summary_text", "reasoning_text"})
# Fields that point at state kept by OpenAI's servers; this gateway keeps none.
_STATEFUL = {
    "previous_response_id": "previous responses are not stored; send the whole conversation in `input`",
    "conversation": "conversations are not stored; send the whole conversation in `input`",
    "prompt": "stored prompt templates are not available; send `instructions` and `input`",
}
# name -> (accepted types, description), checked when present and not null
_FIELD_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "instructions": ((str,), "a string"),
    "max_output_tokens": ((int,), "an integer"),
    "temperature": ((int, float), "a number"),
    "top_p": ((int, float), "a number"),
    "parallel_tool_calls": ((bool,), "a boolean"),
    "store": ((bool,), "a boolean"),
    "background": ((bool,), "a boolean"),
    "metadata": ((dict,), "an object"),
    "reasoning": ((dict,), "an object"),
    "text": ((dict,), "an object"),
    "tool_choice": ((str, dict), "a string or an object"),
    "tools": ((list,), "an array"),
}


class ResponsesRequestError(ValueError):
    """A Responses body the gateway cannot serve; `param` names the offending field."""

    def __init__(self, message: str, *, param: str | None = None, code: str = "invalid_value") -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code


# -- the body as a whole ------------------------------------------------------------------


def responses_to_chat(body: Mapping[str, Any]) -> Body:
    """A chat completions body for a Responses body; raises ResponsesRequestError."""
    _check_top_level(body)
    tools, tool_choice = _tools_and_choice(body.get("tools"), body.get("tool_choice"))
    messages = _messages(body.get("instructions"), body.get("input"))
    chat: Body = {"model": body.get("model"), "messages": messages}
    if body.get("stream") is True:
        chat["stream"] = True
    if tools:
        chat["tools"] = tools
        if tool_choice is not None:
            chat["tool_choice"] = tool_choice
        if isinstance(body.get("parallel_tool_calls"), bool):
            chat["parallel_tool_calls"] = body["parallel_tool_calls"]
    if body.get("max_output_tokens") is not None:
        chat["max_tokens"] = body["max_output_tokens"]
    for name in ("temperature", "top_p"):
        if body.get(name) is not None:
            chat[name] = body[name]
    effort = reasoning_effort(body)
    if effort is not None:
        chat["reasoning_effort"] = effort
    response_format = _response_format(mapping(body.get("text")).get("format"))
    if response_format is not None:
        chat["response_format"] = response_format
    return chat


def _check_top_level(body: Mapping[str, Any]) -> None:
    for name, (types, description) in _FIELD_TYPES.items():
        value = body.get(name)
        if value is not None and (
            not isinstance(value, types) or (isinstance(value, bool) and bool not in types)
        ):
            raise ResponsesRequestError(
                f"Field '{name}' must be {description}", param=name, code="invalid_type"
            )
    for name, why in _STATEFUL.items():
        if body.get(name) not in (None, "", {}):
            raise ResponsesRequestError(
                f"'{name}' is not supported: this gateway does not store responses ({why})",
                param=name,
                code="unsupported_parameter",
            )
    if body.get("background") is True:
        raise ResponsesRequestError(
            "'background' responses are not supported: this gateway does not store responses",
            param="background",
            code="unsupported_parameter",
        )
    limit = body.get("max_output_tokens")
    if limit is not None and limit < 1:
        raise ResponsesRequestError("'max_output_tokens' must be at least 1", param="max_output_tokens")
    value = body.get("input")
    if not isinstance(value, (str, list)):
        raise ResponsesRequestError(
            "Field 'input' must be a string or an array", param="input", code="invalid_type"
        )
    if not value and not body.get("instructions"):
        raise ResponsesRequestError("'input' must not be empty", param="input")


def reasoning_effort(body: Mapping[str, Any]) -> str | None:
    """`reasoning.effort`, checked; None when the client left it to the model."""
    effort = mapping(body.get("reasoning")).get("effort")
    if effort is None:
        return None
    if not isinstance(effort, str) or effort not in _EFFORTS:
        raise ResponsesRequestError(
            f"'reasoning.effort' must be one of {', '.join(sorted(_EFFORTS))}", param="reasoning.effort"
        )
    return effort


def _response_format(fmt: Any) -> Body | None:
    if fmt is None:
        return None
    kind = mapping(fmt).get("type")
    if kind == "text":
        return None
    if kind == "json_object":
        return {"type": "json_object"}
    if kind == "json_schema":
        schema = fmt.get("schema")
        if not isinstance(schema, Mapping):
            raise ResponsesRequestError("'text.format.schema' must be an object", param="text.format.schema")
        inner: Body = {"name": text(fmt.get("name")) or "response", "schema": schema}
        for key in ("description", "strict"):
            if fmt.get(key) is not None:
                inner[key] = fmt[key]
        return {"type": "json_schema", "json_schema": inner}
    raise ResponsesRequestError(
        "'text.format.type' must be one of text, json_object, json_schema", param="text.format.type"
    )


# -- tools ----------------------------------------------------------------------------------


def function_tools(tools: Any) -> list[Body]:
    """The function tools of a Responses `tools` list as chat tools. Other tool types are
    run by OpenAI's own servers (web_search, file_search, code_interpreter, image_generation,
    mcp, computer use) or answer with item types a chat node cannot produce (custom,
    local_shell, shell, apply_patch): they are dropped."""
    converted: list[Body] = []
    for position, tool in enumerate(items(tools)):
        if not isinstance(tool, Mapping):
            raise ResponsesRequestError(f"tools[{position}] must be an object", param=f"tools[{position}]")
        if tool.get("type") != "function":
            continue
        name = tool.get("name")
        if not isinstance(name, str) or not name:
            raise ResponsesRequestError(
                f"tools[{position}].name must be a non-empty string", param=f"tools[{position}].name"
            )
        function: Body = {"name": name}
        for key in ("description", "parameters", "strict"):
            if tool.get(key) is not None:
                function[key] = tool[key]
        converted.append({"type": "function", "function": function})
    return converted


def _tools_and_choice(tools: Any, choice: Any) -> tuple[list[Body], Any]:
    converted = function_tools(tools)
    if isinstance(choice, str):
        if choice not in _TOOL_CHOICES:
            raise ResponsesRequestError(
                "'tool_choice' must be auto, none, required or an object", param="tool_choice"
            )
        return converted, choice
    if not isinstance(choice, Mapping):
        return converted, None
    kind = choice.get("type")
    if kind == "function":
        name = choice.get("name")
        if not isinstance(name, str) or not name:
            raise ResponsesRequestError("'tool_choice.name' must be a string", param="tool_choice.name")
        return converted, {"type": "function", "function": {"name": name}}
    if kind == "allowed_tools":
        allowed = {text(mapping(tool).get("name")) for tool in items(choice.get("tools"))}
        mode = choice.get("mode")
        kept = [tool for tool in converted if tool["function"]["name"] in allowed]
        return kept, mode if mode in ("auto", "required") else "auto"
    # A hosted tool forced by type (web_search, file_search, ...) was dropped with its tool.
    return converted, "auto"


# -- input ----------------------------------------------------------------------------------


def _messages(instructions: Any, value: Any) -> list[Body]:
    system = [instructions] if isinstance(instructions, str) and instructions.strip() else []
    if isinstance(value, str):
        converted = [{"role": "user", "content": value}]
    else:
        converted = _InputItems().convert(value)
    # Leading system/developer messages join `instructions` in one first system message:
    # many chat templates refuse a system message anywhere but first.
    while converted and converted[0]["role"] == "system" and isinstance(converted[0]["content"], str):
        system.append(converted.pop(0)["content"])
    if system:
        converted.insert(0, {"role": "system", "content": "\n\n".join(system)})
    return converted


class _InputItems:
    """Walks the input items, keeping what one chat message gathers across several items."""

    def __init__(self) -> None:
        self.out: list[Body] = []
        self.images: list[Body] = []  # from function_call_output, sent after the tool messages

    def convert(self, value: list[Any]) -> list[Body]:
        for position, item in enumerate(value):
            if not isinstance(item, Mapping):
                raise ResponsesRequestError(
                    f"input[{position}] must be an object", param=f"input[{position}]"
                )
            kind = item.get("type")
            if kind is None and "role" in item:
                kind = "message"
            if kind != "function_call_output":
                self._flush_images()
            if kind == "message":
                self._message(item, position)
            elif kind == "function_call":
                self._function_call(item, position)
            elif kind == "function_call_output":
                self._function_output(item, position)
            elif kind == "item_reference":
                raise ResponsesRequestError(
                    "'item_reference' inputs are not supported: this gateway does not store items",
                    param=f"input[{position}]",
                    code="unsupported_parameter",
                )
            elif not isinstance(kind, str):
                raise ResponsesRequestError(
                    f"input[{position}].type must be a string", param=f"input[{position}].type"
                )
            # reasoning, web_search_call, local_shell_call, ...: nothing a chat node can take
        self._flush_images()
        return self.out

    def _message(self, item: Mapping[str, Any], position: int) -> None:
        role = item.get("role")
        if role not in _ROLES:
            raise ResponsesRequestError(
                f"input[{position}].role must be one of user, assistant, system, developer",
                param=f"input[{position}].role",
            )
        role = "system" if role == "developer" else role
        content = _content(item.get("content"), f"input[{position}].content", images=role == "user")
        self.out.append({"role": role, "content": content})

    def _function_call(self, item: Mapping[str, Any], position: int) -> None:
        where = f"input[{position}]"
        call_id, name = item.get("call_id"), item.get("name")
        if not isinstance(call_id, str) or not call_id:
            raise ResponsesRequestError(
                f"{where}.call_id must be a non-empty string", param=f"{where}.call_id"
            )
        if not isinstance(name, str) or not name:
            raise ResponsesRequestError(f"{where}.name must be a non-empty string", param=f"{where}.name")
        arguments = item.get("arguments")
        if arguments is not None and not isinstance(arguments, str):
            raise ResponsesRequestError(f"{where}.arguments must be a string", param=f"{where}.arguments")
        call = {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments or "{}"}}
        last = self.out[-1] if self.out else None
        # The assistant's text and the calls that follow it are one chat turn.
        if (
            last is not None
            and last["role"] == "assistant"
            and isinstance(last["content"], (str, type(None)))
        ):
            last.setdefault("tool_calls", []).append(call)
            if not last["content"]:
                last["content"] = None
            return
        self.out.append({"role": "assistant", "content": None, "tool_calls": [call]})

    def _function_output(self, item: Mapping[str, Any], position: int) -> None:
        where = f"input[{position}]"
        call_id = item.get("call_id")
        if not isinstance(call_id, str) or not call_id:
            raise ResponsesRequestError(
                f"{where}.call_id must be a non-empty string", param=f"{where}.call_id"
            )
        output = item.get("output")
        if isinstance(output, str):
            content = output
        elif isinstance(output, list):
            parts = _parts(output, f"{where}.output", images=True)
            content = "\n".join(part["text"] for part in parts if part["type"] == "text")
            self.images.extend(part for part in parts if part["type"] == "image_url")
        else:
            raise ResponsesRequestError(
                f"{where}.output must be a string or an array", param=f"{where}.output"
            )
        self.out.append({"role": "tool", "tool_call_id": call_id, "content": content})

    def _flush_images(self) -> None:
        # Chat tool messages carry text only: images a tool returned follow as a user turn.
        if self.images:
            note = {"type": "text", "text": "Images returned by the tool call:"}
            self.out.append({"role": "user", "content": [note, *self.images]})
            self.images = []


def _content(content: Any, where: str, *, images: bool) -> str | list[Body]:
    """A chat content: a string, or (user messages with images) a list of parts."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise ResponsesRequestError(f"{where} must be a string or an array", param=where, code="invalid_type")
    parts = _parts(content, where, images=images)
    if any(part["type"] == "image_url" for part in parts):
        return parts
    return "\n".join(part["text"] for part in parts)


def _parts(content: list[Any], where: str, *, images: bool) -> list[Body]:
    parts: list[Body] = []
    for position, part in enumerate(content):
        at = f"{where}[{position}]"
        kind = mapping(part).get("type")
        if kind in _TEXT_PARTS:
            parts.append({"type": "text", "text": text(part.get("text"))})
        elif kind == "refusal":
            parts.append({"type": "text", "text": text(part.get("refusal"))})
        elif kind == "input_image" and images:
            parts.append(_image_part(part, at))
        else:
            allowed = "input_text, output_text, refusal" + (", input_image" if images else "")
            raise ResponsesRequestError(f"{at}.type must be one of {allowed}", param=f"{at}.type")
    return parts


def _image_part(part: Mapping[str, Any], where: str) -> Body:
    url = part.get("image_url")
    if not isinstance(url, str) or not url:
        raise ResponsesRequestError(
            f"{where}.image_url must be a URL or a data URL (file_id needs stored files, which this gateway does not keep)",
            param=f"{where}.image_url",
        )
    image: Body = {"url": url}
    if isinstance(part.get("detail"), str):
        image["detail"] = part["detail"]
    return {"type": "image_url", "image_url": image}


# -- what routing needs to know --------------------------------------------------------------


def responses_needs(body: Mapping[str, Any]) -> frozenset[str]:
    """Capabilities a Responses request needs of a group member (function tools, images)."""
    needs: set[str] = set()
    if any(mapping(tool).get("type") == "function" for tool in items(body.get("tools"))):
        needs.add("tools")
    for item in items(body.get("input")):
        content = mapping(item).get("content")
        if mapping(item).get("type") == "function_call_output":
            content = mapping(item).get("output")
        if any(mapping(part).get("type") == "input_image" for part in items(content)):
            needs.add("vision")
            break
    return frozenset(needs)


def responses_prompt_chars(body: Mapping[str, Any]) -> int:
    """Characters of prompt text in a Responses body (instructions and input items)."""
    total = len(text(body.get("instructions")))
    value = body.get("input")
    if isinstance(value, str):
        return total + len(value)
    for item in items(value):
        fields = mapping(item)
        total += len(text(fields.get("arguments")))
        for content in (fields.get("content"), fields.get("output")):
            if isinstance(content, str):
                total += len(content)
            else:
                total += sum(len(text(mapping(part).get("text"))) for part in items(content))
    return total


def max_output_tokens(body: Mapping[str, Any]) -> int | None:
    return integer(body.get("max_output_tokens"))
