"""Users page: the create/edit dialog, with the allowlist editor (models and groups from
the catalog, names typed by hand, or all models) and the daily limits."""

from __future__ import annotations

import reflex as rx

from maestro_app.ui import styles
from maestro_app.ui.components.widgets import field, switch_field
from maestro_app.ui.pages.users import ModelChoice, UsersState

KIND_COLORS = {"model": "gray", "group": "iris", "other": "amber"}


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
