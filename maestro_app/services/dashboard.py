"""The dashboard's numbers: totals, rankings, recent errors and time-bucketed charts.

Totals, rankings and charts are SQL aggregates over the hourly rollups of the ledger
(`ActivityHourly`, `ActivityHourlyUser`, kept equal to the ledger by database triggers), so
a 30-day chart sums at most 720 rows per model instead of scanning a month of requests;
every window is made of whole UTC hours, which the rollups answer exactly. Recent errors
come from the ledger itself. Buckets come from `services.time_buckets` and are zero-filled
here. An error is a record with a status of 400 or more (as in the usage reports).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from maestro_app.db.models import ActivityHourly, ActivityHourlyUser, ActivityRecord, Node
from maestro_app.services.activity_query import ActivityItem
from maestro_app.services.errors import InvalidInput
from maestro_app.services.time_buckets import (
    Period,
    Unit,
    Window,
    as_bucket,
    bucket_start,
    today,
    window,
)
from maestro_app.services.users import load_user

ChartKind = Literal["requests", "tokens", "models"]
RECENT_ERRORS = 10
MAX_TOP = 50
OTHER = "other"


class WindowTotals(BaseModel):
    start: datetime
    end: datetime = Field(description="exclusive")
    requests: int
    errors: int = Field(description="records with a status of 400 or more")
    error_rate: float = Field(description="errors / requests; 0 without requests")
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    active_users: int = Field(description="distinct users with at least one request")
    avg_duration_ms: float | None


class NodeCounts(BaseModel):
    total: int
    active: int
    inactive: int
    healthy: int = Field(description="active nodes whose last health check passed")
    unhealthy: int
    unknown: int = Field(description="active nodes not checked yet")


class ModelRank(BaseModel):
    model: str | None
    requests: int
    total_tokens: int


class UserRank(BaseModel):
    username: str | None
    requests: int
    total_tokens: int


class DashboardStats(BaseModel):
    generated_at: datetime
    period: Period
    today: WindowTotals = Field(description="the current UTC day")
    last_period: WindowTotals = Field(description="the chart window of `period`, today included")
    nodes: NodeCounts
    top_models: list[ModelRank] = Field(description="display models by requests over the period")
    top_users: list[UserRank] = Field(description="users by requests over the period")
    recent_errors: list[ActivityItem] = Field(description="newest failed requests of the period")


class ChartSeries(BaseModel):
    name: str
    values: list[int] = Field(description="one value per bucket, zero-filled")
    total: int
    other: bool = Field(False, description="true for the series that sums the models outside the top")


class Chart(BaseModel):
    chart: ChartKind
    period: Period
    unit: Unit
    start: datetime
    end: datetime = Field(description="exclusive")
    buckets: list[datetime] = Field(description="bucket starts (UTC), oldest first")
    series: list[ChartSeries]


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC)


def _hours(bucket: Any, start: datetime, end: datetime) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return bucket >= start, bucket < end


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _sum(column: Any) -> ColumnElement[Any]:
    return func.coalesce(func.sum(column), 0)


def users_by_requests(*, session: Session, start: datetime, end: datetime) -> list[UserRank]:
    """Every user active in `[start, end)`, busiest first. Requests without a user (the admin
    token) are left out."""
    key = col(ActivityHourlyUser.username)
    requests = func.sum(col(ActivityHourlyUser.requests)).label("requests")
    statement = (
        sa_select(key, requests, _sum(col(ActivityHourlyUser.total_tokens)))
        .where(*_hours(col(ActivityHourlyUser.bucket), start, end), key != "")
        .group_by(key)
        .order_by(requests.desc(), key)
    )
    return [
        UserRank(username=u, requests=int(n), total_tokens=int(t))
        for u, n, t in session.execute(statement).all()
    ]


def window_totals(
    *, session: Session, start: datetime, end: datetime, users: list[UserRank] | None = None
) -> WindowTotals:
    """Totals of `[start, end)`, both on whole UTC hours; `users` is what
    `users_by_requests` answers for the same window, when the caller has it already."""
    statement = sa_select(
        _sum(col(ActivityHourly.requests)),
        _sum(col(ActivityHourly.errors)),
        _sum(col(ActivityHourly.prompt_tokens)),
        _sum(col(ActivityHourly.completion_tokens)),
        _sum(col(ActivityHourly.total_tokens)),
        _sum(col(ActivityHourly.duration_ms)),
    ).where(*_hours(col(ActivityHourly.bucket), start, end))
    requests, errors, prompt, completion, total, duration = session.execute(statement).one()
    if users is None:
        users = users_by_requests(session=session, start=start, end=end)
    requests, errors = int(requests), int(errors)
    return WindowTotals(
        start=start,
        end=end,
        requests=requests,
        errors=errors,
        error_rate=round(errors / requests, 6) if requests else 0.0,
        prompt_tokens=int(prompt),
        completion_tokens=int(completion),
        total_tokens=int(total),
        active_users=len(users),
        avg_duration_ms=round(float(duration) / requests, 3) if requests else None,
    )


def top_models(*, session: Session, start: datetime, end: datetime, top: int) -> list[ModelRank]:
    key = col(ActivityHourly.model)
    requests = func.sum(col(ActivityHourly.requests)).label("requests")
    statement = (
        sa_select(key, requests, _sum(col(ActivityHourly.total_tokens)))
        .where(*_hours(col(ActivityHourly.bucket), start, end))
        .group_by(key)
        .order_by(requests.desc(), key)
        .limit(top)
    )
    return [
        ModelRank(model=m or None, requests=int(n), total_tokens=int(t))
        for m, n, t in session.execute(statement).all()
    ]


def recent_errors(*, session: Session, start: datetime, end: datetime, limit: int) -> list[ActivityItem]:
    created = col(ActivityRecord.created_at)
    statement = (
        select(ActivityRecord)
        .where(col(ActivityRecord.status_code) >= 400, created >= start, created < end)
        .order_by(created.desc(), col(ActivityRecord.id).desc())
        .limit(limit)
    )
    return [ActivityItem.from_record(r) for r in session.exec(statement).all()]


def node_counts(*, session: Session) -> NodeCounts:
    statement = sa_select(col(Node.is_active), col(Node.health_status), func.count()).group_by(
        col(Node.is_active), col(Node.health_status)
    )
    counts: dict[str, int] = defaultdict(int)
    for is_active, health, n in session.execute(statement).all():
        counts["total"] += n
        if not is_active:
            counts["inactive"] += n
            continue
        counts["active"] += n
        counts[health if health in ("healthy", "unhealthy") else "unknown"] += n
    return NodeCounts(
        total=counts["total"],
        active=counts["active"],
        inactive=counts["inactive"],
        healthy=counts["healthy"],
        unhealthy=counts["unhealthy"],
        unknown=counts["unknown"],
    )


def dashboard_stats(
    *, session: Session, period: Period = "7d", top: int = 5, now: datetime | None = None
) -> DashboardStats:
    moment = _now(now)
    span = window(period, now=moment)
    day_start, day_end = today(now=moment)
    users = users_by_requests(session=session, start=span.start, end=span.end)
    return DashboardStats(
        generated_at=moment,
        period=period,
        today=window_totals(session=session, start=day_start, end=day_end),
        last_period=window_totals(session=session, start=span.start, end=span.end, users=users),
        nodes=node_counts(session=session),
        top_models=top_models(session=session, start=span.start, end=span.end, top=top),
        top_users=users[:top],
        recent_errors=recent_errors(session=session, start=span.start, end=span.end, limit=RECENT_ERRORS),
    )


def _series(
    name: str, by_bucket: dict[datetime, int], buckets: Sequence[datetime], other: bool = False
) -> ChartSeries:
    values = [int(by_bucket.get(b, 0)) for b in buckets]
    return ChartSeries(name=name, values=values, total=sum(values), other=other)


def chart(
    *,
    session: Session,
    kind: ChartKind,
    period: Period = "7d",
    top: int = 5,
    user: str | None = None,
    now: datetime | None = None,
) -> Chart:
    """Requests and errors, prompt/completion/total tokens, or requests per display model (the
    `top` busiest, the rest summed as one `other` series) per hour (24h) or UTC day (7d, 30d).

    With `user`, the requests and tokens of that one user, from the per-user rollup; it keeps
    no prompt/completion split, so a user's tokens chart has `total_tokens` only."""
    span = window(period, now=_now(now))
    if user is not None:
        if kind == "models":
            raise InvalidInput("the models chart covers every user; ask for requests or tokens")
        load_user(session, user)  # EntityNotFound for a name no user has
    rows, names = _chart_rows(session, kind, span, user)
    series = (
        [
            _series(name, {as_bucket(r[0]): r[i] for r in rows}, span.buckets)
            for i, name in enumerate(names, start=1)
        ]
        if names
        else _model_series(rows, span.buckets, top)
    )
    return Chart(
        chart=kind,
        period=period,
        unit=span.unit,
        start=span.start,
        end=span.end,
        buckets=list(span.buckets),
        series=series,
    )


