"""The nodes page's pure parts: priorities for a dragged order, the headers text, what
a card says about warmup."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from maestro_app.services.errors import InvalidInput
from maestro_app.services.nodes import NodePublic
from maestro_app.ui.pages.nodes import NodesState, _card, format_headers, parse_headers, priorities_for_order
from maestro_app.ui.pages.nodes_view import node_card


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


def _node(node_type: str) -> NodePublic:
    now = datetime(2026, 1, 2, tzinfo=UTC)
    return NodePublic(
        id=7,
        name="n",
        code="n",
        base_url="http://127.0.0.1:9",
        node_type=node_type,
        api_key=None,
        headers={},
        priority=0,
        weight=1,
        is_active=True,
        warmup_enabled=True,
        health_check_url=None,
        health_status="healthy",
        last_health_check=now,
        consecutive_failures=0,
        last_error=None,
        models_count=1,
        created_at=now,
        updated_at=now,
    )


def test_a_vllm_card_says_warmup_is_not_needed() -> None:
    vllm, ollama = _card(_node("vllm")), _card(_node("ollama"))
    assert (vllm.warmup_needed, vllm.warmup_note) == (
        False,
        "vLLM keeps its models loaded: warmup sends nothing to this node.",
    )
    assert ollama.warmup_needed and ollama.warmup_note.endswith("(Ollama keep_alive).")
    # The card shows the note when warmup is not needed, and as the switch's tooltip.
    rendered = str(node_card(NodesState.cards[0]))
    assert '?.["warmup_needed"])?(' in rendered and 'className:"warmup-note"' in rendered
    assert rendered.count('?.["warmup_note"]') == 2
