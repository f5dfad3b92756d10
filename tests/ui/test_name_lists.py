"""Lists of names typed into a text area."""

from __future__ import annotations

import pytest

from maestro_app.ui.name_lists import names_text, parse_names


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Read\nGrep\nBash", ["Read", "Grep", "Bash"]),
        ("temperature, top_p,,  seed ", ["temperature", "top_p", "seed"]),
        ("  Read,\r\n\r\n  mcp__github__create_issue  \n", ["Read", "mcp__github__create_issue"]),
        ("", []),
        ("  \n , ", []),
        (None, []),
    ],
)
def test_parse_names(text: str | None, names: list[str]) -> None:
    assert parse_names(text) == names


def test_names_round_trip_through_the_text_area() -> None:
    names = ["Read", "read_file", "mcp__github__create_issue"]
    assert names_text(names) == "Read\nread_file\nmcp__github__create_issue"
    assert parse_names(names_text(names)) == names
    assert names_text(None) == ""
