"""Resolve the model a client names into an ordered list of attempts (SPEC §3).

    node:{code}:{model}  ->  that node only, model mapped for it
    group name           ->  members by the group's strategy, each member's nodes balanced
    display name         ->  nodes serving its real name, ordered by the routing strategy

Pure: reads the snapshot and the per-worker balancer state, does no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from maestro_app.domain.balancing import BalancerState, order_by_strategy
from maestro_app.domain.errors import Forbidden, NotFound, ServiceUnavailable
from maestro_app.domain.names import split_node_prefix
from maestro_app.domain.snapshot import (
    GroupView,
    MappingView,
    MemberView,
    NodeView,
    Snapshot,
    UserView,
)


@dataclass(frozen=True, slots=True)
class Attempt:
    node: NodeView
    real_model: str
    # The name the attempt serves, before mapping (a group member's name, or the request's)
    display_model: str
    mapping: MappingView | None = None
    member: MemberView | None = None


@dataclass(frozen=True, slots=True)
class Route:
    requested: str
    attempts: tuple[Attempt, ...]
    group: GroupView | None = None
    pinned: bool = False


def check_allowed(user: UserView, requested: str) -> None:
    if user.may_use(requested):
        return
    pinned = split_node_prefix(requested)
    if pinned is not None and user.may_use(pinned[1]):
        return
    raise Forbidden(f"Model '{requested}' is not in your allowlist")


def _attempt_for(snapshot: Snapshot, node: NodeView, display: str) -> Attempt:
    mapping = snapshot.mapping_for(display, node.id)
    real = mapping.real_name if mapping else display
    info = node.find_model(real)
    return Attempt(node, info.name if info else real, display, mapping)


def node_attempts(
    snapshot: Snapshot,
    display: str,
    *,
    state: BalancerState,
    strategy: str,
    preferred_node_ids: tuple[int, ...] = (),
) -> list[Attempt]:
    """Every node that may serve `display`, best first. Empty when no active node may."""
    active = [n for n in snapshot.nodes if n.is_active]
    if preferred_node_ids:
        rank = {nid: i for i, nid in enumerate(preferred_node_ids)}
        active = sorted((n for n in active if n.id in rank), key=lambda n: rank[n.id])
    attempts = [_attempt_for(snapshot, n, display) for n in active]
    advertised = [a for a in attempts if a.node.find_model(a.real_model) is not None]
    if advertised:
        attempts = advertised
    elif snapshot.is_mapped(display):
        # Mapped but not (yet) discovered anywhere: nodes where a mapping applies.
        attempts = [a for a in attempts if a.mapping is not None]
    healthy = [a for a in attempts if a.node.health_status != "unhealthy"]
    if not healthy:
        return []
    if preferred_node_ids:
        return healthy
    return order_by_strategy(
        strategy,
        healthy,
        key=display,
        state=state,
        node_id=lambda a: a.node.id,
        priority=lambda a: a.node.priority,
        weight=lambda a: a.node.weight,
    )


def _member_attempts(
    snapshot: Snapshot, group: GroupView, *, needs: frozenset[str], state: BalancerState
) -> list[Attempt]:
    members = list(group.members)
    if needs:
        tagged = [m for m in members if needs <= m.capability_tags]
        members = tagged or members
    ordered = order_by_strategy(
        group.strategy,
        members,
        key=f"group:{group.name}",
        state=state,
        node_id=lambda m: m.id,
        priority=lambda m: -m.priority,
        weight=lambda m: m.weight,
    )
    attempts: list[Attempt] = []
    for member in ordered[: 1 + max(0, group.max_failover_retries)]:
        for a in node_attempts(
            snapshot,
            member.model_display_name,
            state=state,
            strategy=snapshot.setting("routing_strategy"),
            preferred_node_ids=member.preferred_node_ids,
        ):
            attempts.append(Attempt(a.node, a.real_model, a.display_model, a.mapping, member))
    return attempts


def resolve(
    snapshot: Snapshot,
    requested: str,
    *,
    user: UserView | None,
    state: BalancerState,
    needs: frozenset[str] = frozenset(),
) -> Route:
    """Turn the client's model name into the attempts to make, in order.

    `user` None means the admin token (no allowlist). Raises Forbidden, NotFound or
    ServiceUnavailable in the order a client would want to learn them.
    """
    if user is not None:
        check_allowed(user, requested)
    pinned = split_node_prefix(requested)
    if pinned is not None:
        code, model = pinned
        node = snapshot.node_by_code(code)
        if node is None:
            raise NotFound(f"Node with code '{code}' not found", code="node_not_found")
        if not node.is_active:
            raise ServiceUnavailable(f"Node with code '{code}' is inactive")
        return Route(requested, (_attempt_for(snapshot, node, model),), pinned=True)

    group = snapshot.groups.get(requested)
    if group is not None:
        attempts = _member_attempts(snapshot, group, needs=needs, state=state)
        if not attempts:
            raise ServiceUnavailable(f"No healthy node serves any member of group '{requested}'")
        return Route(requested, tuple(attempts), group=group)

    attempts = node_attempts(snapshot, requested, state=state, strategy=snapshot.setting("routing_strategy"))
    if not attempts:
        if not any(n.is_active for n in snapshot.nodes):
            raise ServiceUnavailable("No active node is configured")
        raise ServiceUnavailable(f"No healthy node serves model '{requested}'")
    return Route(requested, tuple(attempts))
