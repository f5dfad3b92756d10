"""Small snapshots for the pure routing and request-rule tests: built from views directly."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from maestro_app.domain.names import canonical
from maestro_app.domain.snapshot import (
    GroupView,
    MappingView,
    MemberView,
    ModelConfigView,
    ModelInfo,
    NodeView,
    Snapshot,
    SystemPromptView,
    UserView,
    prompt_scope_key,
)


def node(node_id: int, models: dict[str, int | None], *, name: str | None = None, **fields: Any) -> NodeView:
    """A healthy active node serving `models` (name -> discovered context length)."""
    values: dict[str, Any] = {
        "id": node_id,
        "name": name or f"n{node_id}",
        "code": f"c{node_id}",
        "base_url": f"http://127.0.0.1:{9000 + node_id}",
        "node_type": "vllm",
        "api_key": None,
        "headers": (),
        "priority": 0,
        "weight": 1,
        "is_active": True,
        "health_status": "healthy",
        "models": {canonical(m): ModelInfo(name=m, context_length=ctx) for m, ctx in models.items()},
    }
    values.update(fields)
    return NodeView(**values)


def member(member_id: int, model: str, *, priority: int | None = None, **fields: Any) -> MemberView:
    values: dict[str, Any] = {
        "id": member_id,
        "model_display_name": model,
        "priority": member_id if priority is None else priority,
        "weight": 1,
        "capability_tags": frozenset(),
        "preferred_node_ids": (),
        "context_length": None,
    }
    values.update(fields)
    return MemberView(**values)


def group(name: str, members: list[MemberView], *, strategy: str = "priority", retries: int = 2) -> GroupView:
    ordered = tuple(sorted(members, key=lambda m: (m.priority, m.id)))
    return GroupView(
        id=1,
        name=name,
        strategy=strategy,
        list_in_catalog=False,
        max_failover_retries=retries,
        members=ordered,
    )


def config(prefix: str, **fields: Any) -> ModelConfigView:
    values: dict[str, Any] = {
        "id": len(prefix),
        "model_prefix": prefix.lower(),
        "allowed_tools": None,
        "tool_set": None,
        "unsupported_params": (),
        "maintenance_mode": False,
    }
    values.update(fields)
    return ModelConfigView(**values)


def prompt(prompt_id: int, scope: str, value: str, text: str, priority: int = 0) -> SystemPromptView:
    return SystemPromptView(id=prompt_id, scope_type=scope, scope_value=value, prompt=text, priority=priority)


def user(username: str = "alice") -> UserView:
    return UserView(
        id=1,
        username=username,
        is_active=True,
        jti_hash=None,
        all_models=True,
        allowed_models=frozenset(),
        request_limit=None,
        token_limit=None,
        can_manage_models=False,
    )


def snapshot(
    *,
    nodes: Sequence[NodeView] = (),
    groups: Sequence[GroupView] = (),
    mappings: Sequence[MappingView] = (),
    configs: Sequence[ModelConfigView] = (),
    prompts: Sequence[SystemPromptView] = (),
) -> Snapshot:
    by_name: dict[str, list[MappingView]] = {}
    for m in mappings:
        by_name.setdefault(canonical(m.display_name), []).append(m)
    index: dict[tuple[str, str], list[SystemPromptView]] = {}
    for p in prompts:
        index.setdefault((p.scope_type, prompt_scope_key(p.scope_type, p.scope_value)), []).append(p)
    ordered = sorted(configs, key=lambda c: (-len(c.model_prefix), c.model_prefix))
    return Snapshot(
        version=1,
        nodes=tuple(nodes),
        groups={g.name: g for g in groups},
        mappings={k: tuple(v) for k, v in by_name.items()},
        model_configs={c.model_prefix: c for c in ordered},
        system_prompts={k: tuple(v) for k, v in index.items()},
    )


def mapping(mapping_id: int, display: str, real: str, *, context_length: int | None = None) -> MappingView:
    return MappingView(
        id=mapping_id,
        display_name=display,
        real_name=real,
        node_ids=frozenset(),
        context_length=context_length,
        capabilities=(),
    )
