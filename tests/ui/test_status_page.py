"""The status page's formatting and its server-side session guard (no browser)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from maestro_app.ui.pages.status import StatusState, _context_label, _when


@pytest.mark.parametrize(
    ("tokens", "label"),
    [
        (131072, "128K ctx"),
        (128000, "128K ctx"),
        (8192, "8K ctx"),
        (1048576, "1M ctx"),
        (2_000_000, "2M ctx"),
        (4097, "4,097 ctx"),
        (0, ""),
        (None, ""),
    ],
)
def test_context_label(tokens: int | None, label: str) -> None:
    assert _context_label(tokens) == label


def test_when_reads_naive_database_times_as_utc() -> None:
    assert _when(None) == "never"
    assert _when(datetime(2026, 3, 4, 5, 6, 7)) == "2026-03-04 05:06 UTC"
    assert _when(datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)) == "2026-03-04 05:06 UTC"


class _NoSession:
    """Stands in for a StatusState without a valid session."""

    redirect = object()

    def __init__(self) -> None:
        self.refreshed = False

    async def _has_session(self) -> bool:
        return False

    def _login_redirect(self) -> Any:
        return self.redirect

    async def _refresh(self) -> None:
        self.refreshed = True


@pytest.mark.parametrize("handler", ["load", "refresh"])
def test_handlers_redirect_to_login_without_a_session(handler: str) -> None:
    state = _NoSession()
    result = asyncio.run(StatusState.event_handlers[handler].fn(state))
    assert result is _NoSession.redirect
    assert not state.refreshed
