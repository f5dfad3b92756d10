"""Model-name arithmetic: tags, node prefixes, context-length parsing."""

from __future__ import annotations

import re

NODE_PREFIX = "node:"
_CONTEXT_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*$")


def canonical(name: str) -> str:
    """`llama3` and `llama3:latest` are one model; compare names in this form."""
    last = name.rsplit("/", 1)[-1]
    return name if ":" in last else f"{name}:latest"


def split_node_prefix(name: str) -> tuple[str, str] | None:
    """`node:{code}:{model}` -> (code, model); None when the name has no node prefix."""
    if not name.startswith(NODE_PREFIX):
        return None
    rest = name[len(NODE_PREFIX) :]
    code, sep, model = rest.partition(":")
    if not sep or not code or not model:
        return None
    return code, model


def parse_context_length(value: int | str | None) -> int | None:
    """`32768`, `32K`, `128k`, `1M`, `32.5K` -> tokens (K = 1024, M = 1024**2)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("context_length must be a number like 32768, 32K or 1M")
    if isinstance(value, int):
        if value <= 0:
            raise ValueError("context_length must be positive")
        return value
    if isinstance(value, float):
        if value <= 0 or not value.is_integer():
            raise ValueError("context_length must be a positive whole number of tokens")
        return int(value)
    match = _CONTEXT_RE.match(str(value))
    if not match:
        raise ValueError(f"context_length {value!r} is not a number like 32768, 32K or 1M")
    number, unit = float(match.group(1)), match.group(2).upper()
    tokens = number * {"": 1, "K": 1024, "M": 1024 * 1024}[unit]
    if tokens <= 0 or not tokens.is_integer():
        raise ValueError(f"context_length {value!r} is not a whole number of tokens")
    return int(tokens)
