"""Generation parameters between dialects.

OpenAI puts sampling parameters at the top level of the body; Ollama nests them in
`options`. Structured output is `response_format` ↔ `format`; reasoning is
`reasoning_effort` ↔ `think`.
"""

import copy
from collections.abc import Mapping
from typing import Any

from maestro_app.providers._coerce import integer, mapping, text

# Same name and meaning on both sides. `top_k` and `min_p` are vLLM extensions of the
# OpenAI dialect, understood by Ollama as options.
_SHARED_PARAMS = ("temperature", "top_p", "top_k", "min_p", "seed", "presence_penalty", "frequency_penalty")
# vLLM's name → Ollama's name.
_RENAMED_PARAMS = (("repetition_penalty", "repeat_penalty"),)

_EFFORTS = frozenset({"low", "medium", "high"})
_EFFORT_ALIASES = {"minimal": "low", "xhigh": "high", "max": "high"}


def _stop_list(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [stop for stop in value if isinstance(stop, str)]
    return None


def openai_params_to_ollama_options(body: Mapping[str, Any]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for name in _SHARED_PARAMS:
        if body.get(name) is not None:
            options[name] = copy.deepcopy(body[name])
    for openai_name, ollama_name in _RENAMED_PARAMS:
        if body.get(openai_name) is not None:
            options[ollama_name] = copy.deepcopy(body[openai_name])
    max_tokens = integer(body.get("max_completion_tokens"))
    if max_tokens is None:
        max_tokens = integer(body.get("max_tokens"))
    if max_tokens is not None:
        options["num_predict"] = max_tokens
    stop = _stop_list(body.get("stop"))
    if stop:
        options["stop"] = stop
    return options


def ollama_options_to_openai_params(options: Any) -> dict[str, Any]:
    """Top-level OpenAI parameters from Ollama `options`; options with no equivalent
    (`num_ctx`, `mirostat`, ...) are dropped."""
    source = mapping(options)
    params: dict[str, Any] = {}
    for name in _SHARED_PARAMS:
        if source.get(name) is not None:
            params[name] = copy.deepcopy(source[name])
    for openai_name, ollama_name in _RENAMED_PARAMS:
        if source.get(ollama_name) is not None:
            params[openai_name] = copy.deepcopy(source[ollama_name])
    num_predict = integer(source.get("num_predict"))
    # -1 (unbounded) and -2 (fill the context) are the OpenAI default: no limit sent.
    if num_predict is not None and num_predict >= 0:
        params["max_tokens"] = num_predict
    stop = _stop_list(source.get("stop"))
    if stop:
        params["stop"] = stop
    return params


def openai_response_format_to_ollama(response_format: Any) -> Any:
    """Ollama `format`: "json" or a JSON schema; None for plain text."""
    kind = mapping(response_format).get("type")
    if kind == "json_object":
        return "json"
    if kind == "json_schema":
        schema = mapping(response_format).get("json_schema")
        inner = mapping(schema).get("schema")
        return copy.deepcopy(dict(inner)) if isinstance(inner, Mapping) else "json"
    return None


def ollama_format_to_openai(fmt: Any) -> dict[str, Any] | None:
    if fmt == "json":
        return {"type": "json_object"}
    if isinstance(fmt, Mapping):
        return {
            "type": "json_schema",
            "json_schema": {"name": "response", "schema": copy.deepcopy(dict(fmt))},
        }
    return None


def openai_reasoning_to_ollama_think(body: Mapping[str, Any]) -> bool | str | None:
    """`think` from `reasoning_effort` (or `reasoning.effort`, or vLLM's
    `chat_template_kwargs.enable_thinking`); None leaves the model's default."""
    effort = body.get("reasoning_effort")
    if not isinstance(effort, str):
        effort = mapping(body.get("reasoning")).get("effort")
    if isinstance(effort, str) and effort.strip():
        effort = effort.strip().lower()
        # Ollama knows low/medium/high: OpenAI's "minimal" and "xhigh" become the nearest.
        return False if effort == "none" else _EFFORT_ALIASES.get(effort, effort)
    enable = mapping(body.get("chat_template_kwargs")).get("enable_thinking")
    return enable if isinstance(enable, bool) else None


def ollama_think_to_openai_params(think: Any) -> dict[str, Any]:
    """OpenAI parameters for Ollama `think`: a level becomes `reasoning_effort`; a boolean
    becomes vLLM's `chat_template_kwargs.enable_thinking`."""
    if isinstance(think, bool):
        return {"chat_template_kwargs": {"enable_thinking": think}}
    level = text(think).strip().lower()
    level = _EFFORT_ALIASES.get(level, level)
    if level in _EFFORTS:
        return {"reasoning_effort": level}
    return {}
