"""Audit log page: every admin change (who, what, when, the fields it changed), filtered and
paged, with one record's details in a dialog. Reads `services.audit` (as `/admin/audit-logs`).

Filters: the action (`user` matches every `user.*` action, `user.create` only itself), the
entity type and the actor, the last two chosen from the values the trail holds.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import reflex as rx

from maestro_app.services import audit
from maestro_app.services.audit import AuditItem
from maestro_app.services.common import Page as ResultPage
from maestro_app.ui import format as fmt
from maestro_app.ui import routes, styles
from maestro_app.ui.components.widgets import empty_state, loading_rows, page_header, pager, refresh_button
from maestro_app.ui.data import call_service
from maestro_app.ui.filtered_list import PAGE_SIZE, FilteredList
from maestro_app.ui.layout import Page, template
from maestro_app.ui.state import AuthState, admin_event

ANY = "any"
AUDIT_FILTERS: tuple[str, ...] = ("action", "entity_type", "actor")


@dataclasses.dataclass
class AuditRow:
    id: int = 0
    when: str = ""
    actor: str = ""
    action: str = ""
    entity: str = ""
    summary: str = ""
    details: str = ""


def summary(details: dict[str, Any]) -> str:
    """One line for the table: the changed fields of an update, else the detail keys."""
    changed = details.get("changes")
    keys = list(changed) if isinstance(changed, dict) else list(details)
    text = ", ".join(str(k) for k in keys[:8])
    return text + (f" +{len(keys) - 8} more" if len(keys) > 8 else "")


def audit_row(item: AuditItem) -> AuditRow:
    return AuditRow(
        id=item.id,
        when=fmt.when(item.created_at, seconds=True),
        actor=item.actor,
        action=item.action,
        entity=item.entity_type + (f" {item.entity_id}" if item.entity_id else ""),
        summary=summary(item.details),
        details=json.dumps(item.details, indent=2, sort_keys=True, ensure_ascii=False, default=str),
    )


def audit_filters(values: dict[str, Any]) -> dict[str, str]:
    """Filter texts of the form: trimmed, `any` as empty."""
    found = {}
    for name in AUDIT_FILTERS:
        text = str(values.get(name) or "").strip()[:256]
        found[name] = "" if text == ANY else text
    return found


class AuditState(FilteredList, AuthState):
    rows: list[AuditRow] = []
    filters: dict[str, str] = dict.fromkeys(AUDIT_FILTERS, "")
    actions: list[str] = []
    entity_types: list[str] = [ANY]
    actors: list[str] = [ANY]
    detail_open: bool = False
    detail: AuditRow = AuditRow()

    def _filters_from(self, values: dict[str, Any]) -> dict[str, str]:
        return audit_filters(values)

    async def _query(self, filters: dict[str, str], offset: int) -> ResultPage[AuditItem]:
        return await call_service(
            audit.list_audit,
            action=filters["action"] or None,
            entity_type=filters["entity_type"] or None,
            actor=filters["actor"] or None,
            limit=PAGE_SIZE,
            offset=offset,
        )

    async def _show(self, filters: dict[str, str], offset: int) -> None:
        page = await self._query(filters, offset)
        if not page.items and offset > 0:
            offset = self._last_page_offset(page.total)
            page = await self._query(filters, offset)
        self.filters = filters
        self.offset = offset
        self.rows = [audit_row(item) for item in page.items]
        self.total = page.total
        self.loaded = True

    async def _load_facets(self) -> None:
        facets = await call_service(audit.audit_facets)
        # `user` for every user.* action, then the actions themselves.
        prefixes = sorted({a.split(".", 1)[0] for a in facets.actions if "." in a})
        self.actions = sorted({*prefixes, *facets.actions})
        self.entity_types = [ANY, *facets.entity_types]
        self.actors = [ANY, *facets.actors]

    @admin_event
    async def load(self) -> None:
        self.detail_open = False
        await self._load_facets()
        shown = dict(self.filters)
        await self._show(audit_filters(dict(self.router.url.query_parameters)), 0)
        self._remount_if_changed(shown)

    @admin_event
    async def refresh(self) -> None:
        await self._load_facets()
        await self._show(self.filters, self.offset)

    @admin_event
    def open_detail(self, record_id: int) -> None:
        found = next((row for row in self.rows if row.id == record_id), None)
        if found is not None:
            self.detail = found
            self.detail_open = True

    @admin_event
    def set_detail_open(self, is_open: bool) -> None:
        self.detail_open = is_open


# -- view -------------------------------------------------------------------------------


def select_filter(name: str, label: str, choices: rx.Var[list[str]]) -> rx.Component:
    element_id = f"audit-{name.replace('_', '-')}"
    return rx.vstack(
        rx.text(label, as_="label", html_for=element_id, size="1", weight="medium"),
        rx.select(
            choices,
            name=name,
            default_value=rx.cond(AuditState.filters[name] != "", AuditState.filters[name], ANY),
            id=element_id,
            width="100%",
        ),
        spacing="1",
        width="100%",
    )


def filter_form() -> rx.Component:
    return rx.form(
        rx.grid(
            rx.vstack(
                rx.text("Action", as_="label", html_for="audit-action", size="1", weight="medium"),
                rx.input(
                    name="action",
                    id="audit-action",
                    default_value=AuditState.filters["action"],
                    placeholder="e.g. user or node.update",
                    auto_complete="off",
                    custom_attrs={"list": "audit-action-options"},
                    width="100%",
                ),
                rx.el.datalist(
                    rx.foreach(AuditState.actions, lambda a: rx.el.option(value=a)), id="audit-action-options"
                ),
                spacing="1",
                width="100%",
            ),
            select_filter("entity_type", "Entity", AuditState.entity_types),
            select_filter("actor", "Actor", AuditState.actors),
            rx.hstack(
                rx.button(rx.icon("filter", size=16), "Apply", type="submit", id="apply-audit-filters"),
                rx.button(
                    "Clear",
                    type="button",
                    variant="soft",
                    color_scheme="gray",
                    on_click=AuditState.clear_filters,
                    id="clear-audit-filters",
                ),
                spacing="2",
            ),
            columns=rx.breakpoints(initial="1", xs="2", md="4"),
            spacing="3",
            align="end",
            width="100%",
        ),
        on_submit=AuditState.apply_filters,
        reset_on_submit=False,
        key=AuditState.form_key,
        width="100%",
        id="audit-filters",
    )


def row_view(row: rx.Var[AuditRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row.when, size="2", white_space="nowrap")),
        rx.table.cell(rx.text(row.actor, size="2"), class_name="actor"),
        rx.table.cell(rx.badge(row.action, variant="soft", class_name="action")),
        rx.table.cell(rx.text(row.entity, size="2"), class_name="entity"),
        rx.table.cell(rx.text(row.summary, size="2", color=styles.muted_text_color), max_width="24rem"),
        id="audit-" + row.id.to_string(),
        class_name="audit-row",
        on_click=AuditState.open_detail(row.id),
        cursor="pointer",
        _hover={"background_color": styles.hover_bg_color},
        align="center",
    )


def audit_table() -> rx.Component:
    headers = ("Time (UTC)", "Actor", "Action", "Entity", "Changed")
    table = rx.table.root(
        rx.table.header(rx.table.row(*(rx.table.column_header_cell(h) for h in headers))),
        rx.table.body(rx.foreach(AuditState.rows, row_view)),
        variant="ghost",
        size="1",
        width="100%",
    )
    empty = rx.cond(
        AuditState.filtered,
        empty_state("search-x", "No change matches these filters.", "Widen the filters or clear them."),
        empty_state("history", "No changes yet.", "Every change an admin makes is recorded here."),
    )
    return rx.card(
        rx.vstack(
            filter_form(),
            rx.separator(),
            rx.text(AuditState.total, " changes", size="2", color=styles.muted_text_color, id="audit-total"),
            rx.cond(
                AuditState.loaded,
                rx.cond(
                    AuditState.rows.length() > 0,
                    rx.scroll_area(table, type="hover", scrollbars="horizontal"),
                    empty,
                ),
                loading_rows(),
            ),
            pager(
                offset=AuditState.offset,
                total=AuditState.total,
                page_size=PAGE_SIZE,
                on_prev=AuditState.prev_page,
                on_next=AuditState.next_page,
            ),
            spacing="3",
            width="100%",
        ),
        **styles.card_style,
    )


def detail_dialog() -> rx.Component:
    row = AuditState.detail
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(row.action, " · ", row.entity),
            rx.dialog.description(
                row.when, " by ", row.actor, size="2", color=styles.muted_text_color, margin_bottom="1rem"
            ),
            rx.code_block(row.details, language="json", width="100%", font_size="0.8125rem", margin="0"),
            rx.hstack(
                rx.dialog.close(
                    rx.button("Close", variant="soft", color_scheme="gray", id="close-audit-detail")
                ),
                justify="end",
                margin_top="1rem",
                width="100%",
            ),
            max_width="40rem",
            id="audit-detail",
        ),
        open=AuditState.detail_open,
        on_open_change=AuditState.set_detail_open,
    )


@template(route=routes.AUDIT, title="Audit log", on_load=AuditState.load)
def audit_page() -> rx.Component:
    return rx.fragment(
        page_header(
            "Audit log",
            "Who changed what, and when. Secrets never reach the trail.",
            refresh_button(AuditState.refresh),
        ),
        audit_table(),
        detail_dialog(),
    )


page: Page = audit_page
