"""Ollama dialect: reading usage and images; timestamps, done reasons and metrics.

Shapes follow Ollama's native API (`/api/chat`, `/api/generate`, `/api/embed`,
`/api/embeddings`). Durations are nanoseconds; timestamps are RFC 3339.
"""

import contextlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from maestro_app.providers._coerce import integer, items, mapping
from maestro_app.providers.types import Usage

_RFC3339 = re.compile(r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$")


def usage_from_ollama(obj: Mapping[str, Any]) -> Usage | None:
    """Usage of a final (`done`) chat, generate or embed answer; None when it has no counts."""
    if not isinstance(obj, Mapping):
        return None
    prompt = integer(obj.get("prompt_eval_count"))
    completion = integer(obj.get("eval_count"))
    if prompt is None and completion is None:
        return None
    return Usage(prompt_tokens=prompt or 0, completion_tokens=completion or 0)


def images_in_ollama_request(body: Mapping[str, Any]) -> bool:
    """True when a generate body has `images` or a chat body has a message with `images`."""
    if not isinstance(body, Mapping):
        return False
    if items(body.get("images")):
        return True
    return any(items(mapping(message).get("images")) for message in items(body.get("messages")))


def ollama_metrics(usage: Usage | None) -> dict[str, int]:
    """The timing and count fields of a final answer; durations are unknown across dialects."""
    metrics = {"total_duration": 0, "load_duration": 0}
    if usage is not None:
        metrics["prompt_eval_count"] = usage.prompt_tokens
    metrics["prompt_eval_duration"] = 0
    if usage is not None:
        metrics["eval_count"] = usage.completion_tokens
    metrics["eval_duration"] = 0
    return metrics


def done_reason_from_openai(finish_reason: Any) -> str:
    # Ollama reports "stop" after tool calls as well; only truncation is told apart.
    return "length" if finish_reason == "length" else "stop"


def rfc3339(unix_seconds: Any = None) -> str:
    """RFC 3339 UTC timestamp like Ollama's `created_at`, of a Unix time; now when the
    value is missing or not a usable time."""
    moment = datetime.now(UTC)
    if isinstance(unix_seconds, (int, float)) and not isinstance(unix_seconds, bool) and unix_seconds > 0:
        with contextlib.suppress(OverflowError, OSError, ValueError):
            moment = datetime.fromtimestamp(unix_seconds, UTC)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def unix_from_rfc3339(value: Any) -> int | None:
    """Seconds since the epoch of an RFC 3339 timestamp (any number of fraction digits)."""
    if not isinstance(value, str):
        return None
    match = _RFC3339.match(value.strip())
    if match is None:
        return None
    day, clock, _, offset = match.groups()
    offset = "+00:00" if offset in ("Z", "z") else offset
    try:
        return int(datetime.fromisoformat(f"{day}T{clock}{offset}").timestamp())
    except ValueError:
        return None


def is_load_request(body: Mapping[str, Any], kind: str) -> bool:
    """An empty chat or prompt: Ollama clients send it to (un)load a model, not to generate."""
    if kind == "chat":
        return not body.get("messages")
    if kind == "generate":
        return not body.get("prompt") and not body.get("images")
    return False


def load_answer(*, model: str, kind: str, keep_alive: Any = None) -> dict[str, Any]:
    """What Ollama answers to a load request (`done_reason` "unload" when keep_alive is 0)."""
    unload = keep_alive in (0, "0", "0s", "0m")
    answer: dict[str, Any] = {
        "model": model,
        "created_at": rfc3339(),
    }
    if kind == "chat":
        answer["message"] = {"role": "assistant", "content": ""}
    else:
        answer["response"] = ""
    answer.update(done_reason="unload" if unload else "load", done=True)
    return answer
