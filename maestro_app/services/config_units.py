"""Config import of the kinds whose unit holds several rows: all mappings of one display
name, a group with all its members, all system prompts of one scope (see `config_import`).

Within a unit the file's entries are paired with the existing rows: first those that agree
on what identifies them (a mapping's node set, a member's model, a prompt's text), then the
rest in order. Rows left unpaired are deleted before anything is updated or created, so a
mapping moving to other nodes never overlaps the one it replaces.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from functools import partial
from typing import Any, TypeVar

from maestro_app.domain.names import canonical
from maestro_app.domain.snapshot import prompt_scope_key
from maestro_app.services import groups, mappings, system_prompts
from maestro_app.services.config_context import (
    ImportContext,
    SimpleKind,
    parse_entries,
    prune_entries,
    upsert_entries,
)
from maestro_app.services.config_doc import DocPath, Entries, fail, refuse_keys, validate
from maestro_app.services.config_export import GROUP_FIELDS, MAPPING_FIELDS, PROMPT_FIELDS, fetch_all

WantT = TypeVar("WantT")
HaveT = TypeVar("HaveT")


def pair(
    wanted: Sequence[WantT], existing: Sequence[HaveT], *, same: Callable[[WantT, HaveT], bool]
) -> tuple[list[tuple[WantT, HaveT]], list[WantT], list[HaveT]]:
    """(paired, new, gone): pairs that are `same` first, then the rest in order."""
    left = list(existing)
    matched: dict[int, HaveT] = {}
    for index, want in enumerate(wanted):
        found = next((have for have in left if same(want, have)), None)
        if found is not None:
            left = [have for have in left if have is not found]
            matched[index] = found
    paired: list[tuple[WantT, HaveT]] = []
    new: list[WantT] = []
    for index, want in enumerate(wanted):
        if index in matched:
            paired.append((want, matched[index]))
        elif left:
            paired.append((want, left.pop(0)))
        else:
            new.append(want)
    return paired, new, left


def _units(items: Sequence[WantT], key: Callable[[WantT], Hashable]) -> dict[Hashable, list[WantT]]:
    found: dict[Hashable, list[WantT]] = defaultdict(list)
    for item in items:
        found[key(item)].append(item)
    return found


def _node_list(ctx: ImportContext, entry: dict[str, Any], path: DocPath, name: str) -> list[int]:
    refs = entry.pop(name, [])
    if not isinstance(refs, list):
        raise fail((*path, name), "must be a list of node codes")
    return [ctx.node_id(ref, (*path, name, i)) for i, ref in enumerate(refs)]


# -- mappings -------------------------------------------------------------------------------

_MAPPING_REFUSED = {"id": "mappings are named by display name", "node_ids": "name nodes by code in `nodes`"}


def _mapping_label(ctx: ImportContext, display_name: str, node_ids: list[int]) -> str:
    where_ = ",".join(sorted(ctx.node_refs.get(i, str(i)) for i in node_ids)) or "all nodes"
    return f"{display_name} @ {where_}"


def apply_mappings(ctx: ImportContext, entries: Entries) -> None:
    wanted = []
    for path, entry in entries:
        refuse_keys(entry, path, _MAPPING_REFUSED)
        data = dict(entry)
        node_ids = _node_list(ctx, data, path, "nodes")
        body = validate(
            mappings.MappingCreate, {**data, "node_ids": node_ids}, path, renames={"node_ids": "nodes"}
        )
        desired = body.model_dump()
        desired["node_ids"] = sorted(set(node_ids))
        wanted.append((path, body, desired))
    existing = _units(
        fetch_all(mappings.list_mappings, session=ctx.session), lambda m: canonical(m.display_name)
    )
    listed = _units(wanted, lambda w: canonical(w[1].display_name))
    if ctx.pruning("model_mappings"):
        for unit in sorted(set(existing) - set(listed), key=str):
            for row in existing[unit]:
                _delete_mapping(ctx, row)
    fields = {"node_ids", *MAPPING_FIELDS} - {"nodes"}
    for unit, items in listed.items():
        paired, new, gone = pair(
            items, existing.get(unit, []), same=lambda w, m: w[2]["node_ids"] == sorted(m.node_ids)
        )
        for row in gone:
            _delete_mapping(ctx, row)
        for (path, body, desired), row in paired:
            ctx.update(
                "model_mappings",
                _mapping_label(ctx, body.display_name, desired["node_ids"]),
                path,
                current=row.model_dump(include=fields),
                desired=desired,
                service=mappings.update_mapping,
                body=mappings.MappingUpdate,
                ref=row.id,
            )
        for path, body, desired in new:
            ctx.create(
                "model_mappings",
                _mapping_label(ctx, body.display_name, desired["node_ids"]),
                path,
                mappings.create_mapping,
                body,
            )


def _delete_mapping(ctx: ImportContext, row: mappings.MappingPublic) -> None:
    ctx.delete(
        "model_mappings",
        _mapping_label(ctx, row.display_name, row.node_ids),
        mappings.delete_mapping,
        ref=row.id,
    )


# -- groups and members ---------------------------------------------------------------------

GROUPS = SimpleKind(
    kind="model_groups",
    fields=GROUP_FIELDS,
    key_field="name",
    ref_arg="name",
    create_body=groups.GroupCreate,
    update_body=groups.GroupUpdate,
    list_page=groups.list_groups,
    create=groups.create_group,
    update=groups.update_group,
    delete=groups.delete_group,
    refused={"id": "groups are named by name"},
)
_MEMBER_REFUSED = {
    "id": "members are named by their model",
    "group_id": "a member belongs to the group it is listed in",
    "preferred_node_ids": "name nodes by code in `preferred_nodes`",
}


def _members(ctx: ImportContext, items: Any, path: DocPath) -> list[tuple[DocPath, dict[str, Any]]]:
    """A group's `members`, validated by the group service's member body; a member left
    without `priority` gets its position in the list."""
    if not isinstance(items, list):
        raise fail((*path, "members"), "must be a list")
    found = []
    for index, item in enumerate(items):
        place = (*path, "members", index)
        if not isinstance(item, dict):
            raise fail(place, "must be a mapping of fields")
        refuse_keys(item, place, _MEMBER_REFUSED)
        data = dict(item)
        preferred = _node_list(ctx, data, place, "preferred_nodes")
        data = {"priority": index, **data, "preferred_node_ids": preferred}
        body = validate(groups.MemberCreate, data, place, renames={"preferred_node_ids": "preferred_nodes"})
        found.append((place, body.model_dump()))
    return found


def apply_groups(ctx: ImportContext, entries: Entries) -> None:
    plain: Entries = []
    members = []
    for path, entry in entries:
        data = dict(entry)
        members.append(_members(ctx, data.pop("members", []), path))
        plain.append((path, data))
    bodies = parse_entries(GROUPS, plain)
    prune_entries(ctx, GROUPS, bodies)
    before = {g.name: g for g in fetch_all(groups.list_groups, session=ctx.session)}
    # Every group first, then the members: a member naming a group of this very file is
    # then refused by the group service, wherever that group stands in the file.
    upsert_entries(ctx, GROUPS, bodies)
    for (_, body), wanted in zip(bodies, members, strict=True):
        name = getattr(body, GROUPS.key_field)
        current = before.get(name)
        _apply_members(ctx, name, wanted, current.members if current else [])


def _apply_members(
    ctx: ImportContext,
    group: str,
    wanted: list[tuple[DocPath, dict[str, Any]]],
    existing: list[groups.MemberPublic],
) -> None:
    paired, new, gone = pair(
        wanted, existing, same=lambda w, m: w[1]["model_display_name"] == m.model_display_name
    )
    for row in gone:
        ctx.delete(
            "group_members",
            f"{group}/{row.model_display_name}",
            groups.delete_member,
            name=group,
            member_id=row.id,
        )
    for (path, desired), row in paired:
        ctx.update(
            "group_members",
            f"{group}/{desired['model_display_name']}",
            path,
            current=row.model_dump(),
            desired=desired,
            service=groups.update_member,
            body=groups.MemberUpdate,
            name=group,
            member_id=row.id,
        )
    for path, desired in new:
        ctx.create(
            "group_members",
            f"{group}/{desired['model_display_name']}",
            path,
            partial(groups.add_member, name=group),
            groups.MemberCreate.model_validate(desired),
        )


# -- system prompts -------------------------------------------------------------------------

_PROMPT_REFUSED = {"id": "system prompts are named by their scope and text"}


def _prompt_label(scope_type: str, scope_value: str, prompt: str) -> str:
    first_line = prompt.splitlines()[0] if prompt else ""
    short = first_line if len(first_line) <= 40 else first_line[:39] + "…"
    return f"{scope_type}:{scope_value}: {short}"


def apply_system_prompts(ctx: ImportContext, entries: Entries) -> None:
    wanted = []
    for path, entry in entries:
        refuse_keys(entry, path, _PROMPT_REFUSED)
        body = validate(system_prompts.SystemPromptCreate, entry, path)
        wanted.append((path, body))
    rows = fetch_all(system_prompts.list_system_prompts, session=ctx.session)
    existing = _units(rows, lambda p: (p.scope_type, prompt_scope_key(p.scope_type, p.scope_value)))
    listed = _units(wanted, lambda w: (w[1].scope_type, prompt_scope_key(w[1].scope_type, w[1].scope_value)))
    gone_units = set(existing) - set(listed) if ctx.pruning("system_prompts") else set()
    for unit in sorted(gone_units, key=str):
        for row in existing[unit]:
            _delete_prompt(ctx, row)
    for unit, items in listed.items():
        paired, new, gone = pair(items, existing.get(unit, []), same=lambda w, p: w[1].prompt == p.prompt)
        for row in gone:
            _delete_prompt(ctx, row)
        for (path, body), row in paired:
            ctx.update(
                "system_prompts",
                _prompt_label(body.scope_type, body.scope_value, body.prompt),
                path,
                current=row.model_dump(include=set(PROMPT_FIELDS)),
                desired=body.model_dump(),
                service=system_prompts.update_system_prompt,
                body=system_prompts.SystemPromptUpdate,
                prompt_id=row.id,
            )
        for path, body in new:
            ctx.create(
                "system_prompts",
                _prompt_label(body.scope_type, body.scope_value, body.prompt),
                path,
                system_prompts.create_system_prompt,
                body,
            )


def _delete_prompt(ctx: ImportContext, row: system_prompts.SystemPromptPublic) -> None:
    ctx.delete(
        "system_prompts",
        _prompt_label(row.scope_type, row.scope_value, row.prompt),
        system_prompts.delete_system_prompt,
        prompt_id=row.id,
    )
