"""Groups page state: model groups, their settings, and their members in priority order.

The cards are drawn in `groups_view`, the dialogs in `groups_editors`. Every handler goes
through `admin_event` and calls `services.groups`; a drag of the member list is saved at once
through `groups.reorder_members`, the service behind the admin API's
`PUT /admin/model-groups/{name}/members/order`. Groups are found by name in the service;
the page keys them by id (a rename must not lose the card) and looks the name up.
"""

from __future__ import annotations

import dataclasses
from typing import Any, get_args

import reflex as rx
from reflex.event import EventSpec

from maestro_app.services import groups, nodes
from maestro_app.services.common import Page
from maestro_app.services.errors import EntityNotFound, InvalidInput
from maestro_app.services.groups import (
    GroupCreate,
    GroupPublic,
    GroupUpdate,
    MemberCreate,
    MemberOrder,
    MemberPublic,
    MemberUpdate,
    Strategy,
)
from maestro_app.services.mappings import Capability
from maestro_app.ui import format as fmt
from maestro_app.ui.data import call_service, call_write, model_catalog
from maestro_app.ui.feedback import INPUT_ERRORS, checked, failure_toast, required_int, text_or_none
from maestro_app.ui.list_state import ListPageState
from maestro_app.ui.ordering import moved, parse_ids, toggled
from maestro_app.ui.pages.mappings import NodeChoice, context_text
from maestro_app.ui.state import AuthState, admin_event

MAX_NODES = 1000
STRATEGIES: tuple[str, ...] = get_args(Strategy)
CAPABILITY_TAGS: tuple[str, ...] = get_args(Capability)
STRATEGY_LABELS: dict[str, str] = {
    "priority": "Priority: the first member that answers",
    "round_robin": "Round robin: members take turns",
    "weighted": "Weighted: members share by weight",
}


@dataclasses.dataclass
class MemberRow:
    id: int = 0
    sort_id: str = ""
    model: str = ""
    position: int = 0  # 1-based place in the order
    weight: int = 1
    tags: list[str] = dataclasses.field(default_factory=list)
    node_names: list[str] = dataclasses.field(default_factory=list)
    context: str = ""
    is_active: bool = True


@dataclasses.dataclass
class GroupCard:
    id: int = 0
    name: str = ""
    strategy: str = ""
    description: str = ""
    list_in_catalog: bool = False
    max_failover_retries: int = 0
    is_active: bool = True
    members: list[MemberRow] = dataclasses.field(default_factory=list)


def _member_row(member: MemberPublic, position: int, node_names: dict[int, str]) -> MemberRow:
    return MemberRow(
        id=member.id,
        sort_id=str(member.id),
        model=member.model_display_name,
        position=position,
        weight=member.weight,
        tags=list(member.capability_tags),
        node_names=[node_names.get(i, f"#{i}") for i in member.preferred_node_ids],
        context=fmt.context_label(member.context_length, suffix=""),
        is_active=member.is_active,
    )


def _card(group: GroupPublic, node_names: dict[int, str]) -> GroupCard:
    return GroupCard(
        id=group.id,
        name=group.name,
        strategy=group.strategy,
        description=group.description or "",
        list_in_catalog=group.list_in_catalog,
        max_failover_retries=group.max_failover_retries,
        is_active=group.is_active,
        members=[_member_row(m, i, node_names) for i, m in enumerate(group.members, start=1)],
    )


def group_fields(form: dict[str, Any]) -> dict[str, Any]:
    """The service's group body from the submitted form."""
    return {
        "name": str(form.get("name", "")).strip(),
        "strategy": str(form.get("strategy", "priority")),
        "description": text_or_none(form.get("description")),
        "max_failover_retries": required_int(
            form.get("max_failover_retries"), label="Failover retries", minimum=0
        ),
        "list_in_catalog": checked(form, "list_in_catalog"),
        "is_active": checked(form, "is_active"),
    }


def member_fields(form: dict[str, Any], *, tags: list[str], node_ids: list[str]) -> dict[str, Any]:
    """The service's member body: text fields from the form, tags and nodes from state."""
    return {
        "model_display_name": str(form.get("model_display_name", "")).strip(),
        "weight": required_int(form.get("weight", "1"), label="Weight", minimum=0),
        "capability_tags": sorted(tags),
        "preferred_node_ids": [int(i) for i in node_ids],
        "context_length": text_or_none(form.get("context_length")),
        "is_active": checked(form, "is_active"),
    }


