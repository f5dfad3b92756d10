"""Groups page: a card per group with its settings and its members in priority order (drag a
member to reorder, saved at once); the dialogs are in `groups_editors`."""

from __future__ import annotations

import reflex as rx

from maestro_app.ui import routes, styles
from maestro_app.ui.components.listing import (
    card_list,
    delete_confirmation,
    fact,
    list_pager,
    new_button,
    search_bar,
    switch_label,
)
from maestro_app.ui.components.sortable import sortable_item, sortable_list
from maestro_app.ui.components.widgets import confirm_dialog, page_header
from maestro_app.ui.layout import Page, template
from maestro_app.ui.pages.groups import GroupCard, GroupsState, MemberRow
from maestro_app.ui.pages.groups_editors import group_editor, member_editor


def member_menu(group: rx.Var[GroupCard], member: rx.Var[MemberRow]) -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(
            rx.icon_button(
                rx.icon("ellipsis-vertical", size=14),
                variant="ghost",
                color_scheme="gray",
                size="1",
                aria_label="More actions",
                class_name="member-menu",
            ),
        ),
        rx.menu.content(
            rx.menu.item(
                rx.icon("arrow-up", size=16),
                "Move up",
                on_click=GroupsState.move_member(group.id, member.id, -1),
            ),
            rx.menu.item(
                rx.icon("arrow-down", size=16),
                "Move down",
                on_click=GroupsState.move_member(group.id, member.id, 1),
            ),
            rx.menu.separator(),
            rx.menu.item(
                rx.icon("trash-2", size=16),
                "Remove",
                color_scheme="red",
                on_click=GroupsState.ask_delete_member(group.id, member.id),
            ),
        ),
    )


def member_row(group: rx.Var[GroupCard], member: rx.Var[MemberRow]) -> rx.Component:
    row = rx.flex(
        rx.hstack(
            rx.icon("grip-vertical", size=16, color=styles.muted_text_color, flex_shrink="0"),
            rx.badge(member.position, variant="soft", color_scheme="gray", radius="full"),
            rx.text(member.model, weight="medium", style=styles.code_style, class_name="member-model"),
            rx.cond(~member.is_active, rx.badge("inactive", color_scheme="gray", variant="outline")),
            align="center",
            spacing="2",
            min_width="0",
        ),
        rx.flex(
            rx.foreach(member.tags, lambda t: rx.badge(t, variant="surface", color_scheme="iris")),
            rx.cond(group.strategy == "weighted", fact("scale", "weight ", member.weight)),
            rx.cond(member.context != "", fact("ruler", member.context, " ctx")),
            rx.cond(
                member.node_names.length() > 0,
                fact("server", "prefers ", member.node_names.join(" → "), class_name="member-nodes"),
            ),
            rx.spacer(),
            rx.icon_button(
                rx.icon("pencil", size=14),
                variant="ghost",
                size="1",
                aria_label="Edit member",
                on_click=GroupsState.open_edit_member(group.id, member.id),
                class_name="edit-member",
            ),
            member_menu(group, member),
            align="center",
            gap="0.5rem 0.75rem",
            wrap="wrap",
            flex="1",
        ),
        align="center",
        gap="0.5rem 1rem",
        wrap="wrap",
        width="100%",
        padding="0.5rem 0.75rem",
        border=styles.border,
        border_radius=styles.border_radius,
        background_color=styles.page_bg_color,
        id="member-" + member.sort_id,
        class_name="member-row",
    )
    return sortable_item(row, item_id=member.sort_id)


