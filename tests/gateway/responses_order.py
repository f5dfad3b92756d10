"""The published order of OpenAI Responses stream events, as a checker for tests.

From the API reference (developers.openai.com, "Streaming events") and the SDK's own stream
accumulator: `response.created`, `response.in_progress`, then each output item's events in
a block — `response.output_item.added` first and `response.output_item.done` last, with

    message:        content_part.added, output_text.delta*, output_text.done, content_part.done
    reasoning:      reasoning_summary_part.added, reasoning_summary_text.delta*,
                    reasoning_summary_text.done, reasoning_summary_part.done
    function_call:  function_call_arguments.delta*, function_call_arguments.done

between — and one terminal event: `response.completed`, `response.incomplete` or
`response.failed` (after which an item may have stayed open). Every event has a `sequence_number`, strictly increasing.
"""

from __future__ import annotations

import re
from typing import Any

ITEM_GRAMMAR = {
    "message": r"content_part\.added (output_text\.delta )*output_text\.done content_part\.done ",
    "reasoning": (
        r"reasoning_summary_part\.added (reasoning_summary_text\.delta )*"
        r"reasoning_summary_text\.done reasoning_summary_part\.done "
    ),
    "function_call": r"(function_call_arguments\.delta )*function_call_arguments\.done ",
}
TERMINAL = ("response.completed", "response.incomplete", "response.failed")


def check_order(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Assert the published order; return the terminal event's response."""
    numbers = [event["sequence_number"] for event in events]
    assert numbers == sorted(set(numbers)), f"sequence numbers not strictly increasing: {numbers}"
    assert numbers[0] == 0
    types = [event["type"] for event in events]
    assert types[:2] == ["response.created", "response.in_progress"], types
    assert types[-1] in TERMINAL, types
    assert not any(t in TERMINAL or t in types[:2] for t in types[2:-1]), types
    response_id = events[0]["response"]["id"]
    assert all(e["response"]["id"] == response_id for e in (events[1], events[-1]))
    body = events[2:-1]
    done_items: list[dict[str, Any]] = []
    position = 0
    while position < len(body):
        added = body[position]
        assert added["type"] == "response.output_item.added", types
        item = added["item"]
        assert added["output_index"] == len(done_items)
        ends = [i for i in range(position, len(body)) if body[i]["type"] == "response.output_item.done"]
        inner = body[position + 1 : ends[0] if ends else len(body)]
        assert all(e["item_id"] == item["id"] and e["output_index"] == added["output_index"] for e in inner)
        if not ends:
            # A stream that broke leaves its last item open; the failed response lists it.
            assert events[-1]["type"] == "response.failed", types
            assert events[-1]["response"]["output"][-1]["id"] == item["id"]
            break
        end = ends[0]
        words = "".join(e["type"].removeprefix("response.") + " " for e in inner)
        assert re.fullmatch(ITEM_GRAMMAR[item["type"]], words), (item["type"], words)
        done = body[end]["item"]
        assert done["id"] == item["id"] and done["type"] == item["type"]
        _check_text(item["type"], inner, done)
        done_items.append(done)
        position = end + 1
    final = events[-1]["response"]
    if events[-1]["type"] != "response.failed":
        assert final["output"] == done_items
    return final  # type: ignore[no-any-return]


def _check_text(kind: str, inner: list[dict[str, Any]], done: dict[str, Any]) -> None:
    """The deltas add up to the `.done` text and to the finished item."""
    deltas = "".join(e.get("delta", "") for e in inner if e["type"].endswith(".delta"))
    if kind == "message":
        (text_done,) = [e for e in inner if e["type"] == "response.output_text.done"]
        assert deltas == text_done["text"] == done["content"][0]["text"]
    elif kind == "reasoning":
        (text_done,) = [e for e in inner if e["type"] == "response.reasoning_summary_text.done"]
        assert deltas == text_done["text"] == done["summary"][0]["text"]
    else:
        (arguments_done,) = [e for e in inner if e["type"] == "response.function_call_arguments.done"]
        assert deltas == arguments_done["arguments"] == done["arguments"]
