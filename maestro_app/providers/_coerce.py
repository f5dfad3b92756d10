"""Tolerant readers for JSON values of unknown shape.

Bodies come from clients and nodes we do not control; a field of the wrong type reads as
empty instead of raising, so a translator never fails on odd input.
"""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

EMPTY: Mapping[str, Any] = MappingProxyType({})


def mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else EMPTY


def items(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else []


def text(value: Any) -> str:
    return value if isinstance(value, str) else ""


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def integer(value: Any) -> int | None:
    """An int from a JSON number; booleans, fractions, numbers outside the signed 64-bit
    range (which no upstream accepts and JSON encoders refuse) and other types give None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        if not value.is_integer():
            return None
        value = int(value)
    if isinstance(value, int) and INT64_MIN <= value <= INT64_MAX:
        return value
    return None
