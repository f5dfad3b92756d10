"""Text completion between dialects: OpenAI `/v1/completions` ↔ Ollama `/api/generate`.

Inputs are never modified.
"""

from collections.abc import Mapping
from typing import Any

from maestro_app.providers._coerce import items, mapping, text
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
    new_completion_id,
    unix_now,
    usage_from_openai,
    usage_to_openai,
)
from maestro_app.providers.params import (
    ollama_format_to_openai,
    ollama_options_to_openai_params,
    openai_params_to_ollama_options,
    openai_response_format_to_ollama,
)
from maestro_app.providers.types import Usage


def _first_prompt(prompt: Any) -> str:
    # Ollama completes one prompt per request: of a batch, the first is kept, and token
    # id prompts cannot be expressed at all.
    if isinstance(prompt, str):
        return prompt
    for entry in items(prompt):
        return entry if isinstance(entry, str) else ""
    return ""


def openai_completions_to_ollama_generate(body: Mapping[str, Any]) -> dict[str, Any]:
    """An Ollama `/api/generate` body for an OpenAI completions body."""
    result: dict[str, Any] = {}
    if "model" in body:
        result["model"] = body["model"]
    result["prompt"] = _first_prompt(body.get("prompt"))
    suffix = text(body.get("suffix"))
    if suffix:
        result["suffix"] = suffix
    result["stream"] = body.get("stream") is True
    options = openai_params_to_ollama_options(body)
    if options:
        result["options"] = options
    fmt = openai_response_format_to_ollama(body.get("response_format"))
    if fmt is not None:
        result["format"] = fmt
    return result


def ollama_generate_to_openai_completions(body: Mapping[str, Any]) -> dict[str, Any]:
    """An OpenAI completions body for an Ollama `/api/generate` body.

    `system` goes before the prompt, separated by a blank line; `images`, `template`,
    `context`, `raw` and `think` have no completions equivalent and are dropped.
    """
    result: dict[str, Any] = {}
    if "model" in body:
        result["model"] = body["model"]
    prompt = text(body.get("prompt"))
    system = text(body.get("system"))
    if system:
        prompt = f"{system}\n\n{prompt}" if prompt else system
    result["prompt"] = prompt
    suffix = text(body.get("suffix"))
    if suffix:
        result["suffix"] = suffix
    result.update(ollama_options_to_openai_params(body.get("options")))
    response_format = ollama_format_to_openai(body.get("format"))
    if response_format is not None:
        result["response_format"] = response_format
    stream = body.get("stream") is not False
    result["stream"] = stream
    if stream:
        result["stream_options"] = {"include_usage": True}
    return result


def ollama_generate_response_to_openai_completion(resp: Mapping[str, Any], *, model: str) -> dict[str, Any]:
    """A `text_completion` for a non-streamed Ollama `/api/generate` answer."""
    source = mapping(resp)
    usage = usage_from_ollama(source) or Usage(0, 0)
    return {
        "id": new_completion_id(),
        "object": "text_completion",
        "created": unix_from_rfc3339(source.get("created_at")) or unix_now(),
        "model": model,
        "choices": [
            {
                "index": 0,
                "text": text(source.get("response")),
                "logprobs": None,
                "finish_reason": finish_reason_from_ollama(source.get("done_reason"), tool_calls=False),
            }
        ],
        "usage": usage_to_openai(usage),
    }


def openai_completion_response_to_ollama_generate(resp: Mapping[str, Any], *, model: str) -> dict[str, Any]:
    """A final Ollama `/api/generate` answer for a non-streamed OpenAI completion."""
    source = mapping(resp)
    choice = first_choice(source)
    return {
        "model": model,
        "created_at": rfc3339(source.get("created")),
        "response": text(choice.get("text")),
        "done": True,
        "done_reason": done_reason_from_openai(choice.get("finish_reason")),
        **ollama_metrics(usage_from_openai(source)),
    }
