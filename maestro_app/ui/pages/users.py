"""Users page: gateway users, their tokens, model allowlists and daily limits.

The page state lives here; the page is drawn in `users_view` and `users_editor`. Every handler
goes through `admin_event` (server-side session check) and calls `services.users`.
A new or rotated token is held in state only while its dialog is open.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx
from reflex.event import EventSpec

from maestro_app.services import users
from maestro_app.services.users import TokenRotate, UserCreate, UserPublic, UserUpdate, UserWithToken
from maestro_app.ui import format as fmt
from maestro_app.ui.data import call_service, call_write, jwt_secret, model_catalog
from maestro_app.ui.feedback import INPUT_ERRORS, failure_toast, optional_int, text_or_none
from maestro_app.ui.state import AuthState, admin_event

PAGE_SIZE = 25


@dataclasses.dataclass
class UserRow:
    username: str = ""
    description: str = ""
    is_active: bool = True
    all_models: bool = False
    models: list[str] = dataclasses.field(default_factory=list)
    request_limit: str = ""
    token_limit: str = ""
    can_manage_models: bool = False
    token_expires: str = ""


@dataclasses.dataclass
class ModelChoice:
    name: str = ""
    kind: str = "model"  # model | group | other (in the allowlist, not in the catalog)


def _row(user: UserPublic) -> UserRow:
    return UserRow(
        username=user.username,
        description=user.description or "",
        is_active=user.is_active,
        all_models=user.all_models,
        models=list(user.allowed_models),
        request_limit=fmt.count(user.request_limit),
        token_limit=fmt.count(user.token_limit),
        can_manage_models=user.can_manage_models,
        token_expires=fmt.when(user.token_expires_at),
    )


class UsersState(AuthState):
    rows: list[UserRow] = []
    total: int = 0
    offset: int = 0
    search: str = ""
    loaded: bool = False

    # The create/edit dialog. Text fields are a form (their values arrive on submit);
    # the allowlist and switches are state, since the dialog redraws as they change.
    editor_open: bool = False
    editing: str = ""  # the username being edited; "" while creating
    form_description: str = ""
    form_request_limit: str = ""
    form_token_limit: str = ""
    form_all_models: bool = False
    form_can_manage: bool = False
    form_models: list[str] = []
    model_filter: str = ""
    catalog: list[ModelChoice] = []

    # The token dialog: a new or rotated token, shown once.
    token_open: bool = False
    token_user: str = ""
    token_value: str = ""
    token_expires: str = ""

    # Confirmations.
    pending_delete: str = ""
    pending_rotate: str = ""

    @rx.var
    def model_choices(self) -> list[ModelChoice]:
        """The catalog plus allowlisted names it lacks, filtered by `model_filter`."""
        known = {c.name for c in self.catalog}
        extra = [ModelChoice(name, "other") for name in self.form_models if name not in known]
        needle = self.model_filter.strip().lower()
        return [c for c in [*self.catalog, *extra] if needle in c.name.lower()]

    @rx.var
    def can_add_filter(self) -> bool:
        """The filter text is a name not offered yet: it can be added as typed."""
        name = self.model_filter.strip()
        return bool(name) and name not in {c.name for c in self.catalog} and name not in self.form_models

    @rx.var
    def delete_open(self) -> bool:
        return self.pending_delete != ""

    @rx.var
    def rotate_open(self) -> bool:
        return self.pending_rotate != ""

    # -- list ------------------------------------------------------------------------

    async def _refresh(self) -> None:
        page = await call_service(
            users.list_users, search=self.search.strip() or None, limit=PAGE_SIZE, offset=self.offset
        )
        if not page.items and self.offset > 0:  # the last row of a later page went away
            self.offset = max(0, self.offset - PAGE_SIZE)
            page = await call_service(
                users.list_users, search=self.search.strip() or None, limit=PAGE_SIZE, offset=self.offset
            )
        self.rows = [_row(u) for u in page.items]
        self.total = page.total
        self.loaded = True

    @admin_event
    async def load(self) -> None:
        self.editor_open = False
        self.token_open = False
        self.token_value = ""
        await self._refresh()

    @admin_event
    async def set_search(self, value: str) -> None:
        self.search = value[:128]
        self.offset = 0
        await self._refresh()

    @admin_event
    async def next_page(self) -> None:
        if self.offset + PAGE_SIZE < self.total:
            self.offset += PAGE_SIZE
        await self._refresh()

    @admin_event
    async def prev_page(self) -> None:
        self.offset = max(0, self.offset - PAGE_SIZE)
        await self._refresh()

    # -- create / edit ---------------------------------------------------------------

    def _load_catalog(self) -> None:
        self.catalog = [ModelChoice(c.name, c.kind) for c in model_catalog()]

    @admin_event
    def open_create(self) -> None:
        self.editing = ""
        self.form_description = ""
        self.form_request_limit = ""
        self.form_token_limit = ""
        self.form_all_models = False
        self.form_can_manage = False
        self.form_models = []
        self.model_filter = ""
        self._load_catalog()
        self.editor_open = True

    @admin_event
    async def open_edit(self, username: str) -> EventSpec | None:
        try:
            user = await call_service(users.get_user, username=username)
        except INPUT_ERRORS as exc:
            await self._refresh()
            return failure_toast(exc)
        self.editing = user.username
        self.form_description = user.description or ""
        self.form_request_limit = "" if user.request_limit is None else str(user.request_limit)
        self.form_token_limit = "" if user.token_limit is None else str(user.token_limit)
        self.form_all_models = user.all_models
        self.form_can_manage = user.can_manage_models
        self.form_models = list(user.allowed_models)
        self.model_filter = ""
        self._load_catalog()
        self.editor_open = True
        return None

    @admin_event
    def set_editor_open(self, is_open: bool) -> None:
        self.editor_open = is_open

    @admin_event
    def set_form_all_models(self, value: bool) -> None:
        self.form_all_models = value

    @admin_event
    def set_form_can_manage(self, value: bool) -> None:
        self.form_can_manage = value

    @admin_event
    def set_model_filter(self, value: str) -> None:
        self.model_filter = value[:256]

    @admin_event
    def toggle_model(self, name: str, allowed: bool) -> None:
        if allowed and name not in self.form_models:
            self.form_models = [*self.form_models, name]
        elif not allowed:
            self.form_models = [m for m in self.form_models if m != name]

    @admin_event
    def add_filter_as_model(self) -> None:
        name = self.model_filter.strip()
        if name and name not in self.form_models:
            self.form_models = [*self.form_models, name]
        self.model_filter = ""

    @admin_event
    async def save(self, form: dict[str, Any]) -> EventSpec:
        try:
            fields: dict[str, Any] = {
                "description": text_or_none(form.get("description")),
                "request_limit": optional_int(form.get("request_limit"), label="Requests per day"),
                "token_limit": optional_int(form.get("token_limit"), label="Tokens per day"),
                "all_models": self.form_all_models,
                "allowed_models": list(self.form_models),
                "can_manage_models": self.form_can_manage,
            }
            if self.editing:
                await call_write(
                    users.update_user, username=self.editing, data=UserUpdate(**fields), actor=self._actor
                )
                created = None
            else:
                username = str(form.get("username", "")).strip()
                created = await call_write(
                    users.create_user,
                    data=UserCreate(username=username, **fields),
                    actor=self._actor,
                    jwt_secret=jwt_secret(),
                )
        except INPUT_ERRORS as exc:
            return failure_toast(exc)
        self.editor_open = False
        await self._refresh()
        if created is None:
            return rx.toast.success(f"User {self.editing} saved")
        self._show_token(created)
        return rx.toast.success(f"User {created.username} created")

    # -- token -----------------------------------------------------------------------

    def _show_token(self, issued: UserWithToken) -> None:
        self.token_user = issued.username
        self.token_value = issued.token
        self.token_expires = fmt.when(issued.token_expires_at)
        self.token_open = True

    @admin_event
    def set_token_open(self, is_open: bool) -> None:
        self.token_open = is_open
        if not is_open:
            self.token_value = ""

    @admin_event
    def ask_rotate(self, username: str) -> None:
        self.pending_rotate = username

    @admin_event
    def set_rotate_open(self, is_open: bool) -> None:
        if not is_open:
            self.pending_rotate = ""

    @admin_event
    async def confirm_rotate(self) -> EventSpec | None:
        username, self.pending_rotate = self.pending_rotate, ""
        if not username:
            return None
        try:
            rotated = await call_write(
                users.rotate_token,
                username=username,
                actor=self._actor,
                jwt_secret=jwt_secret(),
                data=TokenRotate(),
            )
        except INPUT_ERRORS as exc:
            await self._refresh()
            return failure_toast(exc)
        await self._refresh()
        self._show_token(rotated)
        return rx.toast.success(f"New token for {username}; the old one no longer works")

    # -- activate / delete -------------------------------------------------------------

    @admin_event
    async def set_active(self, username: str, active: bool) -> EventSpec:
        try:
            await call_write(
                users.update_user, username=username, data=UserUpdate(is_active=active), actor=self._actor
            )
        except INPUT_ERRORS as exc:
            await self._refresh()
            return failure_toast(exc)
        await self._refresh()
        return rx.toast.success(f"User {username} {'activated' if active else 'deactivated'}")

    @admin_event
    def ask_delete(self, username: str) -> None:
        self.pending_delete = username

    @admin_event
    def set_delete_open(self, is_open: bool) -> None:
        if not is_open:
            self.pending_delete = ""

    @admin_event
    async def confirm_delete(self) -> EventSpec | None:
        username, self.pending_delete = self.pending_delete, ""
        if not username:
            return None
        try:
            await call_write(users.delete_user, username=username, actor=self._actor)
        except INPUT_ERRORS as exc:
            await self._refresh()
            return failure_toast(exc)
        await self._refresh()
        return rx.toast.success(f"User {username} deleted")