class GroupsState(ListPageState, AuthState):
    """The mixin's editor and delete confirmation are the group's; the member dialog and
    the member removal are this page's own."""

    page_size = 20
    cards: list[GroupCard] = []
    node_choices: list[NodeChoice] = []
    model_names: list[str] = []
    _node_names: dict[int, str] = {}

    # The group dialog (a form; switches are form fields too).
    editing_group_id: int = 0  # 0 while creating
    group_form: dict[str, str] = {}
    group_form_catalog: bool = False
    group_form_active: bool = True
    pending_group_members: int = 0

    # The member dialog; tags and preferred nodes are state, since the dialog redraws as
    # they change (preferred nodes keep the order they were checked in: the order tried).
    member_editor_open: bool = False
    member_group_id: int = 0
    member_group_name: str = ""
    editing_member_id: int = 0  # 0 while adding
    member_form: dict[str, str] = {}
    member_tags: list[str] = []
    member_node_ids: list[str] = []
    member_active: bool = True

    pending_member_group_id: int = 0
    pending_member_id: int = 0
    pending_member_name: str = ""

    @rx.var
    def delete_member_open(self) -> bool:
        return self.pending_member_id != 0

    @rx.var
    def preferred_nodes(self) -> list[NodeChoice]:
        """The checked nodes in the order they are tried."""
        names = {n.id: n.name for n in self.node_choices}
        return [NodeChoice(i, names.get(i, f"#{i}")) for i in self.member_node_ids]

    # -- the list ------------------------------------------------------------------------

    async def _fetch(self) -> Page[GroupPublic]:
        listing = await call_service(nodes.list_nodes, limit=MAX_NODES)
        self._node_names = {n.id: n.name for n in listing.items}
        self.node_choices = [NodeChoice(str(n.id), n.name) for n in listing.items]
        return await call_service(
            groups.list_groups, search=self.search.strip() or None, limit=self.page_size, offset=self.offset
        )

    def _show(self, items: list[GroupPublic]) -> None:
        self.cards = [_card(g, self._node_names) for g in items]

    def _close_dialogs(self) -> None:
        self.editor_open = False
        self.member_editor_open = False

    def _card(self, group_id: Any) -> GroupCard | None:
        try:
            wanted = int(group_id)
        except (TypeError, ValueError):
            return None
        return next((c for c in self.cards if c.id == wanted), None)

    def _group_name(self, group_id: Any) -> str:
        card = self._card(group_id)
        if card is None:
            raise EntityNotFound("That group is no longer listed; the page was reloaded")
        return card.name

    def _delete_label(self, key: str) -> str | None:
        card = self._card(key)
        if card is None:
            return None
        self.pending_group_members = len(card.members)
        return card.name

    async def _delete(self, key: str) -> str:
        await call_write(groups.delete_group, name=self._group_name(key), actor=self._actor)
        return f"Group {self.pending_delete_label} deleted"

    # -- group create / edit / switch --------------------------------------------------

    @admin_event
    def open_create_group(self) -> None:
        self.editing_group_id = 0
        self.group_form = {"strategy": "priority", "max_failover_retries": "2"}
        self.group_form_catalog = False
        self.group_form_active = True
        self.editor_open = True

    @admin_event
    async def open_edit_group(self, group_id: int) -> EventSpec | None:
        try:
            group = await call_service(groups.get_group, name=self._group_name(group_id))
        except INPUT_ERRORS as exc:
            return await self._failed(exc)
        self.editing_group_id = group.id
        self.group_form = {
            "name": group.name,
            "strategy": group.strategy,
            "description": group.description or "",
            "max_failover_retries": str(group.max_failover_retries),
        }
        self.group_form_catalog = group.list_in_catalog
        self.group_form_active = group.is_active
        self.editor_open = True
        return None

    @admin_event
    async def save_group(self, form: dict[str, Any]) -> EventSpec:
        async def write() -> str:
            fields = group_fields(form)
            if not self.editing_group_id:
                created = await call_write(groups.create_group, data=GroupCreate(**fields), actor=self._actor)
                return f"Group {created.name} created"
            saved = await call_write(
                groups.update_group,
                name=self._group_name(self.editing_group_id),
                data=GroupUpdate(**fields),
                actor=self._actor,
            )
            return f"Group {saved.name} saved"

        return await self._submit(write)

    @admin_event
    async def set_group_active(self, group_id: int, on: bool) -> EventSpec:
        async def write() -> str:
            saved = await call_write(
                groups.update_group,
                name=self._group_name(group_id),
                data=GroupUpdate(is_active=bool(on)),
                actor=self._actor,
            )
            return f"Group {saved.name} is {'active' if saved.is_active else 'inactive'}"

        return await self._change(write)

    # -- member order --------------------------------------------------------------------

    async def _save_order(self, group_id: Any, order: list[int]) -> EventSpec:
        async def write() -> str:
            await call_write(
                groups.reorder_members,
                name=self._group_name(group_id),
                data=MemberOrder(member_ids=order),
                actor=self._actor,
            )
            return "Member order saved"

        return await self._change(write)

    @admin_event
    async def reorder_members(self, group_id: int, ids: list[str]) -> EventSpec:
        try:
            order = parse_ids(ids)
        except InvalidInput as exc:
            return await self._failed(exc)
        return await self._save_order(group_id, order)

    @admin_event
    async def move_member(self, group_id: int, member_id: int, step: int) -> EventSpec | None:
        card = self._card(group_id)
        try:
            order = moved([m.id for m in card.members], int(member_id), int(step)) if card else None
        except (TypeError, ValueError):
            order = None
        if card is None or order is None:
            return None
        return await self._save_order(card.id, order)

    # -- member add / edit -----------------------------------------------------------------

    def _open_member_editor(self, group_id: int, group_name: str) -> None:
        self.member_group_id = group_id
        self.member_group_name = group_name
        self.model_names = [c.name for c in model_catalog() if c.kind == "model"]
        self.member_editor_open = True

    @admin_event
    async def open_add_member(self, group_id: int) -> EventSpec | None:
        try:
            name = self._group_name(group_id)
        except INPUT_ERRORS as exc:
            return await self._failed(exc)
        self.editing_member_id = 0
        self.member_form = {"weight": "1"}
        self.member_tags = []
        self.member_node_ids = []
        self.member_active = True
        self._open_member_editor(int(group_id), name)
        return None

    @admin_event
    async def open_edit_member(self, group_id: int, member_id: int) -> EventSpec | None:
        try:
            group = await call_service(groups.get_group, name=self._group_name(group_id))
            member = next((m for m in group.members if str(m.id) == str(member_id)), None)
            if member is None:
                raise EntityNotFound(f"Group '{group.name}' has no member {member_id}")
        except INPUT_ERRORS as exc:
            return await self._failed(exc)
        self.editing_member_id = member.id
        self.member_form = {
            "model_display_name": member.model_display_name,
            "weight": str(member.weight),
            "context_length": context_text(member.context_length),
        }
        self.member_tags = list(member.capability_tags)
        self.member_node_ids = [str(i) for i in member.preferred_node_ids]
        self.member_active = member.is_active
        self._open_member_editor(group.id, group.name)
        return None

    @admin_event
    def set_member_editor_open(self, is_open: bool) -> None:
        self.member_editor_open = bool(is_open)

    @admin_event
    def toggle_member_tag(self, tag: str, on: bool) -> None:
        if tag in CAPABILITY_TAGS:
            self.member_tags = toggled(self.member_tags, tag, bool(on))

    @admin_event
    def toggle_member_node(self, node_id: str, on: bool) -> None:
        if str(node_id).isascii() and str(node_id).isdigit():
            self.member_node_ids = toggled(self.member_node_ids, str(node_id), bool(on))

    @admin_event
    def reorder_member_nodes(self, ids: list[str]) -> None:
        if sorted(map(str, ids)) == sorted(self.member_node_ids):
            self.member_node_ids = [str(i) for i in ids]

    @admin_event
    async def save_member(self, form: dict[str, Any]) -> EventSpec:
        try:
            fields = member_fields(form, tags=self.member_tags, node_ids=self.member_node_ids)
            name = self._group_name(self.member_group_id)
            if self.editing_member_id:
                saved = await call_write(
                    groups.update_member,
                    name=name,
                    member_id=self.editing_member_id,
                    data=MemberUpdate(**fields),
                    actor=self._actor,
                )
            else:
                saved = await call_write(
                    groups.add_member, name=name, data=MemberCreate(**fields), actor=self._actor
                )
        except INPUT_ERRORS as exc:
            return failure_toast(exc)
        self.member_editor_open = False
        await self._refresh()
        verb = "saved" if self.editing_member_id else "added to " + name
        return rx.toast.success(f"Member {saved.model_display_name} {verb}")

    # -- member removal --------------------------------------------------------------------

    @admin_event
    def ask_delete_member(self, group_id: int, member_id: int) -> None:
        card = self._card(group_id)
        member = next((m for m in card.members if str(m.id) == str(member_id)), None) if card else None
        if card is not None and member is not None:
            self.pending_member_group_id = card.id
            self.pending_member_id = member.id
            self.pending_member_name = member.model

    @admin_event
    def set_delete_member_open(self, is_open: bool) -> None:
        if not is_open:
            self.pending_member_id = 0

    @admin_event
    async def confirm_delete_member(self) -> EventSpec | None:
        member_id, self.pending_member_id = self.pending_member_id, 0
        if not member_id:
            return None

        async def write() -> str:
            name = self._group_name(self.pending_member_group_id)
            await call_write(groups.delete_member, name=name, member_id=member_id, actor=self._actor)
            return f"Member {self.pending_member_name} removed from {name}"

        return await self._change(write)
