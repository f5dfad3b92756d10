"""Load-balancing strategies: order the candidate nodes for one request.

Every strategy returns *all* candidates, best first; the rest are the failover order.
`BalancerState` is the per-worker mutable part (round-robin cursors, requests in flight,
cooldowns after live failures, the latest health view of each node with the models it has
loaded); the snapshot stays immutable.

Residency: among candidates the strategy finds equal (same priority; for `least_busy` the
same load as well), one whose node already has the model in memory goes first, so a request
does not wait for a model load another node has already paid for. `round_robin` rotation
and the weighted draw itself are left alone; their failover remainder follows the rule.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from maestro_app.domain.health import NodeHealthView

STRATEGIES = ("priority", "round_robin", "weighted", "least_busy")

T = TypeVar("T")


@dataclass
class BalancerState:
    rr: dict[str, int] = field(default_factory=dict)
    in_flight: dict[int, int] = field(default_factory=dict)
    cooldown_until: dict[int, float] = field(default_factory=dict)
    # node id -> latest health check (status, loaded models); written by the health job or
    # the shared-state sync, read by routing. Absent: the snapshot's status, nothing loaded.
    health: dict[int, NodeHealthView] = field(default_factory=dict)
    # Scaled mode: requests in flight per node in the other processes (shared-state sync)
    remote_in_flight: dict[int, int] = field(default_factory=dict)
    rng: random.Random = field(default_factory=random.Random)

    def start(self, node_id: int) -> None:
        self.in_flight[node_id] = self.in_flight.get(node_id, 0) + 1

    def finish(self, node_id: int) -> None:
        self.in_flight[node_id] = max(0, self.in_flight.get(node_id, 0) - 1)

    def busy(self, node_id: int) -> bool:
        """Has the node a request in flight here or (scaled mode) in another process?"""
        return self.in_flight.get(node_id, 0) > 0 or self.remote_in_flight.get(node_id, 0) > 0

    def cool_down(self, node_id: int, seconds: float) -> None:
        self.cooldown_until[node_id] = time.monotonic() + seconds

    def recover(self, node_id: int) -> None:
        self.cooldown_until.pop(node_id, None)

    def in_cooldown(self, node_id: int, now: float | None = None) -> bool:
        until = self.cooldown_until.get(node_id)
        return until is not None and until > (time.monotonic() if now is None else now)

    def loaded_on(self, node_id: int) -> frozenset[str]:
        """Canonical names of the models the node had loaded at its latest check."""
        view = self.health.get(node_id)
        return view.loaded if view is not None else frozenset()

    def next_turn(self, key: str) -> int:
        turn = self.rr.get(key, 0)
        self.rr[key] = turn + 1
        return turn


def order_by_strategy(
    strategy: str,
    items: Sequence[T],
    *,
    key: str,
    state: BalancerState,
    node_id: Callable[[T], int],
    priority: Callable[[T], int],
    weight: Callable[[T], int],
    loaded: Callable[[T], bool] | None = None,
) -> list[T]:
    """Order `items` for one request; items in cooldown go last, in the same order.

    `loaded(item)` true means the item's node holds the model in memory: it breaks ties.
    """
    if len(items) <= 1:
        return list(items)
    is_loaded = loaded or (lambda _: False)
    by_priority = sorted(items, key=lambda it: (-priority(it), not is_loaded(it), node_id(it)))
    if strategy == "round_robin":
        ring = sorted(items, key=node_id)
        turn = state.next_turn(key) % len(ring)
        ordered = ring[turn:] + ring[:turn]
    elif strategy == "weighted":
        weights = [max(0, weight(it)) for it in by_priority]
        if sum(weights) > 0:
            first = state.rng.choices(by_priority, weights=weights, k=1)[0]
            ordered = [first] + [it for it in by_priority if it is not first]
        else:
            ordered = by_priority
    elif strategy == "least_busy":
        ordered = sorted(
            by_priority, key=lambda it: state.in_flight.get(node_id(it), 0)
        )  # stable: ties keep priority order
    else:
        ordered = by_priority
    now = time.monotonic()
    warm = [it for it in ordered if not state.in_cooldown(node_id(it), now)]
    cold = [it for it in ordered if state.in_cooldown(node_id(it), now)]
    return warm + cold
