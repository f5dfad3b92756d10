"""The state of one config import and the steps every kind shares (see `config_import`).

`ImportContext` calls the entities' own service functions (create, update with only the
fields that differ, delete), wraps their errors with the place in the file, and keeps the
report. `SimpleKind` describes a kind found by one natural key (tool sets, model configs,
groups, users), so parsing, pruning and upserting it is written once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session

from maestro_app.services import nodes
from maestro_app.services.config_doc import DocPath, Entries, at, fail, refuse_keys, validate, where
from maestro_app.services.config_export import fetch_all, node_ref

KINDS = (
    "settings",
    "nodes",
    "tool_sets",
    "model_configs",
    "model_mappings",
    "model_groups",
    "group_members",
    "system_prompts",
    "users",
)


class ChangedEntity(BaseModel):
    key: str
    fields: list[str]


@dataclass
class ImportContext:
    """One import in progress: where it writes, who it is, and what it did so far."""

    session: Session
    actor: str
    environ: Mapping[str, str]
    prune: bool
    sections: frozenset[str]
    created: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in KINDS})
    changed: dict[str, list[ChangedEntity]] = field(default_factory=lambda: {k: [] for k in KINDS})
    deleted: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in KINDS})
    # The nodes a file may refer to (by code, else by name), and how a node id is named.
    node_by_code: dict[str, int] = field(default_factory=dict)
    node_by_name: dict[str, int] = field(default_factory=dict)
    node_refs: dict[int, str] = field(default_factory=dict)
    # Nodes whose models should be discovered once the import is committed.
    rediscover: list[int] = field(default_factory=list)

    def pruning(self, name: str) -> bool:
        return self.prune and name in self.sections

    def add_node(self, node: nodes.NodePublic) -> None:
        if node.code:
            self.node_by_code[node.code] = node.id
        self.node_by_name[node.name] = node.id
        self.node_refs[node.id] = node_ref(node)

    def node_id(self, ref: Any, path: DocPath) -> int:
        """The id of the node a file names by code (or name). With prune, only the file's
        own nodes may be named: the others are about to be deleted."""
        found = self.node_by_code.get(ref, self.node_by_name.get(ref)) if isinstance(ref, str) else None
        if found is None:
            known = "the file's nodes" if self.pruning("nodes") else "the file's or the existing nodes"
            raise fail(path, f"{ref!r} is not the code or name of any of {known}")
        return found

    def create(self, kind: str, key: str, path: DocPath, service: Callable[..., Any], data: BaseModel) -> Any:
        """`service(session=, actor=, data=)`: the entity's own create."""
        with at(path):
            self.created[kind].append(key)
            return service(session=self.session, actor=self.actor, data=data)

    def update(
        self,
        kind: str,
        key: str,
        path: DocPath,
        *,
        current: Mapping[str, Any],
        desired: Mapping[str, Any],
        service: Callable[..., Any],
        body: type[BaseModel],
        **ref: Any,
    ) -> Any:
        """`service(session=, actor=, data=body(the fields that differ), **ref)`; its answer,
        or None (and no write) when no field differs."""
        diff = {name: value for name, value in desired.items() if current.get(name) != value}
        if not diff:
            return None
        with at(path):
            self.changed[kind].append(ChangedEntity(key=key, fields=sorted(diff)))
            return service(session=self.session, actor=self.actor, data=body.model_validate(diff), **ref)

    def delete(self, kind: str, key: str, service: Callable[..., Any], **ref: Any) -> None:
        """`service(session=, actor=, **ref)`: the entity's own delete."""
        with at(f"prune {kind} '{key}'"):
            service(session=self.session, actor=self.actor, **ref)
        self.deleted[kind].append(key)


@dataclass(frozen=True, slots=True)
class SimpleKind:
    """A kind whose entries are found by one natural key, and its service functions."""

    kind: str
    fields: tuple[str, ...]
    key_field: str
    ref_arg: str  # how update and delete name the entity
    create_body: type[BaseModel]
    update_body: type[BaseModel]
    list_page: Callable[..., Any]
    create: Callable[..., Any]
    update: Callable[..., Any]
    delete: Callable[..., Any]
    refused: Mapping[str, str] = field(default_factory=dict)
    # Update and delete take the row's id (a model prefix of digits would read as an id).
    ref_by_id: bool = False

    def ref(self, row: Any) -> dict[str, Any]:
        return {self.ref_arg: row.id if self.ref_by_id else getattr(row, self.key_field)}


def parse_entries(spec: SimpleKind, entries: Entries) -> list[tuple[DocPath, BaseModel]]:
    """The entries validated by the kind's create body; a natural key given twice is refused."""
    bodies = []
    listed: dict[str, DocPath] = {}
    for path, entry in entries:
        refuse_keys(entry, path, spec.refused)
        body = validate(spec.create_body, entry, path)
        once(listed, getattr(body, spec.key_field), path)
        bodies.append((path, body))
    return bodies


def _existing(ctx: ImportContext, spec: SimpleKind) -> dict[str, BaseModel]:
    return {getattr(row, spec.key_field): row for row in fetch_all(spec.list_page, session=ctx.session)}


def upsert_entries(ctx: ImportContext, spec: SimpleKind, bodies: list[tuple[DocPath, BaseModel]]) -> None:
    existing = _existing(ctx, spec)
    for path, body in bodies:
        key = getattr(body, spec.key_field)
        current = existing.get(key)
        if current is None:
            ctx.create(spec.kind, key, path, spec.create, body)
            continue
        ctx.update(
            spec.kind,
            key,
            path,
            current=current.model_dump(include=set(spec.fields)),
            desired=body.model_dump(include=set(spec.fields)),
            service=spec.update,
            body=spec.update_body,
            **spec.ref(current),
        )


def prune_entries(ctx: ImportContext, spec: SimpleKind, bodies: list[tuple[DocPath, BaseModel]]) -> None:
    if not ctx.pruning(spec.kind):
        return
    kept = {getattr(body, spec.key_field) for _, body in bodies}
    existing = _existing(ctx, spec)
    for key in sorted(set(existing) - kept):
        ctx.delete(spec.kind, key, spec.delete, **spec.ref(existing[key]))


def once(listed: dict[str, DocPath], key: str, path: DocPath) -> None:
    """Refuse a second entry with the same natural key."""
    if key in listed:
        raise fail(path, f"'{key}' is already described by {where(listed[key])}")
    listed[key] = path
