"""The mappings page's pure parts."""

from __future__ import annotations

import pytest

from maestro_app.domain.names import parse_context_length
from maestro_app.ui.pages.mappings import context_text


@pytest.mark.parametrize(
    ("tokens", "text"),
    [(None, ""), (32768, "32K"), (131072, "128K"), (1048576, "1M"), (5000, "5000"), (1536, "1536")],
)
def test_context_text(tokens: int | None, text: str) -> None:
    assert context_text(tokens) == text


@pytest.mark.parametrize("tokens", [32768, 131072, 1048576, 5000, 4097, 1536 * 1024])
def test_context_text_reads_back_as_the_same_number(tokens: int) -> None:
    assert parse_context_length(context_text(tokens)) == tokens
