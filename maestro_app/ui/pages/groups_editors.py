"""Groups page dialogs: a group's settings, and a member's model, weight, capability tags,
context length and preferred nodes (in the order they are tried)."""

from __future__ import annotations

import reflex as rx

from maestro_app.ui import styles
from maestro_app.ui.components.forms import check_choice, editor_dialog, form_input, two_columns
from maestro_app.ui.components.listing import list_editor
from maestro_app.ui.components.sortable import sortable_item, sortable_list
from maestro_app.ui.components.widgets import field, switch_field
from maestro_app.ui.pages.groups import CAPABILITY_TAGS, STRATEGIES, STRATEGY_LABELS, GroupsState
from maestro_app.ui.pages.mappings import NodeChoice

MODEL_NAMES_LIST = "member-model-options"


# -- group -------------------------------------------------------------------------------


def strategy_select() -> rx.Component:
    return field(
        "Strategy",
        rx.select.root(
            rx.select.trigger(width="100%", aria_label="Strategy"),
            rx.select.content(
                *(rx.select.item(STRATEGY_LABELS[s], value=s) for s in STRATEGIES),
            ),
            name="strategy",
            default_value=GroupsState.group_form["strategy"],
        ),
        hint="How a request picks among the members.",
    )


def group_editor() -> rx.Component:
    form = GroupsState.group_form
    return list_editor(
        GroupsState,
        two_columns(
            form_input(
                form,
                "name",
                "group-name",
                "Name",
                placeholder="coder",
                required=True,
                hint="The model name clients ask for.",
            ),
            strategy_select(),
        ),
        two_columns(
            form_input(
                form,
                "max_failover_retries",
                "group-retries",
                "Failover retries",
                input_mode="numeric",
                hint="Further members tried after the first fails (0–100).",
            ),
            form_input(form, "description", "group-description", "Description", placeholder="optional"),
        ),
        rx.flex(
            switch_field(
                "List in catalog",
                "Shown by /v1/models and /api/tags.",
                name="list_in_catalog",
                default_checked=GroupsState.group_form_catalog,
            ),
            switch_field(
                "Active",
                "An inactive group is kept but not routed.",
                name="is_active",
                default_checked=GroupsState.group_form_active,
            ),
            gap="1rem",
            direction=rx.breakpoints(initial="column", sm="row"),
            width="100%",
        ),
        creating=GroupsState.editing_group_id == 0,
        noun="group",
        description="One name for several models, with failover between them.",
        submit_id="save-group",
        dialog_id="group-editor",
        on_submit=GroupsState.save_group,
    )


# -- member ------------------------------------------------------------------------------


def tag_choices() -> rx.Component:
    return rx.vstack(
        rx.text("Capability tags", size="2", weight="medium"),
        rx.flex(
            *(
                check_choice(
                    tag,
                    checked=GroupsState.member_tags.contains(tag),
                    on_change=lambda on, tag=tag: GroupsState.toggle_member_tag(tag, on),
                    class_name="member-tag",
                )
                for tag in CAPABILITY_TAGS
            ),
            wrap="wrap",
            gap="0.5rem 1.25rem",
        ),
        rx.text(
            "A request that needs images goes to members tagged vision, one with tools to members "
            "tagged tools (when any member has the tag).",
            size="1",
            color=styles.muted_text_color,
        ),
        spacing="2",
        width="100%",
    )


def preferred_node(node: rx.Var[NodeChoice]) -> rx.Component:
    return sortable_item(
        rx.hstack(
            rx.icon("grip-vertical", size=14, color=styles.muted_text_color),
            rx.text(node.name, size="2"),
            align="center",
            spacing="2",
            padding="0.25rem 0.5rem",
            border=styles.border,
            border_radius=styles.border_radius,
            class_name="preferred-node",
        ),
        item_id=node.id,
    )


def node_choices() -> rx.Component:
    choices = rx.cond(
        GroupsState.node_choices.length() > 0,
        rx.flex(
            rx.foreach(
                GroupsState.node_choices,
                lambda node: check_choice(
                    node.name,
                    checked=GroupsState.member_node_ids.contains(node.id),
                    on_change=lambda on: GroupsState.toggle_member_node(node.id, on),
                    class_name="member-node-choice",
                ),
            ),
            wrap="wrap",
            gap="0.5rem 1.25rem",
        ),
        rx.text("No nodes yet.", size="2", color=styles.muted_text_color),
    )
    return rx.vstack(
        rx.text("Preferred nodes", size="2", weight="medium"),
        rx.box(
            choices,
            max_height="8rem",
            overflow_y="auto",
            width="100%",
            padding="0.5rem 0.75rem",
            border=styles.border,
            border_radius=styles.border_radius,
        ),
        rx.cond(
            GroupsState.preferred_nodes.length() > 1,
            rx.vstack(
                rx.text(
                    "Only these nodes serve this member, tried in this order (drag to change):",
                    size="1",
                    color=styles.muted_text_color,
                ),
                sortable_list(
                    rx.foreach(GroupsState.preferred_nodes, preferred_node),
                    on_reorder=GroupsState.reorder_member_nodes,
                    id="preferred-node-order",
                ),
                spacing="1",
                width="100%",
            ),
            rx.text(
                rx.cond(
                    GroupsState.preferred_nodes.length() > 0,
                    "Only the checked node serves this member.",
                    "None checked: any node that has the model, by the usual node order.",
                ),
                size="1",
                color=styles.muted_text_color,
            ),
        ),
        spacing="2",
        width="100%",
    )


def member_editor() -> rx.Component:
    adding = GroupsState.editing_member_id == 0
    form = GroupsState.member_form
    return editor_dialog(
        form_input(
            form,
            "model_display_name",
            "member-model",
            "Model",
            placeholder="llama3.1:8b",
            required=True,
            hint="A model or mapping name as clients know it (not a group).",
            custom_attrs={"list": MODEL_NAMES_LIST},
            auto_complete="off",
        ),
        rx.el.datalist(
            rx.foreach(GroupsState.model_names, lambda n: rx.el.option(value=n)),
            id=MODEL_NAMES_LIST,
        ),
        two_columns(
            form_input(
                form,
                "weight",
                "member-weight",
                "Weight",
                input_mode="numeric",
                hint="Share under the weighted strategy.",
            ),
            form_input(
                form,
                "context_length",
                "member-context",
                "Context length",
                placeholder="from the model",
                hint="32768, 32K, 128k or 1M.",
            ),
        ),
        tag_choices(),
        node_choices(),
        switch_field(
            "Active",
            "An inactive member is kept but skipped.",
            name="is_active",
            default_checked=GroupsState.member_active,
        ),
        title=rx.fragment(
            rx.cond(adding, "Add member to ", "Edit member of "), GroupsState.member_group_name
        ),
        description="New members go last; drag them on the page to change the order.",
        on_submit=GroupsState.save_member,
        submit_label=rx.cond(adding, "Add member", "Save"),
        submit_id="save-member",
        open_=GroupsState.member_editor_open,
        on_open_change=GroupsState.set_member_editor_open,
        dialog_id="member-editor",
    )
