"""domain.request_rules: pure functions, data in and data out; inputs are never modified."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from maestro_app.domain.errors import ServiceUnavailable
from maestro_app.domain.request_rules import (
    check_maintenance,
    config_for_attempt,
    declared_context_length,
    filter_tools,
    merge_system_prompt,
    model_config_for,
    remove_params,
    select_system_prompt,
    tool_name,
    with_num_ctx,
)
from maestro_app.domain.routing import Attempt, Route
from tests.domain.snapshots import config, group, mapping, member, node, prompt, snapshot


def _tool(name: str) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "parameters": {"type": "object"}}}


# -- model config lookup -------------------------------------------------------------------


def test_longest_prefix_wins_case_insensitively() -> None:
    snap = snapshot(configs=[config("qwen"), config("Qwen2.5-Coder"), config("llama")])
    assert model_config_for(snap, "QWEN2.5-coder:32b").model_prefix == "qwen2.5-coder"  # type: ignore[union-attr]
    assert model_config_for(snap, "qwen3:8b").model_prefix == "qwen"  # type: ignore[union-attr]
    assert model_config_for(snap, "mistral") is None
    assert model_config_for(snapshot(), "qwen") is None


def test_pinned_name_matches_on_its_model_part() -> None:
    snap = snapshot(configs=[config("llama"), config("node:gpu1:")])
    assert model_config_for(snap, "node:gpu2:llama3").model_prefix == "llama"  # type: ignore[union-attr]
    assert model_config_for(snap, "node:gpu1:llama3").model_prefix == "node:gpu1:"  # type: ignore[union-attr]


def test_group_without_config_uses_its_members() -> None:
    n = node(1, {"m-a": 8192})
    g = group("team", [member(1, "m-a")])
    snap = snapshot(nodes=[n], groups=[g], configs=[config("m-a", unsupported_params=("seed",))])
    attempt = Attempt(n, "m-a", "m-a", None, g.members[0])
    route = Route("team", (attempt,), group=g)
    assert config_for_attempt(snap, route, attempt).model_prefix == "m-a"  # type: ignore[union-attr]
    own = snapshot(nodes=[n], groups=[g], configs=[config("m-a"), config("team")])
    assert config_for_attempt(own, route, attempt).model_prefix == "team"  # type: ignore[union-attr]


# -- maintenance ---------------------------------------------------------------------------


def test_maintenance_raises_503_with_the_model_name() -> None:
    n = node(1, {"m": None})
    snap = snapshot(nodes=[n], configs=[config("m", maintenance_mode=True)])
    with pytest.raises(ServiceUnavailable) as caught:
        check_maintenance(snap, Route("m", (Attempt(n, "m", "m"),)))
    assert caught.value.status == 503
    assert caught.value.message.startswith("Model 'm' is in maintenance")
    assert caught.value.code == "model_maintenance"


def test_route_without_configs_is_returned_as_is() -> None:
    n = node(1, {"m": None})
    route = Route("m", (Attempt(n, "m", "m"),))
    assert check_maintenance(snapshot(nodes=[n]), route) is route
    assert (
        check_maintenance(snapshot(nodes=[n], configs=[config("other", maintenance_mode=True)]), route)
        is route
    )


def test_group_skips_members_in_maintenance_and_fails_when_none_is_left() -> None:
    n = node(1, {"a": None, "b": None})
    g = group("g", [member(1, "a"), member(2, "b")])
    attempts = tuple(Attempt(n, m.model_display_name, m.model_display_name, None, m) for m in g.members)
    route = Route("g", attempts, group=g)
    snap = snapshot(nodes=[n], groups=[g], configs=[config("a", maintenance_mode=True)])
    kept = check_maintenance(snap, route)
    assert [a.display_model for a in kept.attempts] == ["b"]
    assert [a.display_model for a in route.attempts] == ["a", "b"]  # the input route is untouched
    both = snapshot(
        nodes=[n],
        groups=[g],
        configs=[config("a", maintenance_mode=True), config("b", maintenance_mode=True)],
    )
    with pytest.raises(ServiceUnavailable, match="Every member of group 'g' is in maintenance"):
        check_maintenance(both, Route("g", attempts, group=g))
    whole = snapshot(nodes=[n], groups=[g], configs=[config("g", maintenance_mode=True)])
    with pytest.raises(ServiceUnavailable, match="Model 'g' is in maintenance"):
        check_maintenance(whole, route)


# -- tools ---------------------------------------------------------------------------------


def test_tool_names_of_every_shape() -> None:
    assert tool_name(_tool("read_file")) == "read_file"
    assert tool_name({"name": "Bash", "input_schema": {}}) == "Bash"
    assert tool_name({"type": "web_search_preview"}) == "web_search_preview"
    assert tool_name({"type": "function"}) is None
    assert tool_name("nope") is None


def test_filter_tools_openai_shape_rewrites_a_removed_tool_choice() -> None:
    body = {
        "model": "m",
        "tools": [_tool("read_file"), _tool("run_terminal_cmd"), _tool("Grep")],
        "tool_choice": {"type": "function", "function": {"name": "run_terminal_cmd"}},
    }
    before = copy.deepcopy(body)
    out = filter_tools(body, frozenset({"read_file", "grep"}))
    assert [t["function"]["name"] for t in out["tools"]] == ["read_file", "Grep"]
    assert out["tool_choice"] == "auto"
    assert body == before


def test_filter_tools_keeps_a_tool_choice_naming_a_kept_tool_or_a_mode() -> None:
    named = {"type": "function", "function": {"name": "read_file"}}
    body = {"tools": [_tool("read_file"), _tool("x")], "tool_choice": named}
    assert filter_tools(body, frozenset({"read_file"}))["tool_choice"] == named
    for mode in ("auto", "required", "none"):
        assert filter_tools(dict(body, tool_choice=mode), frozenset({"read_file"}))["tool_choice"] == mode


def test_filter_tools_ollama_shape() -> None:
    body = {"model": "m", "messages": [], "tools": [_tool("read_file"), _tool("execute_command")]}
    out = filter_tools(body, frozenset({"read_file"}))
    assert [t["function"]["name"] for t in out["tools"]] == ["read_file"]
    assert "tool_choice" not in out


def test_no_tool_left_drops_tools_and_tool_choice() -> None:
    body = {"tools": [_tool("x")], "tool_choice": "required", "parallel_tool_calls": True, "model": "m"}
    assert filter_tools(body, frozenset({"y"})) == {"model": "m"}


def test_nothing_to_filter_returns_the_same_body() -> None:
    body = {"tools": [_tool("a")]}
    assert filter_tools(body, frozenset({"a"})) is body
    plain = {"messages": []}
    assert filter_tools(plain, frozenset()) is plain


# -- parameters ----------------------------------------------------------------------------


def test_remove_params_top_level_and_ollama_options() -> None:
    body = {"model": "m", "seed": 1, "top_k": 5, "options": {"seed": 2, "temperature": 0.1}, "stream": True}
    before = copy.deepcopy(body)
    out = remove_params(body, ("seed", "top_k", "model", "stream"))
    assert out == {"model": "m", "options": {"temperature": 0.1}, "stream": True}
    assert body == before
    assert remove_params(body, ("absent",)) is body
    assert remove_params(body, ()) is body


def test_num_ctx_only_when_the_client_did_not_set_it() -> None:
    assert with_num_ctx({"model": "m"}, 16384) == {"model": "m", "options": {"num_ctx": 16384}}
    body = {"options": {"temperature": 0}}
    assert with_num_ctx(body, 4096) == {"options": {"temperature": 0, "num_ctx": 4096}}
    assert body == {"options": {"temperature": 0}}
    mine = {"options": {"num_ctx": 2048}}
    assert with_num_ctx(mine, 4096) is mine
    odd = {"options": "fast"}
    assert with_num_ctx(odd, 4096) is odd


def test_declared_context_length_is_the_members_then_the_mappings() -> None:
    n = node(1, {"real": 131072})
    m = mapping(1, "disp", "real", context_length=16384)
    assert declared_context_length(Attempt(n, "real", "disp", m)) == 16384
    assert (
        declared_context_length(Attempt(n, "real", "disp", m, member(1, "disp", context_length=4096))) == 4096
    )
    # A discovered length is the model's maximum, never a num_ctx.
    assert declared_context_length(Attempt(n, "real", "real")) is None


# -- system prompts ------------------------------------------------------------------------


def _select(snap: Any, **overrides: Any) -> str | None:
    values: dict[str, Any] = {
        "username": "alice",
        "node": node(7, {}, name="gpu-a", code="a"),
        "group": "team",
        "models": ["coder"],
        "mapping": "coder",
    }
    values.update(overrides)
    return select_system_prompt(snap, **values)


def test_prompts_by_priority_then_scope_order() -> None:
    snap = snapshot(
        prompts=[
            prompt(1, "mapping", "coder", "MAPPING"),
            prompt(2, "model", "coder", "MODEL"),
            prompt(3, "group", "team", "GROUP"),
            prompt(4, "node", "gpu-a", "NODE"),
            prompt(5, "user", "alice", "USER"),
            prompt(6, "model", "coder", "URGENT", priority=10),
            prompt(7, "user", "bob", "NOT ME"),
        ]
    )
    assert _select(snap) == "URGENT\n\nUSER\n\nNODE\n\nGROUP\n\nMODEL\n\nMAPPING"


def test_node_scope_matches_name_code_or_id_once() -> None:
    for value in ("gpu-a", "a", "7"):
        assert _select(snapshot(prompts=[prompt(1, "node", value, "N")])) == "N"
    assert _select(snapshot(prompts=[prompt(1, "node", "gpu-b", "N")])) is None


def test_model_scope_compares_like_model_names() -> None:
    snap = snapshot(prompts=[prompt(1, "model", "Llama3", "L")])
    assert _select(snap, models=["llama3:latest"]) == "L"
    assert _select(snap, models=["llama3:8b"]) is None
    assert _select(snapshot(), models=["x"]) is None


def test_merge_into_an_existing_system_message_string() -> None:
    body = {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]}
    before = copy.deepcopy(body)
    out = merge_system_prompt(body, "RULES", kind="chat")
    assert out["messages"][0] == {"role": "system", "content": "RULES\n\nBe brief."}
    assert out["messages"][1] is body["messages"][1]
    assert body == before


def test_merge_into_list_content_prefixes_the_first_text_part() -> None:
    parts = [{"type": "text", "text": "Be brief."}, {"type": "text", "text": "More."}]
    body = {"messages": [{"role": "user", "content": "hi"}, {"role": "system", "content": parts}]}
    out = merge_system_prompt(body, "RULES", kind="chat")
    assert out["messages"][1]["content"] == [{"type": "text", "text": "RULES\n\nBe brief."}, parts[1]]
    assert parts[0] == {"type": "text", "text": "Be brief."}
    image_first = {
        "messages": [{"role": "system", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]
    }
    merged = merge_system_prompt(image_first, "RULES", kind="chat")["messages"][0]["content"]
    assert merged[0] == {"type": "text", "text": "RULES"} and len(merged) == 2


def test_merge_adds_a_first_system_message_or_uses_developer() -> None:
    body = {"messages": [{"role": "user", "content": "hi"}]}
    assert merge_system_prompt(body, "RULES", kind="chat")["messages"] == [
        {"role": "system", "content": "RULES"},
        {"role": "user", "content": "hi"},
    ]
    dev = {"messages": [{"role": "developer", "content": "Dev."}, {"role": "user", "content": "hi"}]}
    assert merge_system_prompt(dev, "RULES", kind="chat")["messages"][0]["content"] == "RULES\n\nDev."
    empty = {"messages": [{"role": "system", "content": ""}]}
    assert merge_system_prompt(empty, "RULES", kind="chat")["messages"][0]["content"] == "RULES"


def test_merge_into_generate_system() -> None:
    assert merge_system_prompt({"prompt": "x"}, "RULES", kind="generate")["system"] == "RULES"
    body = {"prompt": "x", "system": "Mine."}
    assert merge_system_prompt(body, "RULES", kind="generate")["system"] == "RULES\n\nMine."
    assert body["system"] == "Mine."


def test_merge_into_responses_instructions() -> None:
    assert merge_system_prompt({"input": "x"}, "RULES", kind="responses")["instructions"] == "RULES"
    body = {"input": "x", "instructions": "Mine."}
    assert merge_system_prompt(body, "RULES", kind="responses")["instructions"] == "RULES\n\nMine."
    assert body["instructions"] == "Mine."


def test_load_requests_and_other_kinds_are_left_alone() -> None:
    for body, kind in (
        ({"messages": []}, "chat"),
        ({"model": "m"}, "chat"),
        ({"prompt": ""}, "generate"),
        ({"prompt": "x"}, "completion"),
        ({"input": "x"}, "embed"),
    ):
        assert merge_system_prompt(body, "RULES", kind=kind) is body
