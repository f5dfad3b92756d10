"""Users page: the table, the create/edit dialog with the allowlist editor, the token dialog."""

from __future__ import annotations

import reflex as rx

from maestro_app.ui import routes, styles
from maestro_app.ui.components.widgets import (
    confirm_dialog,
    copy_button,
    empty_state,
    field,
    loading_rows,
    page_header,
    pager,
    switch_field,
)
from maestro_app.ui.layout import Page, template
from maestro_app.ui.pages.users import PAGE_SIZE, ModelChoice, UserRow, UsersState

KIND_COLORS = {"model": "gray", "group": "iris", "other": "amber"}


# -- table ----------------------------------------------------------------------------


def models_cell(user: rx.Var[UserRow]) -> rx.Component:
    return rx.cond(
        user.all_models,
        rx.badge("all models", color_scheme="grass", variant="soft"),
        rx.cond(
            user.models.length() > 0,
            rx.flex(
                rx.foreach(user.models, lambda m: rx.badge(m, variant="surface", color_scheme="gray")),
                wrap="wrap",
                gap="0.375rem",
            ),
            rx.text("no models", size="2", color=styles.muted_text_color),
        ),
    )


def row_actions(user: rx.Var[UserRow]) -> rx.Component:
    return rx.hstack(
        rx.icon_button(
            rx.icon("pencil", size=16),
            variant="ghost",
            aria_label="Edit",
            on_click=UsersState.open_edit(user.username),
            class_name="edit-user",
        ),
        rx.menu.root(
            rx.menu.trigger(
                rx.icon_button(
                    rx.icon("ellipsis-vertical", size=16),
                    variant="ghost",
                    color_scheme="gray",
                    aria_label="More actions",
                    class_name="user-menu",
                ),
            ),
            rx.menu.content(
                rx.menu.item(
                    rx.icon("key-round", size=16),
                    "Rotate token",
                    on_click=UsersState.ask_rotate(user.username),
                ),
                rx.cond(
                    user.is_active,
                    rx.menu.item(
                        rx.icon("pause", size=16),
                        "Deactivate",
                        on_click=UsersState.set_active(user.username, False),
                    ),
                    rx.menu.item(
                        rx.icon("play", size=16),
                        "Activate",
                        on_click=UsersState.set_active(user.username, True),
                    ),
                ),
                rx.menu.separator(),
                rx.menu.item(
                    rx.icon("trash-2", size=16),
                    "Delete",
                    color_scheme="red",
                    on_click=UsersState.ask_delete(user.username),
                ),
            ),
        ),
        spacing="3",
        justify="end",
    )


def user_row(user: rx.Var[UserRow]) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(
            rx.vstack(
                rx.hstack(
                    rx.text(user.username, weight="medium"),
                    rx.cond(
                        user.is_active,
                        rx.badge("active", color_scheme="grass", variant="soft", class_name="user-status"),
                        rx.badge(
                            "inactive", color_scheme="gray", variant="outline", class_name="user-status"
                        ),
                    ),
                    align="center",
                    spacing="2",
                ),
                rx.cond(
                    user.description != "",
                    rx.text(user.description, size="1", color=styles.muted_text_color),
                ),
                spacing="1",
            ),
        ),
        rx.table.cell(models_cell(user), max_width="22rem"),
        rx.table.cell(
            rx.vstack(
                rx.text(user.request_limit, " requests", size="2", white_space="nowrap"),
                rx.text(user.token_limit, " tokens", size="2", white_space="nowrap"),
                spacing="0",
            )
        ),
        rx.table.cell(
            rx.cond(
                user.can_manage_models,
                rx.badge("yes", color_scheme="iris", variant="soft"),
                rx.text("no", size="2", color=styles.muted_text_color),
            )
        ),
        rx.table.cell(
            rx.text(user.token_expires, size="2", color=styles.muted_text_color, white_space="nowrap")
        ),
        rx.table.cell(row_actions(user)),
        id="user-" + user.username,
        class_name="user-row",
        align="center",
    )


