"""domain.health: the hysteresis table, and which status routing believes."""

from __future__ import annotations

import pytest

from maestro_app.domain.health import NodeHealthView, effective_status, next_health

# (previous status, failures so far, probe ok) -> (status, failures)
HYSTERESIS = [
    ("unknown", 0, True, "healthy", 0),
    ("unknown", 0, False, "unknown", 1),
    ("unknown", 1, False, "unhealthy", 2),
    ("healthy", 0, False, "healthy", 1),
    ("healthy", 1, False, "unhealthy", 2),
    ("healthy", 1, True, "healthy", 0),
    ("unhealthy", 2, False, "unhealthy", 3),
    ("unhealthy", 7, True, "healthy", 0),
]


@pytest.mark.parametrize(("previous", "failures", "ok", "status", "after"), HYSTERESIS)
def test_hysteresis(previous: str, failures: int, ok: bool, status: str, after: int) -> None:
    assert next_health(previous, failures, ok) == (status, after)


def test_a_probe_sequence_needs_two_failures_and_one_success() -> None:
    state = ("unknown", 0)
    seen = []
    for ok in (False, False, False, True, False, True):
        state = next_health(*state, ok)
        seen.append(state[0])
    assert seen == ["unknown", "unhealthy", "unhealthy", "healthy", "healthy", "healthy"]


def test_the_newer_of_snapshot_and_view_wins() -> None:
    view = NodeHealthView(status="unhealthy", checked_at=100.0)
    assert effective_status("healthy", None, None) == "healthy"
    # Never checked as far as the database knows: a leftover view of an id reused.
    assert effective_status("unknown", None, view) == "unknown"
    assert effective_status("healthy", 50.0, view) == "unhealthy"
    assert effective_status("healthy", 100.0, view) == "unhealthy"  # the same check
    # An admin's manual check, newer than the job's: the database wins.
    assert effective_status("healthy", 150.0, view) == "healthy"
