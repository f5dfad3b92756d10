"""`<think>` blocks at the start of content, whole and streamed at every split."""

import pytest

from maestro_app.providers.think import ThinkSplitter, split_think

CASES = [
    # id, content, reasoning, rest
    (
        "think-then-answer",
        "<think>Let me see.</think>\n\nThe answer is 4.",
        "Let me see.",
        "The answer is 4.",
    ),
    ("whitespace-before-think", "\n  <think>\nstep 1\nstep 2\n</think>\nDone", "step 1\nstep 2\n", "Done"),
    ("no-think", "Plain answer.", "", "Plain answer."),
    (
        "think-later-is-text",
        "Answer first <think>not reasoning</think>",
        "",
        "Answer first <think>not reasoning</think>",
    ),
    ("empty-think", "<think></think>Hi", "", "Hi"),
    ("whitespace-only-think", "<think>\n\n</think>\n\nHi", "", "Hi"),
    ("unclosed-think-stays-reasoning", "<think>still thinking when cut", "still thinking when cut", ""),
    ("angle-brackets-inside", "<think>a < b, </thin, <think></think>ok", "a < b, </thin, <think>", "ok"),
    ("thinking-tag-is-not-think", "<thinking>x</thinking>", "", "<thinking>x</thinking>"),
    ("partial-open-at-end", "<thi", "", "<thi"),
    ("only-whitespace", "  \n", "", "  \n"),
    ("markup-after-think", "<think>r</think><tool_call>{}</tool_call>", "r", "<tool_call>{}</tool_call>"),
]
IDS = [case[0] for case in CASES]
TABLE = [case[1:] for case in CASES]


def _stream(pieces: list[str]) -> tuple[str, str]:
    splitter = ThinkSplitter()
    reasoning: list[str] = []
    content: list[str] = []
    for piece in pieces:
        thought, text = splitter.feed(piece)
        reasoning.append(thought)
        content.append(text)
    thought, text = splitter.finish()
    return "".join(reasoning) + thought, "".join(content) + text


@pytest.mark.parametrize(("content", "reasoning", "rest"), TABLE, ids=IDS)
def test_whole(content: str, reasoning: str, rest: str) -> None:
    assert split_think(content) == (reasoning, rest)


@pytest.mark.parametrize(("content", "reasoning", "rest"), TABLE, ids=IDS)
def test_split_everywhere_and_one_character_at_a_time(content: str, reasoning: str, rest: str) -> None:
    for cut in range(len(content) + 1):
        assert _stream([content[:cut], content[cut:]]) == (reasoning, rest)
    assert _stream(list(content)) == (reasoning, rest)


def test_reasoning_streams_as_it_comes() -> None:
    splitter = ThinkSplitter()
    assert splitter.feed("<think>") == ("", "")
    assert splitter.feed("First") == ("First", "")
    assert splitter.feed(" idea</") == (" idea", "")
    assert splitter.feed("think>\n") == ("", "")
    assert splitter.feed("Answer") == ("", "Answer")
    assert splitter.quiet
    assert splitter.finish() == ("", "")


def test_content_without_think_is_released_at_the_first_character() -> None:
    splitter = ThinkSplitter()
    assert splitter.feed("\n") == ("", "")
    assert splitter.feed("Hi") == ("", "\nHi")
    assert splitter.quiet