def _chart_rows(
    session: Session, kind: ChartKind, span: Window, user: str | None
) -> tuple[Sequence[Any], tuple[str, ...]]:
    """`(bucket, value per series...)` rows and the series names; for `models`, `(bucket,
    model, requests)` rows and no names."""
    table: type[ActivityHourly] | type[ActivityHourlyUser] = (
        ActivityHourly if user is None else ActivityHourlyUser
    )
    bucket = bucket_start(col(table.bucket), unit=span.unit, dialect=_dialect(session)).label("bucket")
    where = list(_hours(col(table.bucket), span.start, span.end))
    if user is not None:
        where.append(col(ActivityHourlyUser.username) == user)
    if kind == "requests":
        names: tuple[str, ...] = ("requests", "errors")
        columns = [col(table.requests), col(table.errors)]
    elif kind == "tokens" and user is not None:
        names, columns = ("total_tokens",), [col(ActivityHourlyUser.total_tokens)]
    elif kind == "tokens":
        names = ("prompt_tokens", "completion_tokens", "total_tokens")
        columns = [
            col(ActivityHourly.prompt_tokens),
            col(ActivityHourly.completion_tokens),
            col(ActivityHourly.total_tokens),
        ]
    else:
        model = col(ActivityHourly.model)
        per_model = sa_select(bucket, model, func.sum(col(ActivityHourly.requests)))
        return session.execute(per_model.where(*where).group_by(bucket, model)).all(), ()
    sums = sa_select(bucket, *(func.sum(c) for c in columns)).where(*where).group_by(bucket)
    return session.execute(sums).all(), names


def _model_series(rows: Sequence[Any], buckets: Sequence[datetime], top: int) -> list[ChartSeries]:
    per_model: dict[str, dict[datetime, int]] = defaultdict(lambda: defaultdict(int))
    for raw_bucket, model, n in rows:
        per_model[model][as_bucket(raw_bucket)] += int(n)
    ranked = sorted(per_model, key=lambda m: (-sum(per_model[m].values()), m))
    series = [_series(m, per_model[m], buckets) for m in ranked[:top]]
    rest: dict[datetime, int] = defaultdict(int)
    for m in ranked[top:]:
        for b, n in per_model[m].items():
            rest[b] += n
    if rest:
        series.append(_series(OTHER, rest, buckets, other=True))
    return series
