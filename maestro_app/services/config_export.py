"""Configuration as a YAML file (SPEC §5 "Config as code"): what `GET /admin/config/export`
answers and `config_import` reads back.

The file names entities by their natural keys (node code, tool-set name, model prefix,
display names, group names, usernames), never by database ids, and lists them in a fixed
order, so two instances with the same configuration export the same bytes. Tokens and
password hashes are never in it; node secrets are environment references (`config_doc`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlmodel import Session

from maestro_app.services import groups, mappings, model_configs, nodes, system_prompts, tool_sets, users
from maestro_app.services.common import MAX_PAGE_SIZE, Page
from maestro_app.services.config_doc import FORMAT_VERSION, EnvNames, dump_document
from maestro_app.services.settings_service import get_settings

ItemT = TypeVar("ItemT")

# The fields of each entry, in the order they are written. `nodes` / `preferred_nodes` name
# nodes by code where the admin API takes ids.
NODE_FIELDS = (
    "code",
    "name",
    "node_type",
    "base_url",
    "api_key",
    "headers",
    "priority",
    "weight",
    "is_active",
    "warmup_enabled",
    "health_check_url",
)
TOOL_SET_FIELDS = ("name", "tools", "description")
MODEL_CONFIG_FIELDS = (
    "model_prefix",
    "allowed_tools",
    "tool_set",
    "unsupported_params",
    "maintenance_mode",
    "description",
)
MAPPING_FIELDS = (
    "display_name",
    "real_name",
    "nodes",
    "context_length",
    "capabilities",
    "description",
    "is_active",
)
GROUP_FIELDS = ("name", "strategy", "description", "list_in_catalog", "max_failover_retries", "is_active")
MEMBER_FIELDS = (
    "model_display_name",
    "priority",
    "weight",
    "capability_tags",
    "preferred_nodes",
    "context_length",
    "is_active",
)
PROMPT_FIELDS = ("scope_type", "scope_value", "prompt", "priority", "is_active")
USER_FIELDS = (
    "username",
    "is_active",
    "all_models",
    "allowed_models",
    "request_limit",
    "token_limit",
    "can_manage_models",
    "description",
)

HEADER = """\
# Model Maestro configuration (GET /admin/config/export).
# Apply it with POST /admin/config/import (?dry_run=true previews, ?prune=true also deletes
# what a listed section leaves out) or with MAESTRO_CONFIG=<this file> at start.
# No tokens or passwords are in it; users it creates get a token when an admin rotates one.
"""


def fetch_all(list_page: Callable[..., Page[ItemT]], *, session: Session) -> list[ItemT]:
    """Every item of a paged service listing."""
    items: list[ItemT] = []
    while True:
        page = list_page(session=session, limit=MAX_PAGE_SIZE, offset=len(items))
        items.extend(page.items)
        if not page.items or len(items) >= page.total:
            return items


def pick(model: BaseModel, fields: Iterable[str], **replaced: Any) -> dict[str, Any]:
    """`fields` of `model` in that order; `replaced` gives values of its own."""
    return {name: replaced[name] if name in replaced else getattr(model, name) for name in fields}


def node_ref(node: nodes.NodePublic) -> str:
    """How the file names a node: its code (what `node:<code>:<model>` uses), else its name."""
    return node.code or node.name


def export_document(*, session: Session) -> dict[str, Any]:
    """The configuration as a plain document (what `export_config` writes as YAML)."""
    all_nodes = sorted(fetch_all(nodes.list_nodes, session=session), key=node_ref)
    refs = {node.id: node_ref(node) for node in all_nodes}

    def ref_list(ids: Iterable[int]) -> list[str]:
        return [refs[i] for i in ids if i in refs]

    env = EnvNames()
    return {
        "version": FORMAT_VERSION,
        "settings": dict(get_settings(session=session)),
        "nodes": [_node_entry(node, env) for node in all_nodes],
        "tool_sets": _sorted(
            (pick(t, TOOL_SET_FIELDS) for t in fetch_all(tool_sets.list_tool_sets, session=session)),
            key=lambda e: e["name"],
        ),
        "model_configs": _sorted(
            (
                pick(c, MODEL_CONFIG_FIELDS)
                for c in fetch_all(model_configs.list_model_configs, session=session)
            ),
            key=lambda e: e["model_prefix"],
        ),
        "model_mappings": _sorted(
            (
                pick(m, MAPPING_FIELDS, nodes=sorted(ref_list(m.node_ids)))
                for m in fetch_all(mappings.list_mappings, session=session)
            ),
            key=lambda e: (e["display_name"], e["nodes"], e["real_name"]),
        ),
        "model_groups": sorted(
            (_group_entry(g, ref_list) for g in fetch_all(groups.list_groups, session=session)),
            key=lambda e: str(e["name"]),
        ),
        "system_prompts": _sorted(
            (pick(p, PROMPT_FIELDS) for p in fetch_all(system_prompts.list_system_prompts, session=session)),
            key=lambda e: (e["scope_type"], e["scope_value"], -e["priority"], e["prompt"]),
        ),
        "users": _sorted(
            (pick(u, USER_FIELDS) for u in fetch_all(users.list_users, session=session)),
            key=lambda e: e["username"],
        ),
    }


def export_config(*, session: Session) -> str:
    """The configuration as YAML; the same configuration always gives the same text."""
    doc = export_document(session=session)
    names = sorted(_env_names(doc))
    header = HEADER
    if names:
        header += "# Secrets are references: set these environment variables before importing:\n"
        header += "".join(f"#   {name}\n" for name in names)
    return dump_document(doc, header=header)


def _sorted(
    entries: Iterable[dict[str, Any]], *, key: Callable[[dict[str, Any]], Any]
) -> list[dict[str, Any]]:
    """Sorted by `key`, ties by the whole entry: never by database ids, which differ
    between instances."""
    return sorted(entries, key=lambda e: (key(e), json.dumps(e, sort_keys=True)))


def _node_entry(node: nodes.NodePublic, env: EnvNames) -> dict[str, Any]:
    ref = node_ref(node)
    api_key = env.reference("node", ref, "api_key") if node.api_key is not None else None
    headers = {name: env.reference("node", ref, "header", name) for name in sorted(node.headers)}
    return pick(node, NODE_FIELDS, api_key=api_key, headers=headers)


def _group_entry(group: groups.GroupPublic, ref_list: Callable[[Iterable[int]], list[str]]) -> dict[str, Any]:
    entry = pick(group, GROUP_FIELDS)
    entry["members"] = _sorted(
        (pick(m, MEMBER_FIELDS, preferred_nodes=ref_list(m.preferred_node_ids)) for m in group.members),
        key=lambda e: (e["priority"], e["model_display_name"]),
    )
    return entry


def _env_names(doc: dict[str, Any]) -> list[str]:
    found = []
    for node in doc["nodes"]:
        for value in (node["api_key"], *node["headers"].values()):
            if isinstance(value, str):
                found.append(value[2:-1])
    return found
