"""The nodes page's pure parts: priorities for a dragged order, the headers text."""

from __future__ import annotations

import pytest

from maestro_app.services.errors import InvalidInput
from maestro_app.ui.pages.nodes import format_headers, parse_headers, priorities_for_order


def test_distinct_priorities_are_dealt_out_again_in_the_new_order() -> None:
    current = {1: 500, 2: 400, 3: 100}
    assert priorities_for_order(current, [2, 1, 3]) == {2: 500, 1: 400, 3: 100}
    assert priorities_for_order(current, [3, 2, 1]) == {3: 500, 2: 400, 1: 100}


def test_ties_become_steps_of_ten_from_the_bottom() -> None:
    assert priorities_for_order({1: 0, 2: 0, 3: 0}, [3, 1, 2]) == {3: 30, 1: 20, 2: 10}
    assert priorities_for_order({1: 5, 2: 5, 3: 1}, [1, 2, 3]) == {1: 30, 2: 20, 3: 10}


def test_an_order_of_other_nodes_is_refused() -> None:
    with pytest.raises(InvalidInput, match="reload"):
        priorities_for_order({1: 1, 2: 2}, [1, 3])
    with pytest.raises(InvalidInput):
        priorities_for_order({1: 1, 2: 2}, [1])


def test_headers_text_round_trip() -> None:
    text = "X-Team: research\n\nAuthorization: Bearer abc:def\n"
    headers = parse_headers(text)
    assert headers == {"X-Team": "research", "Authorization": "Bearer abc:def"}
    assert parse_headers(format_headers(headers)) == headers
    assert parse_headers("") == {}


def test_a_header_line_without_a_colon_is_refused() -> None:
    with pytest.raises(InvalidInput, match="line 2"):
        parse_headers("X-A: 1\nbroken")
