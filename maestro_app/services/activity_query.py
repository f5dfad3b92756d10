"""Reading the activity log: filtered pages of records, and per-user usage reports."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from pydantic import BaseModel, ConfigDict
from sqlalchemy import case, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from maestro_app.db.models import ActivityRecord
from maestro_app.services.activity_count import ActivityFilter, count_activity
from maestro_app.services.common import Page
from maestro_app.services.errors import EntityNotFound, InvalidInput
from maestro_app.services.users import load_user

_STATUS_RE = re.compile(r"^(?:(?P<code>[1-5]\d\d)|(?P<cls>[1-5])xx)$", re.IGNORECASE)
MAX_USAGE_DAYS = 366


class ActivityItem(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    request_id: str
    # The client's X-Request-ID when it sent one (what its response and the logs show).
    client_request_id: str | None = None
    username: str | None
    model: str | None
    real_model: str | None
    node: str | None
    endpoint: str
    source: str | None
    stream: bool
    status_code: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    estimated: bool
    duration_ms: float
    ttfb_ms: float | None
    error: str | None
    created_at: datetime

    @classmethod
    def from_record(cls, record: ActivityRecord) -> ActivityItem:
        data = record.model_dump()
        data["node"] = record.node_name
        return cls.model_validate(data)


class UsageTotals(BaseModel):
    requests: int = 0
    errors: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class ModelUsage(UsageTotals):
    model: str | None


class UsageReport(BaseModel):
    username: str
    start: date
    end: date
    totals: UsageTotals
    models: list[ModelUsage]


def as_utc(value: datetime) -> datetime:
    """Naive datetimes from query strings are read as UTC."""
    return value.replace(tzinfo=UTC) if value.utcoffset() is None else value


def status_range(status: str) -> tuple[int, int]:
    """`"404"` -> (404, 404); `"5xx"` -> (500, 599)."""
    match = _STATUS_RE.match(status.strip())
    if match is None:
        raise InvalidInput(f"status {status!r} is not a code like 404 or a class like 5xx")
    if match.group("code"):
        code = int(match.group("code"))
        return code, code
    base = int(match.group("cls")) * 100
    return base, base + 99


def list_activity(
    *,
    session: Session,
    user: str | None = None,
    model: str | None = None,
    node: str | None = None,
    source: str | None = None,
    status: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[ActivityItem]:
    """Newest first. `model` matches the display or the real name; `end` is exclusive.
    `total` is exact (see `services.activity_count` for how it stays cheap)."""
    if start is not None and end is not None and as_utc(end) <= as_utc(start):
        raise InvalidInput("end must be after start")
    filters = ActivityFilter(
        user=user or None,
        model=model or None,
        node=node or None,
        source=source or None,
        status=status_range(status) if status else None,
        start=None if start is None else as_utc(start),
        end=None if end is None else as_utc(end),
    )
    conditions = filters.conditions()
    by_model = filters.model_condition()
    if by_model is not None:
        conditions.append(by_model)
    statement = (
        select(ActivityRecord)
        .where(*conditions)
        .order_by(col(ActivityRecord.created_at).desc(), col(ActivityRecord.id).desc())
        .limit(limit)
        .offset(offset)
    )
    items = [ActivityItem.from_record(r) for r in session.exec(statement).all()]
    total = count_activity(session, filters)
    return Page[ActivityItem](items=items, total=total, limit=limit, offset=offset)


def get_activity(*, session: Session, request_id: str) -> ActivityItem:
    """One record by the request id the gateway returned in `X-Request-ID` (the log's
    detail view, and what a user quoting a failed request gives the admin)."""
    record = session.exec(select(ActivityRecord).where(ActivityRecord.request_id == request_id)).first()
    if record is None:
        raise EntityNotFound(f"No request {request_id!r} in the activity log")
    return ActivityItem.from_record(record)


def user_usage(
    *, session: Session, username: str, start: date | None = None, end: date | None = None
) -> UsageReport:
    """Requests and tokens of one user per model over whole UTC days, `end` included.
    Both default to today (UTC)."""
    user = load_user(session, username)
    today = datetime.now(UTC).date()
    start = start or end or today
    end = end or max(start, today)
    if end < start:
        raise InvalidInput("end must not be before start")
    if end >= date.max:
        raise InvalidInput("end is out of range")
    if (end - start).days >= MAX_USAGE_DAYS:
        raise InvalidInput(f"a usage report covers at most {MAX_USAGE_DAYS} days")
    since = datetime.combine(start, time.min, tzinfo=UTC)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
    is_error = col(ActivityRecord.status_code) >= 400
    statement = (
        sa_select(
            col(ActivityRecord.model),
            func.count(),
            func.coalesce(func.sum(case((is_error, 1), else_=0)), 0),
            func.coalesce(func.sum(col(ActivityRecord.prompt_tokens)), 0),
            func.coalesce(func.sum(col(ActivityRecord.completion_tokens)), 0),
            func.coalesce(func.sum(col(ActivityRecord.total_tokens)), 0),
        )
        .where(col(ActivityRecord.user_id) == user.id)
        .where(col(ActivityRecord.created_at) >= since)
        .where(col(ActivityRecord.created_at) < until)
        .group_by(col(ActivityRecord.model))
    )
    models = [
        ModelUsage(
            model=name,
            requests=int(n),
            errors=int(errors or 0),
            prompt_tokens=int(p),
            completion_tokens=int(c),
            total_tokens=int(t),
        )
        for name, n, errors, p, c, t in session.execute(statement).all()
    ]
    models.sort(key=lambda m: (-m.total_tokens, -m.requests, m.model or ""))
    totals = UsageTotals(
        requests=sum(m.requests for m in models),
        errors=sum(m.errors for m in models),
        prompt_tokens=sum(m.prompt_tokens for m in models),
        completion_tokens=sum(m.completion_tokens for m in models),
        total_tokens=sum(m.total_tokens for m in models),
    )
    return UsageReport(username=user.username, start=start, end=end, totals=totals, models=models)
