"""Apply a configuration file (`POST /admin/config/import`, `MAESTRO_CONFIG` at start).

What a file means:
- Each entry describes its unit completely; a field left out takes its default, as on
  create. The units are: the settings; a node (found by `code`, else by `name`); a tool set;
  a model config (by prefix); a user; *all* mappings of one display name; a group with
  *all* its members; *all* system prompts of one scope (`scope_type` + `scope_value`).
  Within a unit, entries are matched to existing rows by their content (a mapping's node set,
  a member's model, a prompt's text), then in order; what the unit no longer lists is deleted.
- Units the file does not mention are left alone. `prune` deletes them too, but only in the
  sections the file has: `users: []` with prune deletes every user, no `users:` key deletes
  none.
- Every write goes through the entity's own service (the same validation, audit records and
  config-version bumps as the admin API) in the caller's transaction; the caller commits, or
  rolls back for a dry run. Any error aborts the whole file. Nothing is written when nothing
  differs, so applying a file twice changes nothing the second time.
- Users created here get no token: an admin rotates one (`PUT /admin/users/{u}/token`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine
from sqlmodel import Session

from maestro_app.db.engine import session_scope, startup_lock
from maestro_app.domain.snapshot import DEFAULT_SETTINGS
from maestro_app.services import model_configs, nodes, settings_service, tool_sets, users
from maestro_app.services.audit import record_audit
from maestro_app.services.config_context import (
    ChangedEntity,
    ImportContext,
    SimpleKind,
    once,
    parse_entries,
    prune_entries,
    upsert_entries,
)
from maestro_app.services.config_doc import (
    FORMAT_VERSION,
    DocPath,
    Entries,
    fail,
    load_document,
    refuse_keys,
    resolve_secret,
    section,
    validate,
)
from maestro_app.services.config_export import (
    MODEL_CONFIG_FIELDS,
    TOOL_SET_FIELDS,
    USER_FIELDS,
    fetch_all,
    node_ref,
)
from maestro_app.services.config_units import apply_groups, apply_mappings, apply_system_prompts
from maestro_app.services.errors import ServiceError

logger = logging.getLogger(__name__)

LIST_SECTIONS = (
    "nodes",
    "tool_sets",
    "model_configs",
    "model_mappings",
    "model_groups",
    "system_prompts",
    "users",
)
SECTIONS = frozenset({"version", "settings", *LIST_SECTIONS})
# The file's outline as JSON Schema, for the OpenAPI document; entries are checked by their
# services, field by field, when the file is applied.
DOCUMENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "version": {"type": "integer", "enum": [FORMAT_VERSION]},
        "settings": {"type": "object"},
        **{name: {"type": "array", "items": {"type": "object"}} for name in LIST_SECTIONS},
    },
    "additionalProperties": False,
}
NO_TOKEN_NOTE = (
    "Users created by this import have no token: each gets one when an admin rotates it "
    "(PUT /admin/users/{username}/token)."
)


class ImportReport(BaseModel):
    """What an import created, changed and deleted, per kind (keys are natural keys)."""

    dry_run: bool
    prune: bool
    created: dict[str, list[str]]
    changed: dict[str, list[ChangedEntity]]
    deleted: dict[str, list[str]]
    users_without_token: list[str]
    message: str


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    report: ImportReport
    # Node ids to rediscover after the commit (new, reactivated or re-addressed nodes).
    rediscover: list[int]


def import_config(
    *,
    session: Session,
    data: bytes | str,
    actor: str,
    environ: Mapping[str, str],
    prune: bool = False,
    dry_run: bool = False,
) -> ImportOutcome:
    """Apply a configuration file in the caller's transaction (see the module docstring).

    Raises `ConfigError` (or the entity's own `ServiceError`) naming the place in the file;
    the caller must then roll back. `dry_run` only marks the report: rolling back is the
    caller's job either way round."""
    doc = load_document(data)
    for key in doc:
        if key not in SECTIONS:
            raise fail((key,), f"unknown section; expected {', '.join(sorted(SECTIONS))}")
    version = doc.get("version", FORMAT_VERSION)
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise fail(("version",), f"this gateway reads version {FORMAT_VERSION}")
    ctx = ImportContext(session=session, actor=actor, environ=environ, prune=prune, sections=frozenset(doc))
    if "settings" in doc:
        _apply_settings(ctx, doc["settings"])
    # Nodes and tool sets before what names them; what names them pruned before they are.
    listed_nodes = _apply_nodes(ctx, section(doc, "nodes"))
    sets = parse_entries(TOOL_SETS, section(doc, "tool_sets"))
    upsert_entries(ctx, TOOL_SETS, sets)
    configs = parse_entries(MODEL_CONFIGS, section(doc, "model_configs"))
    prune_entries(ctx, MODEL_CONFIGS, configs)
    upsert_entries(ctx, MODEL_CONFIGS, configs)
    prune_entries(ctx, TOOL_SETS, sets)
    apply_mappings(ctx, section(doc, "model_mappings"))
    apply_groups(ctx, section(doc, "model_groups"))
    _prune_nodes(ctx, listed_nodes)
    apply_system_prompts(ctx, section(doc, "system_prompts"))
    accounts = parse_entries(USERS, section(doc, "users"))
    prune_entries(ctx, USERS, accounts)
    upsert_entries(ctx, USERS, accounts)
    report = _report(ctx, dry_run=dry_run)
    if _counts(report) != (0, 0, 0):
        record_audit(
            session=session,
            actor=actor,
            action="config.import",
            entity_type="config",
            details={
                "prune": prune,
                "created": {k: len(v) for k, v in report.created.items() if v},
                "changed": {k: len(v) for k, v in report.changed.items() if v},
                "deleted": {k: len(v) for k, v in report.deleted.items() if v},
            },
        )
        session.flush()
    return ImportOutcome(report=report, rediscover=sorted(set(ctx.rediscover)))


def _counts(report: ImportReport) -> tuple[int, int, int]:
    return (
        sum(map(len, report.created.values())),
        sum(map(len, report.changed.values())),
        sum(map(len, report.deleted.values())),
    )


def _report(ctx: ImportContext, *, dry_run: bool) -> ImportReport:
    report = ImportReport(
        dry_run=dry_run,
        prune=ctx.prune,
        created=ctx.created,
        changed=ctx.changed,
        deleted=ctx.deleted,
        users_without_token=ctx.created["users"],
        message="",
    )
    created, changed, deleted = _counts(report)
    verb = "Would create" if dry_run else "Created"
    message = f"{verb} {created}, {'would change' if dry_run else 'changed'} {changed}, "
    message += f"{'would delete' if dry_run else 'deleted'} {deleted}."
    if dry_run:
        message += " Dry run: nothing was changed."
    if ctx.created["users"]:
        message += " " + NO_TOKEN_NOTE
    report.message = message
    return report


# -- at start (MAESTRO_CONFIG) ---------------------------------------------------------------

CONFIG_FILE_ACTOR = "config-file"


class ConfigFileError(RuntimeError):
    """The start-up configuration file cannot be read or applied: the process must not
    serve with a configuration other than the one it was given."""


def apply_config_file(
    *, engine: Engine, data_dir: Path, path: Path, prune: bool, environ: Mapping[str, str]
) -> ImportOutcome:
    """Apply `path` once, under the start-up lock: processes starting together take turns,
    and the later ones find nothing left to change (so write nothing)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigFileError(f"MAESTRO_CONFIG={path}: cannot read it ({exc.strerror or exc})") from None
    with startup_lock(engine, data_dir):
        try:
            with session_scope(engine) as session:
                outcome = import_config(
                    session=session, data=data, actor=CONFIG_FILE_ACTOR, environ=environ, prune=prune
                )
        except ServiceError as exc:
            raise ConfigFileError(f"MAESTRO_CONFIG={path}: {exc.message}") from None
    logger.info("MAESTRO_CONFIG=%s applied: %s", path, outcome.report.message)
    return outcome


# -- settings -------------------------------------------------------------------------------


def _apply_settings(ctx: ImportContext, values: Any) -> None:
    """The settings are one unit: keys left out go back to their defaults."""
    if not isinstance(values, dict):
        raise fail(("settings",), "must be a mapping of setting names to values")
    body = validate(settings_service.SettingsUpdate, {**DEFAULT_SETTINGS, **values}, ("settings",))
    ctx.update(
        "settings",
        "settings",
        ("settings",),
        current=settings_service.get_settings(session=ctx.session),
        desired=body.given(),
        service=settings_service.update_settings,
        body=settings_service.SettingsUpdate,
    )


# -- nodes ----------------------------------------------------------------------------------

_NODE_REFUSED = {"id": "nodes are named by code or name, not by id"}


def _node_values(node: nodes.NodePublic, session: Session) -> dict[str, Any]:
    secrets = nodes.node_secrets(nodes.load_node(session, node.id))
    values = node.model_dump()
    values.update(api_key=secrets.api_key, headers=secrets.headers)
    return values


def _node_body(ctx: ImportContext, entry: dict[str, Any], path: DocPath) -> nodes.NodeCreate:
    refuse_keys(entry, path, _NODE_REFUSED)
    data = dict(entry)
    if "api_key" in data:
        data["api_key"] = resolve_secret(data["api_key"], (*path, "api_key"), ctx.environ)
    if isinstance(data.get("headers"), dict):
        data["headers"] = {
            name: resolve_secret(value, (*path, "headers", name), ctx.environ)
            for name, value in data["headers"].items()
        }
    return validate(nodes.NodeCreate, data, path)


def _node_bodies(ctx: ImportContext, entries: Entries) -> list[tuple[DocPath, nodes.NodeCreate]]:
    bodies = [(path, _node_body(ctx, entry, path)) for path, entry in entries]
    codes: dict[str, DocPath] = {}
    names: dict[str, DocPath] = {}
    for path, body in bodies:
        if body.code is not None:
            once(codes, body.code, (*path, "code"))
        once(names, body.name, (*path, "name"))
    return bodies


def _apply_nodes(ctx: ImportContext, entries: Entries) -> set[int]:
    """Create or update the file's nodes; the ids of the nodes the file lists."""
    existing = fetch_all(nodes.list_nodes, session=ctx.session)
    by_code = {n.code: n for n in existing if n.code}
    by_name = {n.name: n for n in existing}
    bodies = _node_bodies(ctx, entries)
    codes = {body.code for _, body in bodies if body.code}
    listed: set[int] = set()
    for path, body in bodies:
        # By code; else by name, unless that node's code belongs to another entry.
        match = by_code.get(body.code or "")
        if match is None and body.name in by_name and by_name[body.name].code not in codes:
            match = by_name[body.name]
        if match is not None and match.id in listed:
            raise fail(path, f"describes node '{node_ref(match)}' again")
        node = _write_node(ctx, path, body, match)
        listed.add(node.id)
        ctx.add_node(node)
    if not ctx.pruning("nodes"):
        for node in existing:
            if node.id not in listed:
                ctx.add_node(node)
    return listed


def _write_node(
    ctx: ImportContext, path: DocPath, body: nodes.NodeCreate, match: nodes.NodePublic | None
) -> nodes.NodePublic:
    """Create the node or update what differs; the node as it now is."""
    key = body.code or body.name
    if match is None:
        written: nodes.NodeWrite = ctx.create("nodes", key, path, nodes.create_node, body)
    else:
        desired = body.model_dump()
        if desired["code"] is None:  # no code in the file: the node keeps its own
            del desired["code"]
        written = ctx.update(
            "nodes",
            key,
            path,
            current=_node_values(match, ctx.session),
            desired=desired,
            service=nodes.update_node,
            body=nodes.NodeUpdate,
            node_id=match.id,
        )
        if written is None:
            return match
    if written.rediscover:
        ctx.rediscover.append(written.node.id)
    return written.node


def _prune_nodes(ctx: ImportContext, listed: set[int]) -> None:
    if ctx.pruning("nodes"):
        for node in fetch_all(nodes.list_nodes, session=ctx.session):
            if node.id not in listed:
                ctx.delete("nodes", node_ref(node), nodes.delete_node, node_id=node.id)


# -- kinds with one natural key --------------------------------------------------------------

TOOL_SETS = SimpleKind(
    kind="tool_sets",
    fields=TOOL_SET_FIELDS,
    key_field="name",
    ref_arg="name",
    create_body=tool_sets.ToolSetCreate,
    update_body=tool_sets.ToolSetUpdate,
    list_page=tool_sets.list_tool_sets,
    create=tool_sets.create_tool_set,
    update=tool_sets.update_tool_set,
    delete=tool_sets.delete_tool_set,
    refused={"id": "tool sets are named by name"},
)
MODEL_CONFIGS = SimpleKind(
    kind="model_configs",
    fields=MODEL_CONFIG_FIELDS,
    key_field="model_prefix",
    ref_arg="ref",
    create_body=model_configs.ModelConfigCreate,
    update_body=model_configs.ModelConfigUpdate,
    list_page=model_configs.list_model_configs,
    create=model_configs.create_model_config,
    update=model_configs.update_model_config,
    delete=model_configs.delete_model_config,
    refused={"id": "model configs are named by model_prefix"},
    ref_by_id=True,
)
USERS = SimpleKind(
    kind="users",
    fields=USER_FIELDS,
    key_field="username",
    ref_arg="username",
    create_body=users.UserCreate,
    update_body=users.UserUpdate,
    list_page=users.list_users,
    create=users.create_user_without_token,
    update=users.update_user,
    delete=users.delete_user,
    refused={
        "id": "users are named by username",
        "token": "a configuration file never carries tokens; rotate one after the import",
        "token_lifetime_s": "users created by an import get no token; give the lifetime when rotating one",
    },
)
