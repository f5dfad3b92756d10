"""Chat Completions answers as OpenAI Responses objects.

    response_object(request, ...)          the Response envelope (also the stream's snapshots)
    chat_answer_to_response(answer, ...)   a `chat.completion` -> a Response with its output items
    responses_usage(usage)                 chat `usage` -> Responses `usage`

Output items, in this order: a `reasoning` item (its summary is the answer's reasoning,
from the node's `reasoning`/`thinking` or a leading `<think>` block), a `message` with one
`output_text` part, then one `function_call` item per tool call. A chat `finish_reason` of
`length` (or `content_filter`) makes the response `incomplete` with that reason.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

from maestro_app.providers._coerce import integer, items, mapping, text
from maestro_app.providers.openai import first_choice, text_of_content
from maestro_app.providers.responses import function_tools

Body = dict[str, Any]

# Echoed from the request into the Response object when the client sent them.
_ECHOED = ("instructions", "max_output_tokens", "temperature", "top_p", "metadata", "user")
_INCOMPLETE = {"length": "max_output_tokens", "content_filter": "content_filter"}


def new_item_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def incomplete_reason(finish_reason: Any) -> str | None:
    """The Responses `incomplete_details.reason` of a chat finish reason (None: complete)."""
    return _INCOMPLETE.get(finish_reason) if isinstance(finish_reason, str) else None


def response_object(
    request: Mapping[str, Any],
    *,
    response_id: str,
    created_at: int,
    model: str,
    status: str,
    output: list[Body] | None = None,
    usage: Body | None = None,
    incomplete: str | None = None,
    error: Body | None = None,
) -> Body:
    """A Response as the API returns it: the client's settings echoed, `store` false (the
    gateway keeps nothing), tools as the node saw them (function tools only)."""
    tools = [
        {"type": "function", "strict": None, **tool["function"]}
        for tool in function_tools(request.get("tools"))
    ]
    reasoning = mapping(request.get("reasoning"))
    fmt = mapping(mapping(request.get("text")).get("format"))
    obj: Body = {
        "id": response_id,
        "object": "response",
        "created_at": created_at,
        "status": status,
        "background": False,
        "error": error,
        "incomplete_details": {"reason": incomplete} if incomplete else None,
        "model": model,
        "output": output if output is not None else [],
        "parallel_tool_calls": request.get("parallel_tool_calls") is not False,
        "previous_response_id": None,
        "reasoning": {"effort": reasoning.get("effort"), "summary": reasoning.get("summary")},
        "store": False,
        "text": {"format": dict(fmt) if fmt else {"type": "text"}},
        "tool_choice": request.get("tool_choice") if request.get("tool_choice") is not None else "auto",
        "tools": tools,
        "truncation": "disabled",
        "usage": usage,
    }
    for name in _ECHOED:
        obj[name] = request.get(name)
    if obj["metadata"] is None:
        obj["metadata"] = {}
    return obj


def responses_usage(usage: Any) -> Body | None:
    """Responses usage from a chat `usage` object (None when it has no counts)."""
    source = mapping(usage)
    prompt = integer(source.get("prompt_tokens"))
    completion = integer(source.get("completion_tokens"))
    if prompt is None and completion is None:
        return None
    prompt, completion = prompt or 0, completion or 0
    cached = integer(mapping(source.get("prompt_tokens_details")).get("cached_tokens")) or 0
    reasoning = integer(mapping(source.get("completion_tokens_details")).get("reasoning_tokens")) or 0
    return {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": cached},
        "output_tokens": completion,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": prompt + completion,
    }


# -- output items ---------------------------------------------------------------------------


def reasoning_item(item_id: str, summary: str) -> Body:
    return {"id": item_id, "type": "reasoning", "summary": [{"type": "summary_text", "text": summary}]}


def output_text_part(content: str) -> Body:
    return {"type": "output_text", "text": content, "annotations": [], "logprobs": []}


def message_item(item_id: str, content: str | None, *, status: str) -> Body:
    parts = [output_text_part(content)] if content is not None else []
    return {"id": item_id, "type": "message", "role": "assistant", "status": status, "content": parts}


def function_call_item(item_id: str, *, call_id: str, name: str, arguments: str, status: str) -> Body:
    return {
        "id": item_id,
        "type": "function_call",
        "status": status,
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
    }


def chat_answer_to_response(answer: Mapping[str, Any], *, model: str, request: Mapping[str, Any]) -> Body:
    """A Response for a (post-processed) `chat.completion`."""
    choice = first_choice(answer)
    message = mapping(choice.get("message"))
    incomplete = incomplete_reason(choice.get("finish_reason"))
    status = "incomplete" if incomplete else "completed"
    output: list[Body] = []
    reasoning = text(message.get("reasoning_content")) or text(message.get("reasoning"))
    if reasoning:
        output.append(reasoning_item(new_item_id("rs"), reasoning))
    content = text_of_content(message.get("content"))
    calls = [mapping(call) for call in items(message.get("tool_calls"))]
    if content or not calls:
        output.append(message_item(new_item_id("msg"), content, status=status))
    for call in calls:
        function = mapping(call.get("function"))
        output.append(
            function_call_item(
                new_item_id("fc"),
                call_id=text(call.get("id")) or new_item_id("call"),
                name=text(function.get("name")),
                arguments=text(function.get("arguments")) or "{}",
                status="completed",
            )
        )
    created = integer(answer.get("created")) or int(time.time())
    return response_object(
        request,
        response_id=new_item_id("resp"),
        created_at=created,
        model=model,
        status=status,
        output=output,
        usage=responses_usage(answer.get("usage")),
        incomplete=incomplete,
    )