def users_table() -> rx.Component:
    table = rx.table.root(
        rx.table.header(
            rx.table.row(
                *(
                    rx.table.column_header_cell(h)
                    for h in ("User", "Models", "Daily limits", "Manages models", "Token expires", "")
                )
            )
        ),
        rx.table.body(rx.foreach(UsersState.rows, user_row)),
        variant="ghost",
        size="2",
        width="100%",
    )
    empty = rx.cond(
        UsersState.search != "",
        empty_state("search-x", "No user matches this search.", "Try another part of the name."),
        empty_state(
            "users",
            "No users yet.",
            "Create one to hand out a token for the gateway.",
        ),
    )
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.input(
                    rx.input.slot(rx.icon("search", size=16)),
                    placeholder="Search users",
                    value=UsersState.search,
                    on_change=UsersState.set_search,
                    debounce_timeout=300,
                    id="user-search",
                    max_width="20rem",
                    width="100%",
                ),
                rx.spacer(),
                rx.text(UsersState.total, " users", size="2", color=styles.muted_text_color),
                align="center",
                width="100%",
            ),
            rx.cond(
                UsersState.loaded,
                rx.cond(
                    UsersState.rows.length() > 0,
                    rx.scroll_area(table, type="hover", scrollbars="horizontal"),
                    empty,
                ),
                loading_rows(),
            ),
            pager(
                offset=UsersState.offset,
                total=UsersState.total,
                page_size=PAGE_SIZE,
                on_prev=UsersState.prev_page,
                on_next=UsersState.next_page,
            ),
            spacing="3",
            width="100%",
        ),
        **styles.card_style,
    )


# -- create / edit dialog ---------------------------------------------------------------


def model_choice(choice: rx.Var[ModelChoice]) -> rx.Component:
    return rx.text(
        rx.hstack(
            rx.checkbox(
                checked=UsersState.form_models.contains(choice.name),
                on_change=lambda allowed: UsersState.toggle_model(choice.name, allowed),
            ),
            rx.text(choice.name, size="2", style=styles.code_style),
            rx.spacer(),
            rx.match(
                choice.kind,
                ("group", rx.badge("group", color_scheme=KIND_COLORS["group"], variant="soft", size="1")),
                (
                    "other",
                    rx.badge("not in catalog", color_scheme=KIND_COLORS["other"], variant="soft", size="1"),
                ),
                rx.fragment(),
            ),
            align="center",
            spacing="2",
            width="100%",
        ),
        as_="label",
        class_name="model-choice",
        padding_y="0.25rem",
    )


def allowlist_editor() -> rx.Component:
    picker = rx.vstack(
        rx.hstack(
            rx.input(
                placeholder="Filter, or type a model name to add",
                value=UsersState.model_filter,
                on_change=UsersState.set_model_filter,
                debounce_timeout=150,
                width="100%",
            ),
            rx.cond(
                UsersState.can_add_filter,
                rx.button(
                    rx.icon("plus", size=14),
                    "Add",
                    variant="soft",
                    type="button",
                    on_click=UsersState.add_filter_as_model,
                    id="add-model",
                ),
            ),
            width="100%",
        ),
        rx.box(
            rx.cond(
                UsersState.model_choices.length() > 0,
                rx.vstack(rx.foreach(UsersState.model_choices, model_choice), spacing="0", width="100%"),
                rx.text(
                    "No model or group in the catalog matches; type a name and add it.",
                    size="2",
                    color=styles.muted_text_color,
                ),
            ),
            max_height="14rem",
            overflow_y="auto",
            width="100%",
            padding="0.5rem 0.75rem",
            border=styles.border,
            border_radius=styles.border_radius,
            id="model-choices",
        ),
        rx.text(UsersState.form_models.length(), " selected", size="1", color=styles.muted_text_color),
        spacing="2",
        width="100%",
    )
    return rx.vstack(
        rx.text("Models", size="2", weight="medium"),
        switch_field(
            "All models",
            "Every model and group, including ones added later.",
            checked=UsersState.form_all_models,
            on_change=UsersState.set_form_all_models,
        ),
        rx.cond(UsersState.form_all_models, rx.fragment(), picker),
        spacing="2",
        width="100%",
    )


