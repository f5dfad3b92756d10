"""Per-model rules applied to a request before it goes upstream (SPEC §3.6). Pure.

    model_config_for      the config of the longest prefix of the requested name (lower-cased)
    check_maintenance     503 for a model in maintenance; a group skips members in maintenance
    filter_tools          tools outside the allowlist removed; a tool_choice naming one -> "auto"
    remove_params         unsupported parameters removed (top level, and Ollama `options`)
    select_system_prompt  the matching prompts, by priority then scope, joined by a blank line
    merge_system_prompt   into the first system message (chat), `system` (generate) or
                          `instructions` (Responses)
    with_num_ctx          Ollama `options.num_ctx`, unless the client set it

Inputs are never modified: each function returns the very same body when nothing changes,
else a new one that shares the untouched parts with the input.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from maestro_app.domain.errors import ServiceUnavailable
from maestro_app.domain.names import split_node_prefix
from maestro_app.domain.routing import Attempt, Route
from maestro_app.domain.snapshot import ModelConfigView, NodeView, Snapshot, prompt_scope_key

Body = dict[str, Any]

SCOPE_ORDER = ("user", "node", "group", "model", "mapping")
_SCOPE_RANK = {scope: rank for rank, scope in enumerate(SCOPE_ORDER)}
# Fields a request cannot lose and still be the same request; the admin API refuses them as
# unsupported parameters, and they are never removed here either.
PROTECTED_PARAMS = frozenset({"model", "messages", "prompt", "input", "stream"})
_SYSTEM_ROLES = ("system", "developer")
_NO_TOOL_KEYS = ("tools", "tool_choice", "parallel_tool_calls")


# -- model config ---------------------------------------------------------------------------


def model_config_for(snapshot: Snapshot, name: str) -> ModelConfigView | None:
    """The config whose prefix is the longest match of `name` (case-insensitive); for a
    `node:{code}:{model}` name, of the full name or of its model part, whichever is longer."""
    configs = snapshot.model_configs
    if not configs:
        return None
    names = [name.lower()]
    pinned = split_node_prefix(name)
    if pinned is not None:
        names.append(pinned[1].lower())
    best: ModelConfigView | None = None
    for candidate in names:
        for prefix, config in configs.items():  # longest prefix first
            if candidate.startswith(prefix):
                if best is None or len(prefix) > len(best.model_prefix):
                    best = config
                break
    return best


def config_for_attempt(snapshot: Snapshot, route: Route, attempt: Attempt) -> ModelConfigView | None:
    """The config of the requested name; a group without one uses its member's."""
    config = model_config_for(snapshot, route.requested)
    if config is None and attempt.member is not None:
        config = model_config_for(snapshot, attempt.display_model)
    return config


def _in_maintenance(snapshot: Snapshot, name: str) -> bool:
    config = model_config_for(snapshot, name)
    return config is not None and config.maintenance_mode


def check_maintenance(snapshot: Snapshot, route: Route) -> Route:
    """Raise ServiceUnavailable when the requested model is in maintenance; of a group,
    drop the members in maintenance (and raise when none is left)."""
    if not snapshot.model_configs:
        return route
    if _in_maintenance(snapshot, route.requested):
        raise ServiceUnavailable(
            f"Model '{route.requested}' is in maintenance; try again later", code="model_maintenance"
        )
    if route.group is None:
        return route
    kept = tuple(a for a in route.attempts if not _in_maintenance(snapshot, a.display_model))
    if len(kept) == len(route.attempts):
        return route
    if not kept:
        raise ServiceUnavailable(
            f"Every member of group '{route.requested}' is in maintenance; try again later",
            code="model_maintenance",
        )
    return replace(route, attempts=kept)


# -- tools ----------------------------------------------------------------------------------


def tool_name(tool: Any) -> str | None:
    """The name of a tool definition: `function.name` (OpenAI and Ollama), else a flat
    `name`, else a built-in tool's `type`."""
    if not isinstance(tool, Mapping):
        return None
    function = tool.get("function")
    if isinstance(function, Mapping) and isinstance(function.get("name"), str):
        return str(function["name"])
    if isinstance(tool.get("name"), str):
        return str(tool["name"])
    kind = tool.get("type")
    return kind if isinstance(kind, str) and kind != "function" else None


def _choice_name(choice: Any) -> str | None:
    if not isinstance(choice, Mapping):
        return None
    function = choice.get("function")
    if isinstance(function, Mapping) and isinstance(function.get("name"), str):
        return str(function["name"])
    name = choice.get("name")
    return name if isinstance(name, str) else None


