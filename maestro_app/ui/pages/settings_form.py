"""The settings form's fields: what each setting is called, how it is typed, how its text
is read. Pure; the page (`settings`) draws and submits it.

Every field is text in the form, read here into the type `SettingsUpdate` wants (strict:
an int for whole numbers, a float for seconds). Sizes and token counts take the short forms
admins write: `32M`, `512 KiB`, `8K`. A field that cannot be read raises `InvalidInput`
naming it; the service's own limits (pydantic) come back with the same labels.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Literal

from maestro_app.domain.names import parse_context_length
from maestro_app.domain.snapshot import DEFAULT_SETTINGS
from maestro_app.services.errors import InvalidInput
from maestro_app.ui.pages.mappings import context_text

Kind = Literal["choice", "int", "seconds", "bytes", "tokens", "text"]
STRATEGIES: dict[str, str] = {
    "priority": "Highest-priority healthy node first; the others only on failure.",
    "round_robin": "Take turns among the healthy nodes that have the model.",
    "weighted": "Random, in proportion to each node's weight.",
    "least_busy": "The node with the fewest requests in flight.",
}
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


@dataclass(frozen=True, slots=True)
class SettingField:
    key: str
    label: str
    kind: Kind
    hint: str


SECTIONS: tuple[tuple[str, str, tuple[SettingField, ...]], ...] = (
    (
        "Routing",
        "How a request picks a node among those that serve its model.",
        (
            SettingField("routing_strategy", "Balancing strategy", "choice", ""),
            SettingField(
                "node_cooldown_s",
                "Node cooldown (s)",
                "int",
                "How long a node that failed live traffic is skipped.",
            ),
        ),
    ),
    (
        "Requests",
        "Limits on what clients send.",
        (
            SettingField(
                "max_body_bytes",
                "Body size limit",
                "bytes",
                "Larger request bodies get 413. 32M, 512K or bytes.",
            ),
            SettingField(
                "default_context_length",
                "Default context length",
                "tokens",
                "Tokens, for models whose length is unknown. 8192, 8K or 1M.",
            ),
        ),
    ),
    (
        "Background jobs",
        "Seconds between runs; 0 turns a job off (not the health check).",
        (
            SettingField("health_check_interval_s", "Health check interval (s)", "seconds", "At least 0.1."),
            SettingField(
                "discovery_interval_s", "Discovery interval (s)", "seconds", "Reads each node's models."
            ),
            SettingField("warmup_interval_s", "Warmup interval (s)", "seconds", "Keeps used models loaded."),
            SettingField(
                "retention_interval_s",
                "Retention interval (s)",
                "seconds",
                "How often old activity is deleted.",
            ),
            SettingField(
                "job_stream_wait_s",
                "Wait for open streams (s)",
                "seconds",
                "Discovery and warmup of a busy node wait this long.",
            ),
        ),
    ),
    (
        "Retention",
        "How long the request log keeps its records (the audit log keeps everything).",
        (SettingField("log_retention_days", "Keep activity (days)", "int", "1 to 36500."),),
    ),
    (
        "Grafana",
        "The model the Grafana LLM app's requests go to when they name none.",
        (SettingField("grafana_model", "Grafana model", "text", "Empty: none."),),
    ),
)
FIELDS: tuple[SettingField, ...] = tuple(f for _, _, fields in SECTIONS for f in fields)
LABELS: dict[str, str] = {f.key: f.label for f in FIELDS}


def parse_bytes(text: str, *, label: str) -> int:
    """`33554432`, `32M`, `32 MiB`, `1.5G` → bytes (binary units)."""
    match = _SIZE_RE.match(text)
    if match is None:
        raise InvalidInput(f"{label}: '{text[:40]}' is not a size like 32M, 512K or a number of bytes")
    size = float(match.group(1)) * _SIZE_UNITS[match.group(2).upper()]
    if not size.is_integer():
        raise InvalidInput(f"{label}: '{text[:40]}' is not a whole number of bytes")
    return int(size)


def bytes_text(size: int) -> str:
    """33554432 → "32M"; sizes that are not a whole unit stay in bytes."""
    for letter in ("T", "G", "M", "K"):
        unit = _SIZE_UNITS[letter]
        if size >= unit and size % unit == 0:
            return f"{size // unit}{letter}"
    return str(size)


def _seconds(text: str, *, label: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(f"{label}: '{text[:40]}' is not a number of seconds") from None
    if not math.isfinite(value):
        raise InvalidInput(f"{label}: must be a finite number of seconds")
    return value


def _whole(text: str, *, label: str) -> int:
    try:
        return int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise InvalidInput(f"{label}: '{text[:40]}' is not a whole number") from None


def read_field(spec: SettingField, raw: Any) -> Any:
    """The typed value of one field's text."""
    text = str(raw if raw is not None else "").strip()
    if spec.kind == "text":
        return text or None
    if not text:
        raise InvalidInput(f"{spec.label}: required")
    if spec.kind == "bytes":
        return parse_bytes(text, label=spec.label)
    if spec.kind == "tokens":
        try:
            return parse_context_length(text)
        except ValueError:
            raise InvalidInput(f"{spec.label}: '{text[:40]}' is not a number like 8192, 8K or 1M") from None
    if spec.kind == "seconds":
        return _seconds(text, label=spec.label)
    if spec.kind == "int":
        return _whole(text, label=spec.label)
    return text  # choice: the service checks it


def read_form(form: dict[str, Any]) -> dict[str, Any]:
    """The `SettingsUpdate` body of a submitted form (every field the form has)."""
    return {spec.key: read_field(spec, form.get(spec.key)) for spec in FIELDS if spec.key in form}


def field_text(spec: SettingField, value: Any) -> str:
    """A stored setting as its field shows it."""
    if value is None:
        return ""
    if spec.kind == "bytes" and isinstance(value, int):
        return bytes_text(value)
    if spec.kind == "tokens" and isinstance(value, int):
        return context_text(value)
    return str(value)


def default_hint(spec: SettingField) -> str:
    """`Default: 32M.` for the field's hint line."""
    default = DEFAULT_SETTINGS.get(spec.key)
    if default is None:
        return ""
    return f"Default: {field_text(spec, default)}."
