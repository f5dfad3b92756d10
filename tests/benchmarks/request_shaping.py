"""Per-request cost of the request rules on the hot path (model config, tool filtering,
parameter removal, system prompts, num_ctx, maintenance check, attempt plan).

    python -m tests.benchmarks.request_shaping [--repeat N]

Times, for a typical agent chat body (a system message, a short conversation, 20 tools),
`shape_request` with no rules configured (the leg's translation alone) and with every rule
matching, plus `check_maintenance` and walking an `AttemptPlan`. Prints microseconds per call.
Not collected by pytest (`tests/benchmarks` is excluded in pyproject.toml).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from maestro_app.domain.balancing import BalancerState
from maestro_app.domain.request_rules import check_maintenance
from maestro_app.domain.routing import resolve
from maestro_app.domain.snapshot import Snapshot
from maestro_app.domain.tool_presets import PRESETS
from maestro_app.gateway.attempt_plan import AttemptPlan
from maestro_app.gateway.legs import leg_for
from maestro_app.gateway.shaping import shape_request
from tests.domain.snapshots import config, group, mapping, member, node, prompt, snapshot, user

TOOLS = [
    "Read", "Write", "Edit", "MultiEdit", "Glob", "Grep", "LS", "Bash", "BashOutput", "KillShell",
    "Task", "TodoWrite", "WebFetch", "WebSearch", "NotebookEdit", "ExitPlanMode", "SlashCommand",
    "mcp__github__create_issue", "mcp__github__list_prs", "mcp__fs__read",
]  # fmt: skip
BODY: dict[str, Any] = {
    "model": "coder",
    "stream": True,
    "temperature": 0.2,
    "seed": 7,
    "messages": [
        {"role": "system", "content": "You are Claude Code. " * 40},
        {"role": "user", "content": "Fix the failing test in tests/test_api.py"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "Read", "arguments": '{"path": "a.py"}'}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "def f():\n    return 1\n" * 30},
        {"role": "user", "content": "Go on"},
    ],
    "tools": [
        {"type": "function", "function": {"name": n, "description": f"The {n} tool. " * 8,
                                          "parameters": {"type": "object", "properties": {"x": {"type": "string"}}}}}
        for n in TOOLS
    ],
}  # fmt: skip


def _snapshots() -> tuple[Snapshot, Snapshot]:
    nodes = [node(1, {"real-coder:32b": 32768}, node_type="ollama"), node(2, {"real-coder:32b": 32768})]
    maps = [mapping(1, "coder", "real-coder:32b", context_length=32768)]
    bare = snapshot(nodes=nodes, mappings=maps)
    standard = PRESETS["standard"][0] or []
    configs = [config(f"other-{i}") for i in range(20)] + [
        config(
            "cod",
            unsupported_params=("seed", "logit_bias"),
            allowed_tools=frozenset(t.lower() for t in standard),
        )
    ]
    prompts = [prompt(i, "model", f"other-{i}", "x") for i in range(20)] + [
        prompt(100, "user", "alice", "You work for ACME."),
        prompt(101, "model", "coder", "Prefer small diffs."),
        prompt(102, "node", "n1", "Node one."),
        prompt(103, "mapping", "coder", "Use four spaces."),
    ]
    groups = [group("team", [member(1, "coder"), member(2, "coder", priority=1)])]
    return bare, snapshot(nodes=nodes, mappings=maps, configs=configs, prompts=prompts, groups=groups)


def _time(label: str, fn: Callable[[], object], repeat: int) -> float:
    for _ in range(min(1000, repeat)):
        fn()
    started = time.perf_counter()
    for _ in range(repeat):
        fn()
    micros = (time.perf_counter() - started) / repeat * 1e6
    print(f"{label:<58} {micros:8.1f} µs")
    return micros


class _Chat:
    dialect = "openai"
    kind = "chat"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20000)
    args = parser.parse_args(argv)
    bare, full = _snapshots()
    alice, state, ep = user(), BalancerState(), _Chat()
    for label, snap in (("no rules configured", bare), ("every rule matching", full)):
        route = resolve(snap, "coder", user=alice, state=state)
        for attempt in route.attempts:
            leg = leg_for(ep.dialect, ep.kind, attempt.node.node_type)
            where = f"{label}, {attempt.node.node_type} node"
            _time(
                f"leg.request alone ({where})",
                lambda a=attempt, lg=leg: lg.request(dict(BODY, model=a.real_model)),
                args.repeat,
            )
            _time(
                f"shape_request ({where})",
                lambda a=attempt, lg=leg, r=route, s=snap: shape_request(
                    s, BODY, attempt=a, route=r, user=alice, ep=ep, leg=lg
                ),
                args.repeat,
            )
        _time(f"check_maintenance ({label})", lambda r=route, s=snap: check_maintenance(s, r), args.repeat)
        _time(
            f"AttemptPlan, first attempt ({label})",
            lambda r=route, s=snap: next(iter(AttemptPlan(s, r, state))),
            args.repeat,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