def filter_tools(body: Body, allowed: frozenset[str]) -> Body:
    """Keep the tools whose name (case-insensitive) is in `allowed` (lower-cased names).

    A `tool_choice` naming a removed tool becomes "auto"; when no tool is left, `tools`,
    `tool_choice` and `parallel_tool_calls` go altogether (upstreams refuse a tool choice
    without tools).
    """
    tools = body.get("tools")
    if not isinstance(tools, list) or not tools:
        return body
    kept = [tool for tool in tools if (name := tool_name(tool)) is not None and name.lower() in allowed]
    if len(kept) == len(tools):
        return body
    out = dict(body)
    if not kept:
        for key in _NO_TOOL_KEYS:
            out.pop(key, None)
        return out
    out["tools"] = kept
    chosen = _choice_name(body.get("tool_choice"))
    if chosen is not None and chosen.lower() not in allowed:
        out["tool_choice"] = "auto"
    return out


# -- parameters -----------------------------------------------------------------------------


def remove_params(body: Body, names: Iterable[str]) -> Body:
    """Without the top-level keys `names`, nor the same keys inside Ollama `options`."""
    removable = [n for n in names if n not in PROTECTED_PARAMS]
    if not removable:
        return body
    out: Body | None = None
    for name in removable:
        if name in body:
            out = dict(body) if out is None else out
            del out[name]
    options = body.get("options")
    if isinstance(options, Mapping) and any(name in options for name in removable):
        out = dict(body) if out is None else out
        out["options"] = {k: v for k, v in options.items() if k not in removable}
    return body if out is None else out


def with_num_ctx(body: Body, context_length: int) -> Body:
    """An Ollama body with `options.num_ctx`, unless the client set one (or sent `options`
    that are not an object, which the node will refuse on its own)."""
    options = body.get("options")
    if options is None:
        return dict(body, options={"num_ctx": context_length})
    if not isinstance(options, Mapping) or options.get("num_ctx") is not None:
        return body
    return dict(body, options={**options, "num_ctx": context_length})


# -- system prompts -------------------------------------------------------------------------


def select_system_prompt(
    snapshot: Snapshot,
    *,
    username: str | None,
    node: NodeView | None,
    group: str | None,
    models: Iterable[str],
    mapping: str | None,
) -> str | None:
    """The prompts matching the request, higher priority first, then by scope (user, node,
    group, model, mapping), then oldest first; joined with a blank line. None when none
    matches. A node prompt matches the node's name, code or id."""
    index = snapshot.system_prompts
    if not index:
        return None
    candidates: list[tuple[str, str | None]] = [("user", username)]
    if node is not None:
        candidates += [("node", node.name), ("node", node.code), ("node", str(node.id))]
    candidates.append(("group", group))
    candidates += [("model", name) for name in models]
    candidates.append(("mapping", mapping))
    found: dict[int, tuple[int, int, int, str]] = {}
    for scope, value in candidates:
        if not value:
            continue
        for prompt in index.get((scope, prompt_scope_key(scope, value)), ()):
            found.setdefault(prompt.id, (-prompt.priority, _SCOPE_RANK[scope], prompt.id, prompt.prompt))
    if not found:
        return None
    return "\n\n".join(entry[3] for entry in sorted(found.values()))


def _prepend(prompt: str, content: Any) -> Any:
    if isinstance(content, str):
        return f"{prompt}\n\n{content}" if content.strip() else prompt
    if isinstance(content, list) and content:
        first = content[0]
        if isinstance(first, Mapping) and first.get("type") == "text" and isinstance(first.get("text"), str):
            text = first["text"]
            merged = f"{prompt}\n\n{text}" if text.strip() else prompt
            return [dict(first, text=merged), *content[1:]]
        return [{"type": "text", "text": prompt}, *content]
    return prompt


def merge_system_prompt(body: Body, prompt: str, *, kind: str) -> Body:
    """Chat: `prompt` at the start of the first system (or developer) message, whose content
    may be text or a list of parts, else in a new first system message. Generate: at the
    start of `system`. Responses: at the start of `instructions`, which become the first
    system message. A request without messages (or without prompt) is an Ollama load
    request and is left alone, as is every other kind of request."""
    if kind == "chat":
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return body
        for position, message in enumerate(messages):
            if isinstance(message, Mapping) and message.get("role") in _SYSTEM_ROLES:
                merged = list(messages)
                merged[position] = dict(message, content=_prepend(prompt, message.get("content")))
                return dict(body, messages=merged)
        return dict(body, messages=[{"role": "system", "content": prompt}, *messages])
    if kind == "generate":
        if not body.get("prompt") and not body.get("images"):
            return body
        return dict(body, system=_prepend(prompt, body.get("system")))
    if kind == "responses":
        return dict(body, instructions=_prepend(prompt, body.get("instructions")))
    return body


def declared_context_length(attempt: Attempt) -> int | None:
    """The context length an admin declared for what the attempt serves (the group member's,
    else the mapping's). The node's discovered length is the model's maximum, not what the
    node was sized for, so it never becomes `num_ctx`."""
    if attempt.member is not None and attempt.member.context_length:
        return attempt.member.context_length
    if attempt.mapping is not None and attempt.mapping.context_length:
        return attempt.mapping.context_length
    return None
