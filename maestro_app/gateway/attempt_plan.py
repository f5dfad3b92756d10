"""The attempts of one request, in order, as the pipeline walks them.

Failover walks the route's attempts one by one. A context-length error (HTTP 413, or an
upstream message saying the request does not fit) narrows what is left to attempts with a
larger context (`domain.routing.larger_context_attempts`): retrying one that is no larger
would only fail the same way.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from maestro_app.domain.balancing import BalancerState
from maestro_app.domain.routing import (
    Attempt,
    Route,
    attempt_key,
    is_context_length_error,
    larger_context_attempts,
)
from maestro_app.domain.snapshot import Snapshot
from maestro_app.gateway.upstream import UpstreamResponse


class AttemptPlan:
    __slots__ = ("_snapshot", "_route", "_state", "_queue", "_tried")

    def __init__(self, snapshot: Snapshot, route: Route, state: BalancerState) -> None:
        self._snapshot = snapshot
        self._route = route
        self._state = state
        self._queue: deque[Attempt] = deque(route.attempts)
        self._tried: list[Attempt] = []

    def __iter__(self) -> Iterator[Attempt]:
        while self._queue:
            attempt = self._queue.popleft()
            self._tried.append(attempt)
            yield attempt

    def fall_back_for_context(self, attempt: Attempt, status: int, message: str) -> bool:
        """After `attempt` failed with `status`/`message`: when that says the context was too
        small, keep only larger-context attempts. True when such an attempt is next."""
        if not is_context_length_error(status, message):
            return False
        larger = larger_context_attempts(
            self._snapshot,
            self._route,
            attempt,
            state=self._state,
            tried={attempt_key(a) for a in self._tried},
        )
        if larger is None:  # the failed attempt's context is unknown: nothing to compare
            return False
        self._queue = deque(larger)
        return bool(larger)

    def falls_back(self, attempt: Attempt, resp: UpstreamResponse, message: str, failures: list[str]) -> bool:
        """For a non-retryable error answer of `attempt`: True (the answer released, the
        failure noted) when it was a context-length error and a larger-context attempt is
        next; False leaves the answer to be relayed to the client."""
        if not self.fall_back_for_context(attempt, resp.status, message):
            return False
        resp.close()
        self._state.finish(attempt.node.id)
        failures.append(f"{attempt.node.name}: HTTP {resp.status} {message}")
        return True