def user_editor() -> rx.Component:
    creating = UsersState.editing == ""
    form = rx.form(
        rx.vstack(
            rx.cond(
                creating,
                field(
                    "Username",
                    rx.input(
                        name="username",
                        id="new-username",
                        placeholder="alice",
                        required=True,
                        auto_focus=True,
                        width="100%",
                    ),
                    hint="Letters, digits and . _ @ - (up to 128).",
                    html_for="new-username",
                ),
            ),
            field(
                "Description",
                rx.input(
                    name="description",
                    id="user-description",
                    default_value=UsersState.form_description,
                    placeholder="Team or purpose (optional)",
                    width="100%",
                ),
                html_for="user-description",
            ),
            allowlist_editor(),
            rx.grid(
                field(
                    "Requests per day",
                    rx.input(
                        name="request_limit",
                        id="request-limit",
                        default_value=UsersState.form_request_limit,
                        placeholder="unlimited",
                        input_mode="numeric",
                        width="100%",
                    ),
                    html_for="request-limit",
                ),
                field(
                    "Tokens per day",
                    rx.input(
                        name="token_limit",
                        id="token-limit",
                        default_value=UsersState.form_token_limit,
                        placeholder="unlimited",
                        input_mode="numeric",
                        width="100%",
                    ),
                    html_for="token-limit",
                ),
                columns="2",
                spacing="3",
                width="100%",
            ),
            switch_field(
                "Can manage models",
                "May pull, copy and delete models on nodes through the Ollama API.",
                checked=UsersState.form_can_manage,
                on_change=UsersState.set_form_can_manage,
            ),
            rx.hstack(
                rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                rx.button(rx.cond(creating, "Create user", "Save"), type="submit", id="save-user"),
                justify="end",
                spacing="3",
                width="100%",
            ),
            spacing="4",
            width="100%",
        ),
        on_submit=UsersState.save,
        reset_on_submit=False,
        width="100%",
    )
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(creating, "New user", "Edit " + UsersState.editing)),
            rx.dialog.description(
                rx.cond(
                    creating,
                    "The token is shown once, right after the user is created.",
                    "Changes apply to the next request of this user.",
                ),
                size="2",
                color=styles.muted_text_color,
                margin_bottom="1rem",
            ),
            form,
            max_width="34rem",
            id="user-editor",
        ),
        open=UsersState.editor_open,
        on_open_change=UsersState.set_editor_open,
    )


# -- token dialog and confirmations ---------------------------------------------------


def token_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Token for ", UsersState.token_user),
            rx.vstack(
                rx.callout(
                    "Copy it now: it is shown only this once. Clients send it as "
                    "'Authorization: Bearer <token>'.",
                    icon="triangle-alert",
                    color_scheme="amber",
                    size="1",
                    width="100%",
                ),
                rx.code(
                    UsersState.token_value,
                    id="new-token",
                    size="2",
                    word_break="break-all",
                    padding="0.75rem",
                    width="100%",
                ),
                rx.text("Expires: ", UsersState.token_expires, size="1", color=styles.muted_text_color),
                rx.hstack(
                    copy_button(
                        UsersState.token_value,
                        label="Copy token",
                        button_id="copy-token",
                        message="Token copied",
                    ),
                    rx.dialog.close(rx.button("Done", id="token-done")),
                    justify="end",
                    spacing="3",
                    width="100%",
                ),
                spacing="3",
                width="100%",
            ),
            max_width="34rem",
            id="token-dialog",
        ),
        open=UsersState.token_open,
        on_open_change=UsersState.set_token_open,
    )


def confirmations() -> rx.Component:
    return rx.fragment(
        confirm_dialog(
            open_=UsersState.delete_open,
            on_open_change=UsersState.set_delete_open,
            on_confirm=UsersState.confirm_delete,
            title="Delete user " + UsersState.pending_delete + "?",
            description="The token stops working at once. Usage history stays in the request log.",
            dialog_id="confirm-delete",
        ),
        confirm_dialog(
            open_=UsersState.rotate_open,
            on_open_change=UsersState.set_rotate_open,
            on_confirm=UsersState.confirm_rotate,
            title="Rotate the token of " + UsersState.pending_rotate + "?",
            description="A new token is issued and the current one stops working at once.",
            confirm_label="Rotate token",
            color_scheme="amber",
            dialog_id="confirm-rotate",
        ),
    )


@template(route=routes.USERS, title="Users", on_load=UsersState.load)
def users_page() -> rx.Component:
    return rx.fragment(
        page_header(
            "Users",
            "Who may call the gateway, with which models, and how much per day.",
            rx.button(
                rx.icon("user-plus", size=16), "New user", on_click=UsersState.open_create, id="new-user"
            ),
        ),
        users_table(),
        user_editor(),
        token_dialog(),
        confirmations(),
    )


page: Page = users_page
