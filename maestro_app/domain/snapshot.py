"""The routing snapshot: an immutable picture of the configuration the hot path reads.

Built from the database by `services.snapshot.build_snapshot` and swapped atomically when
the configuration changes. Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from maestro_app.domain.names import canonical

DEFAULT_SETTINGS: dict[str, Any] = {
    "routing_strategy": "priority",
    "health_check_interval_s": 30,
    "discovery_interval_s": 300,
    "warmup_interval_s": 240,
    "log_retention_days": 90,
    "max_body_bytes": 32 * 1024 * 1024,
    "default_context_length": 8192,
    "node_cooldown_s": 15,
    "grafana_model": None,
    # Background jobs (jobs/): how long discovery and warmup of a node wait for its open
    # requests to finish, and how often old activity is deleted (0 turns retention off).
    "job_stream_wait_s": 60,
    "retention_interval_s": 86400,
}


def prompt_scope_key(scope_type: str, value: str) -> str:
    """How a system prompt's scope value is compared: model and mapping names like model
    names (`llama3` is `llama3:latest`, case does not matter); users, nodes and groups exactly."""
    value = value.strip()
    if scope_type in ("model", "mapping"):
        return canonical(value).lower()
    return value


@dataclass(frozen=True, slots=True)
class ModelInfo:
    name: str
    context_length: int | None = None
    capabilities: tuple[str, ...] = ()
    size: int | None = None
    family: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NodeView:
    id: int
    name: str
    code: str | None
    base_url: str
    node_type: str
    api_key: str | None
    headers: tuple[tuple[str, str], ...]
    priority: int
    weight: int
    is_active: bool
    health_status: str
    # canonical name -> the node's own spelling, for available models only
    models: dict[str, ModelInfo] = field(default_factory=dict)
    # Headers every upstream request to this node carries (content type, api key, extras)
    upstream_headers: dict[str, str] = field(default_factory=dict)
    # When `health_status` was decided (Unix time); None before the first check
    last_health_check: float | None = None

    def find_model(self, name: str) -> ModelInfo | None:
        return self.models.get(canonical(name))


@dataclass(frozen=True, slots=True)
class MappingView:
    id: int
    display_name: str
    real_name: str
    node_ids: frozenset[int]
    context_length: int | None
    capabilities: tuple[str, ...]

    def applies_to(self, node_id: int) -> bool:
        return not self.node_ids or node_id in self.node_ids


@dataclass(frozen=True, slots=True)
class MemberView:
    id: int
    model_display_name: str
    priority: int
    weight: int
    capability_tags: frozenset[str]
    preferred_node_ids: tuple[int, ...]
    context_length: int | None


@dataclass(frozen=True, slots=True)
class GroupView:
    id: int
    name: str
    strategy: str
    list_in_catalog: bool
    max_failover_retries: int
    members: tuple[MemberView, ...]


@dataclass(frozen=True, slots=True)
class ToolSetView:
    id: int
    name: str
    # Lower-cased tool names; None = every tool.
    tools: frozenset[str] | None


@dataclass(frozen=True, slots=True)
class ModelConfigView:
    id: int
    model_prefix: str  # lower-cased
    # The effective allowlist (lower-cased): `allowed_tools` when set, else the named tool
    # set's tools; None = no filtering.
    allowed_tools: frozenset[str] | None
    tool_set: str | None
    unsupported_params: tuple[str, ...]
    maintenance_mode: bool


@dataclass(frozen=True, slots=True)
class SystemPromptView:
    id: int
    scope_type: str  # user | node | group | model | mapping
    scope_value: str
    prompt: str
    priority: int


@dataclass(frozen=True, slots=True)
class UserView:
    id: int
    username: str
    is_active: bool
    jti_hash: str | None
    all_models: bool
    allowed_models: frozenset[str]
    request_limit: int | None
    token_limit: int | None
    can_manage_models: bool

    def may_use(self, name: str) -> bool:
        if self.all_models:
            return True
        return name in self.allowed_models or canonical(name) in self.allowed_models


@dataclass(frozen=True, slots=True)
class Snapshot:
    version: int = 0
    nodes: tuple[NodeView, ...] = ()
    users: dict[int, UserView] = field(default_factory=dict)
    # canonical display name -> mappings of that name (global and node-scoped)
    mappings: dict[str, tuple[MappingView, ...]] = field(default_factory=dict)
    groups: dict[str, GroupView] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_SETTINGS))
    # lower-cased model prefix -> config; longest prefixes first (see domain.request_rules)
    model_configs: dict[str, ModelConfigView] = field(default_factory=dict)
    tool_sets: dict[str, ToolSetView] = field(default_factory=dict)
    # (scope type, prompt_scope_key(scope type, value)) -> active prompts of that scope
    system_prompts: dict[tuple[str, str], tuple[SystemPromptView, ...]] = field(default_factory=dict)
    # Indexes derived in __post_init__.
    _by_id: dict[int, NodeView] = field(init=False, repr=False, compare=False)
    _by_code: dict[str, NodeView] = field(init=False, repr=False, compare=False)
    _reverse: dict[int, dict[str, str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_id = {n.id: n for n in self.nodes}
        by_code = {n.code: n for n in self.nodes if n.code}
        # node id -> canonical real name -> display name (scoped mappings before global ones)
        reverse: dict[int, dict[str, str]] = {}
        for node in self.nodes:
            names: dict[str, str] = {}
            for scoped_first in (True, False):
                for group in self.mappings.values():
                    for m in group:
                        if bool(m.node_ids) is scoped_first and m.applies_to(node.id):
                            names.setdefault(canonical(m.real_name), m.display_name)
            reverse[node.id] = names
        object.__setattr__(self, "_by_id", by_id)
        object.__setattr__(self, "_by_code", by_code)
        object.__setattr__(self, "_reverse", reverse)

    def node(self, node_id: int) -> NodeView | None:
        return self._by_id.get(node_id)

    def node_by_code(self, code: str) -> NodeView | None:
        return self._by_code.get(code)

    def setting(self, key: str) -> Any:
        return self.settings.get(key, DEFAULT_SETTINGS.get(key))

    def mapping_for(self, display: str, node_id: int) -> MappingView | None:
        """The mapping of `display` that applies on `node_id`; a scoped one wins."""
        group = self.mappings.get(canonical(display), ())
        fallback = None
        for m in group:
            if m.node_ids and node_id in m.node_ids:
                return m
            if not m.node_ids:
                fallback = m
        return fallback

    def is_mapped(self, display: str) -> bool:
        return canonical(display) in self.mappings

    def display_name(self, real: str, node_id: int | None) -> str:
        """What clients see for the node's `real` model name."""
        if node_id is None:
            return real
        return self._reverse.get(node_id, {}).get(canonical(real), real)
