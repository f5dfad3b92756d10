"""Token estimates for when no tokenizer is at hand: characters / 4, rounded up.

    prompt_chars(body)     prompt text of a request (messages, prompt, input, system, suffix):
                           what admission reserves for and what an `estimated` record counts
    context_chars(body)    all an OpenAI chat request makes the model read: the prompt text,
                           plus reasoning and tool calls in the history and the tool definitions
    estimate_tokens(chars) the token estimate for `chars` characters

The gateway never tokenizes: nodes serve many model families, and their own counts replace
every estimate once an answer reports usage.
"""

from collections.abc import Mapping
from typing import Any

import orjson


def estimate_tokens(chars: int) -> int:
    """Rough token count for text of `chars` characters when the upstream gave none."""
    return (chars + 3) // 4 if chars > 0 else 0


def prompt_chars(body: dict[str, Any]) -> int:
    """Characters of prompt text in a request body (messages, prompt, input, system)."""
    total = 0
    for key in ("prompt", "input", "system", "suffix"):
        value = body.get(key)
        if isinstance(value, str):
            total += len(value)
        elif isinstance(value, list):
            total += sum(len(v) for v in value if isinstance(v, str))
    for message in body.get("messages") or ():
        if isinstance(message, dict):
            content = message.get("content")
            if isinstance(content, str):
                total += len(content)
            elif isinstance(content, list):
                total += sum(len(p.get("text") or "") for p in content if isinstance(p, dict))
    return total


def _json_chars(value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    try:
        return len(orjson.dumps(value))
    except TypeError:
        return 0


def context_chars(body: dict[str, Any]) -> int:
    """`prompt_chars`, plus what else of an OpenAI chat body the model reads: earlier
    reasoning, tool calls (names and arguments) and the tool definitions."""
    total = prompt_chars(body)
    for message in body.get("messages") or ():
        if not isinstance(message, Mapping):
            continue
        reasoning = message.get("reasoning_content")
        if isinstance(reasoning, str):
            total += len(reasoning)
        for call in message.get("tool_calls") or ():
            function = call.get("function") if isinstance(call, Mapping) else None
            if isinstance(function, Mapping):
                total += _json_chars(function.get("name") or "") + _json_chars(
                    function.get("arguments") or ""
                )
    tools = body.get("tools")
    if isinstance(tools, list) and tools:
        total += _json_chars(tools)
    return total
