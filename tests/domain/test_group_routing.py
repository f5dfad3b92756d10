"""domain.routing for groups: eligible members, context-length errors and fallback, what
`/api/show` describes. Pure: snapshots built from views, a fresh balancer state each."""

from __future__ import annotations

import pytest

from maestro_app.domain.balancing import BalancerState
from maestro_app.domain.errors import Forbidden
from maestro_app.domain.routing import (
    attempt_key,
    context_length_of,
    eligible_members,
    is_context_length_error,
    larger_context_attempts,
    resolve,
    shown_attempt,
)
from tests.domain.snapshots import group, mapping, member, node, snapshot, user

# Real phrasings (vLLM, OpenAI, Ollama, llama.cpp, LM Studio, TGI, Anthropic-style).
CONTEXT_ERRORS = [
    "This model's maximum context length is 16384 tokens. However, you requested 122946 tokens "
    "(112946 in the messages, 10000 in the completion). Please reduce the length of the messages or completion.",
    "'max_tokens' or 'max_completion_tokens' is too large: 8000. This model's maximum context length is "
    "4096 tokens and your request has 2778 input tokens (8000 > 4096 - 2778).",
    "The decoder prompt (length 9000) is longer than the maximum model length of 8192. Make sure that "
    "`max_model_len` is no smaller than the number of text tokens.",
    "context_length_exceeded",
    "Your input exceeds the context window of this model. Please adjust your input and try again.",
    "the input length exceeds the context length",
    "input length exceeds maximum context length",
    "the request exceeds the available context size. try increasing the context size or enable context shift",
    "Requested tokens (2285) exceed context window of 2048",
    "Input length 6491 exceeds context length 1500",
    "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096. Given: 4000 `inputs` tokens",
    "prompt is too long: 210000 tokens > 200000 maximum",
]
OTHER_ERRORS = [
    "model 'llama3' not found",
    "temperature must be between 0 and 2",
    "Invalid 'messages': empty array",
    "fake failure (status 400)",
    "max_tokens must be at least 1",
]


@pytest.mark.parametrize("message", CONTEXT_ERRORS)
def test_context_length_errors_are_recognised(message: str) -> None:
    assert is_context_length_error(400, message)
    assert is_context_length_error(500, message)  # llama.cpp and Ollama have answered 500


@pytest.mark.parametrize("message", OTHER_ERRORS)
def test_other_errors_are_not(message: str) -> None:
    assert not is_context_length_error(400, message)


def test_413_always_is_and_success_never_is() -> None:
    assert is_context_length_error(413, "Request Entity Too Large")
    assert not is_context_length_error(200, CONTEXT_ERRORS[0])


def test_eligible_members_per_capability_vision_first() -> None:
    seeing = member(1, "see", capability_tags=frozenset({"vision"}))
    tooling = member(2, "tool", capability_tags=frozenset({"tools"}))
    both = member(3, "both", capability_tags=frozenset({"vision", "tools"}))
    plain = member(4, "plain")
    g = group("g", [seeing, tooling, both, plain])
    assert eligible_members(g, frozenset()) == list(g.members)
    assert eligible_members(g, frozenset({"vision"})) == [seeing, both]
    assert eligible_members(g, frozenset({"tools"})) == [tooling, both]
    assert eligible_members(g, frozenset({"vision", "tools"})) == [both]
    only_vision = group("g", [seeing, plain])
    assert eligible_members(only_vision, frozenset({"vision", "tools"})) == [seeing]
    untagged = group("g", [plain, member(5, "other")])
    assert eligible_members(untagged, frozenset({"vision"})) == list(untagged.members)


def test_after_the_strategys_pick_members_follow_in_priority_order() -> None:
    # The round-robin ring is by member id; the failover order is by priority (SPEC §3.3).
    snap = snapshot(
        nodes=[node(1, {"a": None}), node(2, {"b": None}), node(3, {"c": None})],
        groups=[
            group(
                "g",
                [member(1, "a", priority=0), member(2, "b", priority=2), member(3, "c", priority=1)],
                strategy="round_robin",
                retries=1,
            )
        ],
    )
    state = BalancerState()
    turns = [[a.display_model for a in resolve(snap, "g", user=None, state=state).attempts] for _ in range(3)]
    assert turns == [["a", "c"], ["b", "a"], ["c", "a"]]


