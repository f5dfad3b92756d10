"""Node health rules: hysteresis, the shared health view, and which status routing believes.

    unknown --success--> healthy --2 failures in a row--> unhealthy --success--> healthy

A node stays `unknown` until its first check and turns `unhealthy` only after two
consecutive failures, so one lost probe does not take it out of rotation. The same rule
runs in Python (embedded mode, the database row is the counter) and in a Redis script
(scaled mode, `stores.shared_health`); `tests/domain/test_health_rules.py` and
`tests/stores/test_shared_health.py` hold both to one table.
"""

from __future__ import annotations

from dataclasses import dataclass

FAILURES_BEFORE_UNHEALTHY = 2
STATUSES = ("unknown", "healthy", "unhealthy")


def next_health(
    previous: str, failures: int, ok: bool, *, threshold: int = FAILURES_BEFORE_UNHEALTHY
) -> tuple[str, int]:
    """(status, consecutive failures) after one probe outcome."""
    if ok:
        return "healthy", 0
    failures += 1
    return ("unhealthy" if failures >= threshold else previous), failures


@dataclass(frozen=True, slots=True)
class NodeHealthView:
    """The latest health check of one node as the health job (or Redis) reported it.

    `checked_at` is a Unix timestamp; `loaded` holds the canonical names of the models an
    Ollama node had in memory at that check (`/api/ps`), empty when unknown or not Ollama.
    """

    status: str
    checked_at: float
    failures: int = 0
    loaded: frozenset[str] = frozenset()


def effective_status(
    snapshot_status: str, snapshot_checked_at: float | None, view: NodeHealthView | None
) -> str:
    """The status routing uses: the newer of the snapshot's (database) and the live view's.

    The view follows every periodic check at once; the snapshot wins when it is newer, e.g.
    after an admin's manual check, which writes the database only. A node the database has
    never seen checked is `unknown` whatever a view says: such a view belongs to an earlier
    node that had the same id (every status change reaches the snapshot, so nothing is lost).
    """
    if view is None or snapshot_checked_at is None or snapshot_checked_at > view.checked_at:
        return snapshot_status
    return view.status
