"""Residency preference and the live health view in balancing and routing (pure)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from maestro_app.domain.balancing import BalancerState, order_by_strategy
from maestro_app.domain.health import NodeHealthView
from maestro_app.domain.routing import node_attempts, resolve
from maestro_app.domain.snapshot import ModelInfo, NodeView, Snapshot


@dataclass(frozen=True)
class Item:
    id: int
    priority: int = 0
    weight: int = 1


def order(
    strategy: str, items: list[Item], state: BalancerState, loaded: set[int] | None = None
) -> list[int]:
    kwargs = {} if loaded is None else {"loaded": lambda it: it.id in loaded}
    ordered = order_by_strategy(
        strategy,
        items,
        key="m",
        state=state,
        node_id=lambda it: it.id,
        priority=lambda it: it.priority,
        weight=lambda it: it.weight,
        **kwargs,
    )
    return [it.id for it in ordered]


def test_priority_prefers_a_loaded_node_among_equals_only() -> None:
    items = [Item(1, priority=5), Item(2, priority=5), Item(3, priority=9), Item(4, priority=5)]
    state = BalancerState()
    assert order("priority", items, state) == [3, 1, 2, 4]
    assert order("priority", items, state, loaded={4}) == [3, 4, 1, 2]
    # A loaded node of lower priority does not jump the queue.
    assert order("priority", items, state, loaded={2}) == [3, 2, 1, 4]
    assert order("priority", [Item(1, 1), Item(2, 0)], state, loaded={2}) == [1, 2]


def test_without_the_argument_the_order_is_unchanged() -> None:
    items = [Item(2, 3), Item(1, 3), Item(5, 1)]
    assert order("priority", items, BalancerState()) == order(
        "priority", items, BalancerState(), loaded=set()
    )


def test_least_busy_breaks_load_ties_by_priority_then_residency() -> None:
    items = [Item(1, priority=1), Item(2, priority=1), Item(3, priority=1)]
    state = BalancerState(in_flight={1: 2, 2: 0, 3: 0})
    assert order("least_busy", items, state) == [2, 3, 1]
    assert order("least_busy", items, state, loaded={3}) == [3, 2, 1]
    # Load comes first: the loaded node with more requests in flight stays behind.
    assert order("least_busy", items, state, loaded={1}) == [2, 3, 1]


def test_weighted_fallback_follows_residency_and_round_robin_keeps_rotating() -> None:
    items = [Item(1), Item(2), Item(3)]
    state = BalancerState()
    firsts = set()
    for _ in range(30):
        ordered = order("weighted", items, state, loaded={3})
        rest = ordered[1:]
        assert rest == sorted(rest, key=lambda i: (i != 3, i))
        firsts.add(ordered[0])
    assert firsts == {1, 2, 3}  # the draw itself is by weight, not by residency
    turns = [order("round_robin", items, state, loaded={3})[0] for _ in range(3)]
    assert sorted(turns) == [1, 2, 3]


def test_cooldown_still_goes_last() -> None:
    state = BalancerState()
    state.cool_down(2, 60)
    assert order("priority", [Item(1), Item(2)], state, loaded={2}) == [1, 2]


def _node(
    node_id: int, *, priority: int = 0, status: str = "healthy", checked: float | None = None
) -> NodeView:
    return NodeView(
        id=node_id,
        name=f"n{node_id}",
        code=None,
        base_url=f"http://n{node_id}",
        node_type="ollama",
        api_key=None,
        headers=(),
        priority=priority,
        weight=1,
        is_active=True,
        health_status=status,
        models={"llama3:latest": ModelInfo("llama3:latest"), "qwen:7b": ModelInfo("qwen:7b")},
        last_health_check=checked,
    )


def _ids(snapshot: Snapshot, model: str, state: BalancerState) -> list[int]:
    return [a.node.id for a in node_attempts(snapshot, model, state=state, strategy="priority")]


def test_routing_prefers_the_node_that_has_the_model_loaded() -> None:
    snapshot = Snapshot(nodes=(_node(1), _node(2), _node(3, priority=-1)))
    state = BalancerState()
    assert _ids(snapshot, "llama3", state) == [1, 2, 3]
    state.health[2] = NodeHealthView("healthy", 10.0, loaded=frozenset({"llama3:latest"}))
    state.health[3] = NodeHealthView("healthy", 10.0, loaded=frozenset({"llama3:latest"}))
    # The tagless name and the loaded canonical name are one model.
    assert _ids(snapshot, "llama3", state) == [2, 1, 3]
    assert _ids(snapshot, "qwen:7b", state) == [1, 2, 3]
    route = resolve(snapshot, "llama3:latest", user=None, state=state)
    assert route.attempts[0].node.id == 2


@pytest.mark.parametrize(
    ("snapshot_status", "snapshot_checked", "view_status", "view_checked", "routable"),
    [
        ("healthy", 5.0, "unhealthy", 10.0, False),  # the job saw it fail
        ("unhealthy", 5.0, "healthy", 10.0, True),  # back, before the snapshot reloads
        ("healthy", 20.0, "unhealthy", 10.0, True),  # an admin's newer manual check
        ("unknown", None, "unhealthy", 10.0, True),  # a view older than the node itself
    ],
)
def test_routing_reads_the_newer_health(
    snapshot_status: str,
    snapshot_checked: float | None,
    view_status: str,
    view_checked: float,
    routable: bool,
) -> None:
    snapshot = Snapshot(
        nodes=(_node(1, status=snapshot_status, checked=snapshot_checked), _node(2, priority=-1))
    )
    state = BalancerState()
    state.health[1] = NodeHealthView(view_status, view_checked)
    assert (1 in _ids(snapshot, "llama3", state)) is routable


def test_busy_counts_other_processes() -> None:
    state = BalancerState()
    assert not state.busy(1)
    state.start(1)
    assert state.busy(1)
    state.finish(1)
    state.remote_in_flight = {1: 1}
    assert state.busy(1) and not state.busy(2)