def test_context_length_of_prefers_member_then_mapping_then_discovery() -> None:
    n = node(1, {"real": 8192})
    snap = snapshot(nodes=[n], mappings=[mapping(1, "disp", "real", context_length=32768)])
    route = resolve(snap, "disp", user=None, state=BalancerState())
    assert context_length_of(route.attempts[0]) == 32768
    assert context_length_of(resolve(snap, "real", user=None, state=BalancerState()).attempts[0]) == 8192


def _ctx_group(retries: int = 3):  # type: ignore[no-untyped-def]
    nodes = [
        node(1, {"small": 8192}),
        node(2, {"same": 8192}),
        node(3, {"big": 32768}),
        node(4, {"huge": 131072}),
    ]
    members = [member(1, "small"), member(2, "same"), member(3, "big"), member(4, "huge")]
    g = group("g", members, retries=retries)
    return snapshot(nodes=nodes, groups=[g])


def test_larger_context_attempts_skip_equal_and_smaller_members() -> None:
    snap = _ctx_group()
    state = BalancerState()
    route = resolve(snap, "g", user=None, state=state)
    failed = route.attempts[0]
    larger = larger_context_attempts(snap, route, failed, state=state, tried={attempt_key(failed)})
    assert larger is not None
    assert [a.display_model for a in larger] == ["big", "huge"]


def test_larger_context_reaches_members_beyond_the_retry_list_within_the_budget() -> None:
    snap = _ctx_group(retries=1)
    state = BalancerState()
    route = resolve(snap, "g", user=None, state=state)
    assert [a.display_model for a in route.attempts] == ["small", "same"]
    failed = route.attempts[0]
    larger = larger_context_attempts(snap, route, failed, state=state, tried={attempt_key(failed)})
    assert [a.display_model for a in larger or ()] == ["big"]  # one retry left: one member
    none_left = group("g", list(snap.groups["g"].members), retries=0)
    snap0 = snapshot(nodes=list(snap.nodes), groups=[none_left])
    route0 = resolve(snap0, "g", user=None, state=state)
    assert larger_context_attempts(snap0, route0, route0.attempts[0], state=state, tried=set()) == ()


def test_unknown_context_leaves_the_plan_alone() -> None:
    snap = snapshot(
        nodes=[node(1, {"a": None}), node(2, {"b": 8192})],
        groups=[group("g", [member(1, "a"), member(2, "b")])],
    )
    state = BalancerState()
    route = resolve(snap, "g", user=None, state=state)
    assert larger_context_attempts(snap, route, route.attempts[0], state=state, tried=set()) is None


def test_plain_route_keeps_only_larger_nodes() -> None:
    snap = snapshot(nodes=[node(1, {"m": 4096}, priority=9), node(2, {"m": 4096}), node(3, {"m": 65536})])
    state = BalancerState()
    route = resolve(snap, "m", user=None, state=state)
    assert [a.node.id for a in route.attempts] == [1, 2, 3]
    larger = larger_context_attempts(
        snap, route, route.attempts[0], state=state, tried={attempt_key(route.attempts[0])}
    )
    assert [a.node.id for a in larger or ()] == [3]


def test_group_member_cooldown_is_not_a_node_cooldown() -> None:
    # Node 1 cooling down must not push member 1 (same number) behind member 2.
    snap = snapshot(
        nodes=[node(1, {"x": None}), node(5, {"a": None}), node(6, {"b": None})],
        groups=[group("g", [member(1, "a"), member(2, "b")])],
    )
    state = BalancerState()
    state.cool_down(1, 60)
    route = resolve(snap, "g", user=None, state=state)
    assert [a.display_model for a in route.attempts] == ["a", "b"]


def test_shown_attempt_is_the_first_member_without_a_round_robin_turn() -> None:
    snap = snapshot(
        nodes=[node(1, {"a": None}), node(2, {"b": None})],
        groups=[group("g", [member(1, "a"), member(2, "b")], strategy="round_robin")],
    )
    state = BalancerState()
    for _ in range(3):
        assert shown_attempt(snap, "g", user=None, state=state).display_model == "a"
    assert state.rr == {}
    limited = user()
    object.__setattr__(limited, "all_models", False)
    with pytest.raises(Forbidden):
        shown_attempt(snap, "g", user=limited, state=state)
