"""`ListPageState`: what the list pages of the dashboard do the same way (a state mixin).

    class ToolSetsState(ListPageState, AuthState):
        page_size = 50
        cards: list[ToolSetCard] = []

        async def _fetch(self) -> Page[Any]: ...    # one page: self.search, self.offset
        def _show(self, items: list[Any]) -> None: ...
        def _delete_label(self, key: str) -> str | None: ...   # a listed entity's label
        async def _delete(self, key: str) -> str: ...           # the success message

It brings the paging and search handlers, the editor dialog's open flag, the delete
confirmation (`ask_delete(key)` → `delete_open` → `confirm_delete`), and two ways to run a
write: `_submit` for a dialog (an error keeps the dialog open with the reason) and
`_change` for a switch or a menu action (an error reloads the list, which may have moved).
Every handler goes through `admin_event`. Reflex copies a mixin's handlers into each page
state, so the state lists `AuthState` after the mixin (a class whose state bases are all
mixins would be a mixin itself).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

import reflex as rx
from reflex.event import EventSpec

from maestro_app.services.common import Page
from maestro_app.ui.feedback import ID_INPUT_ERRORS, INPUT_ERRORS, failure_toast
from maestro_app.ui.state import admin_event

MAX_SEARCH = 256


class ListPageState(rx.State, mixin=True):
    page_size: ClassVar[int] = 50

    total: int = 0
    offset: int = 0
    search: str = ""
    loaded: bool = False
    editor_open: bool = False
    # The key (id or name, as text) of the entity the confirmation is about; "" = closed.
    pending_delete: str = ""
    pending_delete_label: str = ""

    @rx.var
    def delete_open(self) -> bool:
        return self.pending_delete != ""

    # -- what each page says ---------------------------------------------------------------

    async def _fetch(self) -> Page[Any]:
        raise NotImplementedError(f"{type(self).__name__} must define _fetch (a page hook of ListPageState)")

    def _show(self, items: list[Any]) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define _show (a page hook of ListPageState)")

    def _delete_label(self, key: str) -> str | None:
        raise NotImplementedError(
            f"{type(self).__name__} must define _delete_label (a page hook of ListPageState)"
        )

    async def _delete(self, key: str) -> str:
        raise NotImplementedError(f"{type(self).__name__} must define _delete (a page hook of ListPageState)")

    def _close_dialogs(self) -> None:
        self.editor_open = False

    # -- shared steps ----------------------------------------------------------------------

    async def _refresh(self) -> None:
        page = await self._fetch()
        if not page.items and self.offset > 0:  # the last row of a later page went away
            self.offset = max(0, self.offset - self.page_size)
            page = await self._fetch()
        self._show(page.items)
        self.total = page.total
        self.loaded = True

    async def _failed(self, exc: Exception) -> EventSpec:
        await self._refresh()
        return failure_toast(exc)

    async def _submit(self, write: Callable[[], Awaitable[str]]) -> EventSpec:
        """Run a dialog's write; on success close the editor, reload, toast its message."""
        try:
            message = await write()
        except INPUT_ERRORS as exc:
            return failure_toast(exc)
        self.editor_open = False
        await self._refresh()
        return rx.toast.success(message)

    async def _change(self, write: Callable[[], Awaitable[str]]) -> EventSpec:
        """Run a write from the list itself (ids from the event: a forged one is refused too);
        reload either way."""
        try:
            message = await write()
        except ID_INPUT_ERRORS as exc:
            return await self._failed(exc)
        await self._refresh()
        return rx.toast.success(message)

    # -- handlers --------------------------------------------------------------------------

    @admin_event
    async def load(self) -> None:
        self._close_dialogs()
        await self._refresh()

    @admin_event
    async def set_search(self, value: str) -> None:
        self.search = str(value)[:MAX_SEARCH]
        self.offset = 0
        await self._refresh()

    @admin_event
    async def next_page(self) -> None:
        if self.offset + self.page_size < self.total:
            self.offset += self.page_size
        await self._refresh()

    @admin_event
    async def prev_page(self) -> None:
        self.offset = max(0, self.offset - self.page_size)
        await self._refresh()

    @admin_event
    def set_editor_open(self, is_open: bool) -> None:
        self.editor_open = bool(is_open)

    @admin_event
    def ask_delete(self, key: str) -> None:
        label = self._delete_label(str(key))
        if label is not None:
            self.pending_delete = str(key)
            self.pending_delete_label = label

    @admin_event
    def set_delete_open(self, is_open: bool) -> None:
        if not is_open:
            self.pending_delete = ""

    @admin_event
    async def confirm_delete(self) -> EventSpec | None:
        key, self.pending_delete = self.pending_delete, ""
        if not key:
            return None
        return await self._change(lambda: self._delete(key))
