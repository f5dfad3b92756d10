"""Hand-made orders: a dragged list's ids, a row moved up or down, an ordered selection."""

from __future__ import annotations

import pytest

from maestro_app.services.errors import InvalidInput
from maestro_app.ui.ordering import moved, parse_ids, toggled


def test_dragged_ids_become_ints_in_order() -> None:
    assert parse_ids(["3", "1", "2"]) == [3, 1, 2]


@pytest.mark.parametrize("ids", [["1", "x"], ["1.5"], None, [None]])
def test_unreadable_ids_are_refused(ids: object) -> None:
    with pytest.raises(InvalidInput, match="reload"):
        parse_ids(ids)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("item", "step", "expected"),
    [
        (2, -1, [2, 1, 3]),
        (2, 1, [1, 3, 2]),
        (1, 5, [2, 3, 1]),  # clamped to the end
        (3, -9, [3, 1, 2]),  # clamped to the start
    ],
)
def test_moved(item: int, step: int, expected: list[int]) -> None:
    order = [1, 2, 3]
    assert moved(order, item, step) == expected
    assert order == [1, 2, 3]  # the input is left alone


@pytest.mark.parametrize(("item", "step"), [(1, -1), (3, 1), (2, 0), (9, 1)])
def test_nothing_moves_at_the_ends_or_for_unknown_items(item: int, step: int) -> None:
    assert moved([1, 2, 3], item, step) is None


def test_toggled_keeps_the_order_things_were_checked_in() -> None:
    chosen: list[str] = []
    for node in ("7", "2", "5"):
        chosen = toggled(chosen, node, True)
    assert chosen == ["7", "2", "5"]
    assert toggled(chosen, "2", True) == ["7", "2", "5"]
    assert toggled(chosen, "2", False) == ["7", "5"]
    assert toggled(chosen, "9", False) == ["7", "2", "5"]
