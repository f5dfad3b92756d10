"""Resolve the model a client names into an ordered list of attempts (SPEC §3).

    node:{code}:{model}  ->  that node only, model mapped for it
    group name           ->  members by the group's strategy, each member's nodes balanced
    display name         ->  nodes serving its real name, ordered by the routing strategy

A context-length error from one attempt narrows what is left to attempts with a larger
context (`larger_context_attempts`). Pure: reads the snapshot and the per-worker balancer
state, does no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from maestro_app.domain.balancing import BalancerState, order_by_strategy
from maestro_app.domain.errors import Forbidden, NotFound, ServiceUnavailable
from maestro_app.domain.health import effective_status
from maestro_app.domain.names import canonical, split_node_prefix
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
    # What the request needs of a group member ("vision", "tools")
    needs: frozenset[str] = frozenset()


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


def node_status(node: NodeView, state: BalancerState) -> str:
    """The node's health as routing sees it: the newer of the snapshot and the live view."""
    return effective_status(node.health_status, node.last_health_check, state.health.get(node.id))


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
    healthy = [a for a in attempts if node_status(a.node, state) != "unhealthy"]
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
        loaded=lambda a: canonical(a.real_model) in state.loaded_on(a.node.id),
    )


def _member_attempts(
    snapshot: Snapshot, group: GroupView, *, needs: frozenset[str], state: BalancerState
) -> list[Attempt]:
    ordered = order_by_strategy(
        group.strategy,
        eligible_members(group, needs),
        key=f"group:{group.name}",
        state=state,
        # Shifted below zero: the balancer's node cooldowns are keyed by node id and must
        # never apply to a member that happens to share the number.
        node_id=lambda m: m.id - 2**31,
        priority=lambda m: -m.priority,
        weight=lambda m: m.weight,
    )
    # The strategy picks the first member; on its failure the others follow in priority
    # order (SPEC §3.3), also after a round-robin turn (whose ring is by member id).
    ordered = ordered[:1] + sorted(ordered[1:], key=lambda m: (m.priority, m.id))
    attempts: list[Attempt] = []
    for member in ordered[: 1 + max(0, group.max_failover_retries)]:
        attempts.extend(_attempts_of_member(snapshot, member, state=state))
    return attempts


def eligible_members(group: GroupView, needs: frozenset[str]) -> list[MemberView]:
    """Members that may serve a request needing `needs`: for each need (vision first, the
    harder one), those tagged with it, unless none is."""
    members = list(group.members)
    for need in sorted(needs, key=lambda n: n != "vision"):
        tagged = [m for m in members if need in m.capability_tags]
        members = tagged or members
    return members


def _attempts_of_member(snapshot: Snapshot, member: MemberView, *, state: BalancerState) -> list[Attempt]:
    return [
        Attempt(a.node, a.real_model, a.display_model, a.mapping, member)
        for a in node_attempts(
            snapshot,
            member.model_display_name,
            state=state,
            strategy=snapshot.setting("routing_strategy"),
            preferred_node_ids=member.preferred_node_ids,
        )
    ]


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
        return Route(requested, tuple(attempts), group=group, needs=needs)

    attempts = node_attempts(snapshot, requested, state=state, strategy=snapshot.setting("routing_strategy"))
    if not attempts:
        if not any(n.is_active for n in snapshot.nodes):
            raise ServiceUnavailable("No active node is configured")
        raise ServiceUnavailable(f"No healthy node serves model '{requested}'")
    return Route(requested, tuple(attempts))


# -- context-length fallback ----------------------------------------------------------------

