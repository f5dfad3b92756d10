"""Orders the admin changes by hand: a dragged list, a row moved up or down, a selection
whose order matters (a group member's preferred nodes). Pure functions."""

from __future__ import annotations

from typing import Any

from maestro_app.services.errors import InvalidInput


def parse_ids(ids: list[Any]) -> list[int]:
    """The ids a drag handed back (strings) → ints; `InvalidInput` for anything else."""
    try:
        return [int(str(i)) for i in ids]
    except (TypeError, ValueError):
        raise InvalidInput("Could not read the new order; reload the page and try again") from None


def moved(order: list[int], item: int, step: int) -> list[int] | None:
    """`order` with `item` moved `step` places (clamped to the ends); None when nothing moves."""
    if item not in order:
        return None
    at = order.index(item)
    to = min(max(at + step, 0), len(order) - 1)
    if to == at:
        return None
    new = list(order)
    new.insert(to, new.pop(at))
    return new


def toggled(values: list[str], value: str, on: bool) -> list[str]:
    """`values` with `value` added at the end (on) or removed (off); order kept."""
    if on:
        return values if value in values else [*values, value]
    return [v for v in values if v != value]
