"""Build the routing snapshot from the database, and track the config version.

An admin write calls `bump_config_version` in its transaction; every worker compares the
stored version with the one its snapshot was built from and rebuilds when they differ.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from maestro_app.db.models import (
    ModelConfig,
    ModelGroup,
    ModelGroupMember,
    ModelMapping,
    Node,
    NodeModel,
    Setting,
    SystemPrompt,
    ToolSet,
    User,
)
from maestro_app.domain.names import canonical
from maestro_app.domain.snapshot import (
    DEFAULT_SETTINGS,
    GroupView,
    MappingView,
    MemberView,
    ModelConfigView,
    ModelInfo,
    NodeView,
    Snapshot,
    SystemPromptView,
    ToolSetView,
    UserView,
    prompt_scope_key,
)

CONFIG_VERSION_KEY = "config_version"


def read_config_version(session: Session) -> int:
    row = session.get(Setting, CONFIG_VERSION_KEY)
    return int(row.value) if row is not None and row.value is not None else 0


def bump_config_version(session: Session) -> int:
    row = session.get(Setting, CONFIG_VERSION_KEY, with_for_update=True)
    if row is None:
        row = Setting(key=CONFIG_VERSION_KEY, value=1)
    else:
        row.value = int(row.value or 0) + 1
    session.add(row)
    session.flush()
    return int(row.value)


def runtime_settings(session: Session) -> dict[str, object]:
    values = dict(DEFAULT_SETTINGS)
    for row in session.exec(select(Setting)):
        if row.key in DEFAULT_SETTINGS:
            values[row.key] = row.value
    return values


def upstream_headers(node: Node) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    headers.update({str(k): str(v) for k, v in (node.headers or {}).items()})
    if node.api_key:
        headers["Authorization"] = f"Bearer {node.api_key}"
    return headers


def _timestamp(moment: datetime | None) -> float | None:
    if moment is None:
        return None
    # SQLite hands datetimes back without a zone; they were written in UTC.
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def build_snapshot(session: Session) -> Snapshot:
    version = read_config_version(session)
    models_by_node: dict[int, dict[str, ModelInfo]] = defaultdict(dict)
    for nm in session.exec(select(NodeModel)):
        if not nm.is_available:
            continue
        models_by_node[nm.node_id][canonical(nm.name)] = ModelInfo(
            name=nm.name,
            context_length=nm.context_length,
            capabilities=tuple(nm.capabilities or ()),
            size=nm.size,
            family=nm.family,
            details=dict(nm.details or {}),
        )
    nodes = tuple(
        NodeView(
            id=n.id or 0,
            name=n.name,
            code=n.code,
            base_url=n.base_url.rstrip("/"),
            node_type=n.node_type,
            api_key=n.api_key,
            headers=tuple((n.headers or {}).items()),
            priority=n.priority,
            weight=n.weight,
            is_active=n.is_active,
            health_status=n.health_status,
            models=models_by_node.get(n.id or 0, {}),
            upstream_headers=upstream_headers(n),
            last_health_check=_timestamp(n.last_health_check),
        )
        for n in session.exec(select(Node).order_by(col(Node.id)))
    )
    mappings: dict[str, list[MappingView]] = defaultdict(list)
    for m in session.exec(select(ModelMapping).where(ModelMapping.is_active == True)):  # noqa: E712
        mappings[canonical(m.display_name)].append(
            MappingView(
                id=m.id or 0,
                display_name=m.display_name,
                real_name=m.real_name,
                node_ids=frozenset(m.node_ids or ()),
                context_length=m.context_length,
                capabilities=tuple(m.capabilities or ()),
            )
        )
    members: dict[int, list[MemberView]] = defaultdict(list)
    for mb in session.exec(
        select(ModelGroupMember)
        .where(ModelGroupMember.is_active == True)  # noqa: E712
        .order_by(col(ModelGroupMember.priority), col(ModelGroupMember.id))
    ):
        members[mb.group_id].append(
            MemberView(
                id=mb.id or 0,
                model_display_name=mb.model_display_name,
                priority=mb.priority,
                weight=mb.weight,
                capability_tags=frozenset(mb.capability_tags or ()),
                preferred_node_ids=tuple(mb.preferred_node_ids or ()),
                context_length=mb.context_length,
            )
        )
    groups = {
        g.name: GroupView(
            id=g.id or 0,
            name=g.name,
            strategy=g.strategy,
            list_in_catalog=g.list_in_catalog,
            max_failover_retries=g.max_failover_retries,
            members=tuple(members.get(g.id or 0, ())),
        )
        for g in session.exec(select(ModelGroup).where(ModelGroup.is_active == True))  # noqa: E712
    }
    users = {
        u.id or 0: UserView(
            id=u.id or 0,
            username=u.username,
            is_active=u.is_active,
            jti_hash=u.token_jti_hash,
            all_models=u.all_models,
            allowed_models=frozenset(name for m in (u.allowed_models or ()) for name in (m, canonical(m))),
            request_limit=u.request_limit,
            token_limit=u.token_limit,
            can_manage_models=u.can_manage_models,
        )
        for u in session.exec(select(User))
    }
    tool_sets = build_tool_sets(session)
    return Snapshot(
        version=version,
        nodes=nodes,
        users=users,
        mappings={k: tuple(v) for k, v in mappings.items()},
        groups=groups,
        settings=runtime_settings(session),
        model_configs=build_model_configs(session, tool_sets),
        tool_sets=tool_sets,
        system_prompts=build_system_prompts(session),
    )


def _lowered(names: list[str] | None) -> frozenset[str] | None:
    return None if names is None else frozenset(n.lower() for n in names)


def build_tool_sets(session: Session) -> dict[str, ToolSetView]:
    return {
        t.name: ToolSetView(id=t.id or 0, name=t.name, tools=_lowered(t.tools))
        for t in session.exec(select(ToolSet))
    }


def build_model_configs(session: Session, tool_sets: dict[str, ToolSetView]) -> dict[str, ModelConfigView]:
    """Configs by lower-cased prefix, longest prefix first (the first match is the longest)."""
    views = []
    for c in session.exec(select(ModelConfig)):
        if c.allowed_tools is not None:
            allowed = _lowered(c.allowed_tools)
        else:
            named = tool_sets.get(c.tool_set) if c.tool_set else None
            allowed = named.tools if named is not None else None
        views.append(
            ModelConfigView(
                id=c.id or 0,
                model_prefix=c.model_prefix.lower(),
                allowed_tools=allowed,
                tool_set=c.tool_set,
                unsupported_params=tuple(c.unsupported_params or ()),
                maintenance_mode=c.maintenance_mode,
            )
        )
    views.sort(key=lambda v: (-len(v.model_prefix), v.model_prefix))
    return {v.model_prefix: v for v in views}


def build_system_prompts(session: Session) -> dict[tuple[str, str], tuple[SystemPromptView, ...]]:
    prompts: dict[tuple[str, str], list[SystemPromptView]] = defaultdict(list)
    statement = select(SystemPrompt).where(SystemPrompt.is_active == True).order_by(col(SystemPrompt.id))  # noqa: E712
    for p in session.exec(statement):
        if not p.prompt.strip():
            continue
        key = (p.scope_type, prompt_scope_key(p.scope_type, p.scope_value))
        prompts[key].append(
            SystemPromptView(
                id=p.id or 0,
                scope_type=p.scope_type,
                scope_value=p.scope_value,
                prompt=p.prompt.strip(),
                priority=p.priority,
            )
        )
    return {k: tuple(v) for k, v in prompts.items()}
