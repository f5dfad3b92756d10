"""`FilteredList`: the filter form and paging of a log page (request log, audit log).

A page state mixes it in before `AuthState` and supplies two methods:

    class LogsState(FilteredList, AuthState):
        def _filters_from(self, values) -> dict[str, str]: ...   # form / query -> filter texts
        async def _show(self, filters, offset) -> None: ...      # query; set rows on success

`_show` sets `filters`, `offset`, `total` and the rows only once its query is accepted, so
a filter the service refuses (`INPUT_ERRORS`) leaves the page as it was and the admin sees
the reason in a toast. `form_key` remounts the filter form when the state sets the filters
(a load with other filters than the form shows, clear), since its inputs are uncontrolled.
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.event import EventSpec

from maestro_app.ui.feedback import INPUT_ERRORS, failure_toast
from maestro_app.ui.state import admin_event

PAGE_SIZE = 25


class FilteredList(rx.State, mixin=True):
    total: int = 0
    offset: int = 0
    loaded: bool = False
    filters: dict[str, str] = {}
    form_key: int = 0

    @rx.var
    def filtered(self) -> bool:
        return any(self.filters.values())

    def _filters_from(self, values: dict[str, Any]) -> dict[str, str]:
        raise NotImplementedError(
            f"{type(self).__name__} must define _filters_from (a page hook of FilteredList)"
        )

    async def _show(self, filters: dict[str, str], offset: int) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define _show (a page hook of FilteredList)")

    @staticmethod
    def _last_page_offset(total: int) -> int:
        """Where a page that came back empty (rows went away) goes instead."""
        return max(0, (total - 1) // PAGE_SIZE * PAGE_SIZE)

    def _remount_if_changed(self, shown: dict[str, str]) -> None:
        """After a load: remount the form only when the filters differ from those it shows,
        so what an admin typed while the page was still loading stays."""
        if self.filters != shown:
            self.form_key += 1

    @admin_event
    async def apply_filters(self, form: dict[str, Any]) -> EventSpec | None:
        try:
            await self._show(self._filters_from(form), 0)
        except INPUT_ERRORS as exc:
            return failure_toast(exc)
        return None

    @admin_event
    async def clear_filters(self) -> None:
        await self._show(self._filters_from({}), 0)
        self.form_key += 1

    @admin_event
    async def next_page(self) -> None:
        if self.offset + PAGE_SIZE < self.total:
            await self._show(self.filters, self.offset + PAGE_SIZE)

    @admin_event
    async def prev_page(self) -> None:
        await self._show(self.filters, max(0, self.offset - PAGE_SIZE))
