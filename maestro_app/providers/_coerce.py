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


def integer(value: Any) -> int | None:
    """An int from a JSON number; booleans, fractions and other types give None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None