def group_header(group: rx.Var[GroupCard]) -> rx.Component:
    return rx.flex(
        rx.vstack(
            rx.hstack(
                rx.icon("layers", size=18, color=styles.muted_text_color),
                rx.text(group.name, weight="bold", size="4", class_name="group-name"),
                rx.badge(group.strategy.replace("_", " "), variant="soft", class_name="group-strategy"),
                rx.cond(
                    group.list_in_catalog,
                    rx.badge("in catalog", color_scheme="grass", variant="soft", class_name="group-catalog"),
                ),
                rx.cond(~group.is_active, rx.badge("inactive", color_scheme="gray", variant="outline")),
                align="center",
                spacing="2",
                wrap="wrap",
            ),
            rx.flex(
                fact("repeat", group.max_failover_retries, " failover retries"),
                fact("boxes", group.members.length(), " members"),
                rx.cond(
                    group.description != "",
                    rx.text(group.description, size="2", color=styles.muted_text_color),
                ),
                gap="0.25rem 1rem",
                wrap="wrap",
                align="center",
            ),
            spacing="1",
            min_width="0",
        ),
        rx.flex(
            switch_label(
                "Active",
                checked=group.is_active,
                on_change=lambda on: GroupsState.set_group_active(group.id, on),
                class_name="group-active-switch",
            ),
            rx.button(
                rx.icon("plus", size=14),
                "Add member",
                variant="soft",
                size="1",
                on_click=GroupsState.open_add_member(group.id),
                class_name="add-member",
            ),
            rx.icon_button(
                rx.icon("pencil", size=14),
                variant="ghost",
                size="1",
                aria_label="Edit group",
                on_click=GroupsState.open_edit_group(group.id),
                class_name="edit-group",
            ),
            rx.icon_button(
                rx.icon("trash-2", size=14),
                variant="ghost",
                color_scheme="red",
                size="1",
                aria_label="Delete group",
                on_click=GroupsState.ask_delete(group.id.to_string()),
                class_name="delete-group",
            ),
            align="center",
            gap="0.75rem",
            wrap="wrap",
        ),
        align="center",
        justify="between",
        gap="0.75rem",
        wrap="wrap",
        width="100%",
    )


def group_card(group: rx.Var[GroupCard]) -> rx.Component:
    return rx.card(
        rx.vstack(
            group_header(group),
            rx.cond(
                group.members.length() > 0,
                sortable_list(
                    rx.foreach(group.members, lambda m: member_row(group, m)),
                    on_reorder=lambda ids: GroupsState.reorder_members(group.id, ids),
                    class_name="member-list",
                ),
                rx.text(
                    "No members yet: add the models this group routes to.",
                    size="2",
                    color=styles.muted_text_color,
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="group-card-" + group.id.to_string(),
        class_name="group-card",
    )


def group_list() -> rx.Component:
    return card_list(
        GroupsState,
        items=rx.vstack(rx.foreach(GroupsState.cards, group_card), spacing="4", width="100%"),
        has_items=GroupsState.cards.length() > 0,
        noun="group",
        hint="A group is one model name for clients that routes to several models, "
        "by priority, in turns or by weight, with failover between them.",
        icon="layers",
    )


@template(route=routes.GROUPS, title="Groups", on_load=GroupsState.load)
def groups_page() -> rx.Component:
    return rx.fragment(
        page_header(
            "Groups",
            "One model name, several models behind it: drag members to set their order (saved at once).",
            new_button("New group", on_click=GroupsState.open_create_group, element_id="new-group"),
        ),
        search_bar(GroupsState, element_id="group-search", placeholder="Search groups", noun="group"),
        group_list(),
        list_pager(GroupsState),
        group_editor(),
        member_editor(),
        delete_confirmation(
            GroupsState,
            title="Delete group " + GroupsState.pending_delete_label + "?",
            description="Its "
            + GroupsState.pending_group_members.to_string()
            + " member(s) go with it. Clients asking for this name no longer reach them; "
            "users' allowlists keep the name.",
            dialog_id="confirm-delete-group",
        ),
        confirm_dialog(
            open_=GroupsState.delete_member_open,
            on_open_change=GroupsState.set_delete_member_open,
            on_confirm=GroupsState.confirm_delete_member,
            title="Remove " + GroupsState.pending_member_name + " from the group?",
            description="The group stops routing to this model; the model itself is not touched.",
            confirm_label="Remove",
            dialog_id="confirm-delete-member",
        ),
    )


page: Page = groups_page
