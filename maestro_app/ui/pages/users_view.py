"""Users page: the table, the token dialog, the confirmations (the create/edit dialog is in
`users_editor`)."""

from __future__ import annotations

import reflex as rx

from maestro_app.ui import routes, styles
from maestro_app.ui.components.widgets import (
    confirm_dialog,
    copy_button,
    empty_state,
    loading_rows,
    page_header,
    pager,
)
from maestro_app.ui.layout import Page, template
from maestro_app.ui.pages.users import PAGE_SIZE, UserRow, UsersState
from maestro_app.ui.pages.users_editor import user_editor
from maestro_app.ui.pages.users_usage import UsageState, usage_tab

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
                    rx.icon("chart-line", size=16),
                    "Usage",
                    on_click=UsageState.show_user(user.username),
                ),
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
                rx.text(
                    UsersState.total, " users", size="2", color=styles.muted_text_color, white_space="nowrap"
                ),
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


# -- token dialog and confirmations ---------------------------------------------------


def token_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Token for ", UsersState.token_user),
            rx.dialog.description(
                "The user's credential for every API of the gateway.",
                size="2",
                color=styles.muted_text_color,
                margin_bottom="0.75rem",
            ),
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


@template(route=routes.USERS, title="Users", on_load=[UsersState.load, UsageState.load])
def users_page() -> rx.Component:
    return rx.fragment(
        page_header(
            "Users",
            "Who may call the gateway, with which models, and how much per day.",
            rx.button(
                rx.icon("user-plus", size=16), "New user", on_click=UsersState.open_create, id="new-user"
            ),
        ),
        rx.tabs.root(
            rx.tabs.list(
                rx.tabs.trigger("Users", value="users", id="users-tab"),
                rx.tabs.trigger("Usage", value="usage", id="usage-tab"),
            ),
            rx.tabs.content(users_table(), value="users", padding_top="1rem"),
            rx.tabs.content(usage_tab(), value="usage", padding_top="1rem"),
            value=UsageState.tab,
            on_change=UsageState.set_tab,
            width="100%",
        ),
        user_editor(),
        token_dialog(),
        confirmations(),
    )


page: Page = users_page
