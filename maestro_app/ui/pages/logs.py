"""Request log state: the activity ledger, filtered and paged, and one request in detail.

Drawn in `logs_view`. Reads `services.activity_query` (the same calls as `/admin/activity`).
Filters arrive as one form submit; they are checked by running the query, so a bad filter
(a status like `6xx`, a range that ends before it starts) shows the reason and leaves the
filters and rows as they were. The page also opens from a link: `/logs?user=alice&status=5xx`
filters, `/logs?request=<request id>` opens that request's detail.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from reflex.event import EventSpec
from sqlmodel import Session

from maestro_app.domain.source import SIGNATURES
from maestro_app.services import activity_query, nodes, users
from maestro_app.services.activity_query import ActivityItem
from maestro_app.services.common import Page
from maestro_app.services.errors import InvalidInput
from maestro_app.ui import format as fmt
from maestro_app.ui.data import call_service, model_catalog
from maestro_app.ui.feedback import INPUT_ERRORS, failure_toast
from maestro_app.ui.filtered_list import PAGE_SIZE, FilteredList
from maestro_app.ui.state import AuthState, admin_event

ANY = "any"
STATUS_CLASSES: tuple[str, ...] = (ANY, "2xx", "3xx", "4xx", "5xx")
# Every source `domain.source` can name: the signatures' names, then the endpoint dialects.
SOURCES: tuple[str, ...] = (
    ANY,
    *dict.fromkeys(name for name, _ in SIGNATURES),
    "openai",
    "ollama",
    "anthropic",
)
FILTER_NAMES: tuple[str, ...] = ("user", "model", "node", "source", "status", "start", "end")
SUGGESTIONS = 500


@dataclasses.dataclass
class LogRow:
    request_id: str = ""
    when: str = ""
    status: int = 0
    status_color: str = "gray"
    username: str = ""
    model: str = ""
    real_model: str = ""  # only when it differs from `model`
    node: str = ""
    source: str = ""
    endpoint: str = ""
    stream: bool = False
    tokens: str = ""
    estimated: bool = False
    duration: str = ""
    error: str = ""  # the first 300 characters


@dataclasses.dataclass
class DetailField:
    label: str = ""
    value: str = ""


def parse_moment(text: Any, *, label: str) -> datetime | None:
    """A date or date-and-time field (`2026-03-04`, `2026-03-04T05:06`), read as UTC unless it
    names its offset; empty → None."""
    value = str(text if text is not None else "").strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{label}: '{value[:40]}' is not a date (YYYY-MM-DD) or date and time") from None
    return moment.replace(tzinfo=UTC) if moment.utcoffset() is None else moment


def filters_from(values: dict[str, Any]) -> dict[str, str]:
    """The filter texts of a form or a query string: trimmed, `any` as empty, unknown keys out."""
    found: dict[str, str] = {}
    for name in FILTER_NAMES:
        text = str(values.get(name) or "").strip()[:256]
        found[name] = "" if text == ANY else text
    return found


def moment_text(moment: datetime | None) -> str:
    """A moment as a `datetime-local` field shows it (UTC, seconds only when there are any)."""
    if moment is None:
        return ""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M" if moment.second == 0 else "%Y-%m-%dT%H:%M:%S")


def query_arguments(filters: dict[str, str]) -> dict[str, Any]:
    """`list_activity` keyword arguments for the filter texts (`InvalidInput` for bad dates)."""
    return {
        "user": filters["user"] or None,
        "model": filters["model"] or None,
        "node": filters["node"] or None,
        "source": filters["source"] or None,
        "status": filters["status"] or None,
        "start": parse_moment(filters["start"], label="From"),
        "end": parse_moment(filters["end"], label="To"),
    }


def user_and_node_names(*, session: Session) -> tuple[list[str], list[str]]:
    """Suggestions for the user and node filters (one trip to the database thread)."""
    listed = users.list_users(session=session, limit=SUGGESTIONS, offset=0)
    node_page = nodes.list_nodes(session=session, limit=SUGGESTIONS, offset=0)
    return (
        sorted((u.username for u in listed.items), key=str.lower),
        sorted((n.name for n in node_page.items), key=str.lower),
    )


def log_row(item: ActivityItem) -> LogRow:
    return LogRow(
        request_id=item.request_id,
        when=fmt.when(item.created_at, seconds=True).removesuffix(" UTC"),  # the column says UTC
        status=item.status_code,
        status_color=fmt.status_color(item.status_code),
        username=item.username or "admin token",
        model=item.model or "",
        real_model=item.real_model if item.real_model and item.real_model != item.model else "",
        node=item.node or "",
        source=item.source or "",
        endpoint=item.endpoint,
        stream=item.stream,
        tokens=f"{item.total_tokens:,}",
        estimated=item.estimated,
        duration=fmt.duration(item.duration_ms),
        error=(item.error or "")[:300],
    )


def detail_fields(item: ActivityItem) -> list[DetailField]:
    """Every field of a record, as the detail view lists them."""
    tokens = f"{item.prompt_tokens:,} prompt + {item.completion_tokens:,} completion = {item.total_tokens:,}"
    pairs = [
        ("Request id", item.request_id),
        ("Time", fmt.when(item.created_at, seconds=True)),
        ("Status", str(item.status_code)),
        ("User", item.username or "admin token"),
        ("Model (asked)", item.model or "–"),
        ("Model (served)", item.real_model or "–"),
        ("Node", item.node or "–"),
        ("Endpoint", item.endpoint),
        ("Source", item.source or "–"),
        ("Streamed", "yes" if item.stream else "no"),
        ("Tokens", tokens + (" (estimated: the upstream gave no counts)" if item.estimated else "")),
        ("Duration", fmt.duration(item.duration_ms)),
        ("Time to first byte", fmt.duration(item.ttfb_ms)),
        ("Error", item.error or "–"),
    ]
    return [DetailField(label, value) for label, value in pairs]


class LogsState(FilteredList, AuthState):
    rows: list[LogRow] = []
    filters: dict[str, str] = dict.fromkeys(FILTER_NAMES, "")

    # Suggestions for the free-text filters.
    user_names: list[str] = []
    model_names: list[str] = []
    node_names: list[str] = []

    detail_open: bool = False
    detail_id: str = ""
    detail: list[DetailField] = []

    def _filters_from(self, values: dict[str, Any]) -> dict[str, str]:
        return filters_from(values)

    async def _query(self, filters: dict[str, str], offset: int) -> Page[ActivityItem]:
        return await call_service(
            activity_query.list_activity, **query_arguments(filters), limit=PAGE_SIZE, offset=offset
        )

    async def _show(self, filters: dict[str, str], offset: int) -> None:
        arguments = query_arguments(filters)
        filters = {**filters, "start": moment_text(arguments["start"]), "end": moment_text(arguments["end"])}
        page = await self._query(filters, offset)
        if not page.items and offset > 0:  # fewer rows than before: back to the last page
            offset = self._last_page_offset(page.total)
            page = await self._query(filters, offset)
        self.filters = filters
        self.offset = offset
        self.rows = [log_row(item) for item in page.items]
        self.total = page.total
        self.loaded = True

    async def _load_suggestions(self) -> None:
        self.user_names, self.node_names = await call_service(user_and_node_names)
        self.model_names = [c.name for c in model_catalog() if c.kind == "model"][:SUGGESTIONS]

    @admin_event
    async def load(self) -> list[EventSpec] | None:
        self.detail_open = False
        params = dict(self.router.url.query_parameters)
        await self._load_suggestions()
        toasts: list[EventSpec] = []
        shown = dict(self.filters)
        try:
            await self._show(filters_from(params), 0)
        except INPUT_ERRORS as exc:
            toasts.append(failure_toast(exc))
            await self._show(filters_from({}), 0)
        self._remount_if_changed(shown)
        request_id = str(params.get("request") or "").strip()[:64]
        if request_id:
            opened = await self._open(request_id)
            if opened is not None:
                toasts.append(opened)
        return toasts or None

    @admin_event
    async def refresh(self) -> None:
        await self._show(self.filters, self.offset)

    # -- detail ------------------------------------------------------------------------

    async def _open(self, request_id: str) -> EventSpec | None:
        try:
            item = await call_service(activity_query.get_activity, request_id=request_id)
        except INPUT_ERRORS as exc:
            return failure_toast(exc)
        self.detail_id = item.request_id
        self.detail = detail_fields(item)
        self.detail_open = True
        return None

    @admin_event
    async def open_detail(self, request_id: str) -> EventSpec | None:
        return await self._open(request_id)

    @admin_event
    def set_detail_open(self, is_open: bool) -> None:
        self.detail_open = is_open