# How upstreams say "the request does not fit the context" (vLLM, OpenAI, Ollama, llama.cpp,
# LM Studio, TGI, Anthropic-style servers), e.g.
#   "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens"
#   "The decoder prompt (length 9000) is longer than the maximum model length of 8192"
#   "the input length exceeds the context length"          (Ollama)
#   "the request exceeds the available context size. try increasing the context size"
#   "Input length 6491 exceeds context length 1500"         (LM Studio)
#   "`inputs` tokens + `max_new_tokens` must be <= 4096"    (TGI)
#   "prompt is too long: 210000 tokens > 200000 maximum"
_CONTEXT_ERROR = re.compile(
    r"maximum context length"
    r"|context[_ ]length[_ ]exceeded"
    r"|exceeds? (?:the |its |your )?(?:maximum |max |available |model'?s? )?context"
    r"|longer than the maximum model length"
    r"|(?:prompt|input) (?:is )?too long"
    r"|context (?:window|size|length) (?:exceeded|is too small|overflow)"
    r"|tokens \+ `?max_new_tokens`? must be <=",
    re.IGNORECASE,
)


def is_context_length_error(status: int, message: str) -> bool:
    """True for HTTP 413, or an error whose message says the request does not fit the context."""
    return status == 413 or (400 <= status < 600 and bool(_CONTEXT_ERROR.search(message)))


def context_length_of(attempt: Attempt) -> int | None:
    """The context an attempt offers: the member's, the mapping's, else the node's discovered one."""
    if attempt.member is not None and attempt.member.context_length:
        return attempt.member.context_length
    if attempt.mapping is not None and attempt.mapping.context_length:
        return attempt.mapping.context_length
    info = attempt.node.find_model(attempt.real_model)
    return info.context_length if info is not None else None


def attempt_key(attempt: Attempt) -> tuple[int, str, int | None]:
    return attempt.node.id, attempt.real_model, attempt.member.id if attempt.member else None


def larger_context_attempts(
    snapshot: Snapshot,
    route: Route,
    failed: Attempt,
    *,
    state: BalancerState,
    tried: Collection[tuple[int, str, int | None]],
) -> tuple[Attempt, ...] | None:
    """What is left to try after `failed` said the request does not fit its context.

    Attempts not tried yet whose known context is larger than the failed one's; for a group,
    its eligible members (lower priority number first, beyond the ones the strategy picked),
    within what is left of `max_failover_retries`. None when the failed attempt's context is
    unknown: nothing can be compared, and the usual failover order stands.
    """
    limit = context_length_of(failed)
    if limit is None:
        return None
    group = route.group
    if group is None:
        pool: list[Attempt] = list(route.attempts)
    else:
        used = {member_id for _, _, member_id in tried if member_id is not None}
        if failed.member is not None:
            used.add(failed.member.id)
        budget = max(0, group.max_failover_retries - (len(used) - 1))
        pool = []
        members = sorted(eligible_members(group, route.needs), key=lambda m: (m.priority, m.id))
        for member in members:
            if budget <= 0:
                break
            if member.id in used or (member.context_length and member.context_length <= limit):
                continue
            found = [a for a in _attempts_of_member(snapshot, member, state=state) if _larger(a, limit)]
            if found:
                pool.extend(found)
                budget -= 1
    return tuple(a for a in pool if attempt_key(a) not in tried and _larger(a, limit))


def _larger(attempt: Attempt, limit: int) -> bool:
    size = context_length_of(attempt)
    return size is not None and size > limit


def shown_attempt(
    snapshot: Snapshot, requested: str, *, user: UserView | None, state: BalancerState
) -> Attempt:
    """What a model description (`/api/show`) is about: a group is its first member (lowest
    priority number) that a healthy node serves, without taking a turn of the group's
    strategy; any other name is its first attempt."""
    group = snapshot.groups.get(requested)
    if group is None or not group.members:
        return resolve(snapshot, requested, user=user, state=state).attempts[0]
    if user is not None:
        check_allowed(user, requested)
    for member in group.members:
        attempts = _attempts_of_member(snapshot, member, state=state)
        if attempts:
            return attempts[0]
    raise ServiceUnavailable(f"No healthy node serves any member of group '{requested}'")
