"""Exact totals for the request log without counting a million rows.

The log's page itself is cheap at any size (newest first along a `(filter, created_at)`
index, stopping after `limit` rows); its `total` is what costs. Each filter combination is
counted the cheapest exact way:

    no column filter              the hourly rollup for the whole hours of the time range,
                                  the ledger only for the partial hours at its two edges
    status alone, holding 200     the same total minus the records outside the status range
                                  (successes are the bulk of the traffic, the rest is small)
    model                         display name OR real name as two disjoint counts, each on
                                  its own index (index-only on PostgreSQL)
    anything else                 one COUNT over the filtered ledger, carried by the
                                  `(column, created_at)` index of the filter
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_
from sqlalchemy import select as sa_select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from maestro_app.db.models import ActivityHourly, ActivityRecord
from maestro_app.services.time_buckets import floor_to

HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class ActivityFilter:
    """The request log's filters; `end` is exclusive, `status` an inclusive code range."""

    user: str | None = None
    model: str | None = None
    node: str | None = None
    source: str | None = None
    status: tuple[int, int] | None = None
    start: datetime | None = None
    end: datetime | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        """Every filter but `model`, whose OR is built by the caller."""
        found: list[ColumnElement[bool]] = []
        if self.user:
            found.append(col(ActivityRecord.username) == self.user)
        if self.node:
            found.append(col(ActivityRecord.node_name) == self.node)
        if self.source:
            found.append(col(ActivityRecord.source) == self.source)
        if self.status:
            found.append(col(ActivityRecord.status_code).between(*self.status))
        return found + self.time_conditions()

    def time_conditions(self) -> list[ColumnElement[bool]]:
        created = col(ActivityRecord.created_at)
        found: list[ColumnElement[bool]] = []
        if self.start is not None:
            found.append(created >= self.start)
        if self.end is not None:
            found.append(created < self.end)
        return found

    def model_condition(self) -> ColumnElement[bool] | None:
        if not self.model:
            return None
        return or_(col(ActivityRecord.model) == self.model, col(ActivityRecord.real_model) == self.model)


def _count(session: Session, *conditions: ColumnElement[bool]) -> int:
    return int(
        session.execute(sa_select(func.count()).select_from(ActivityRecord).where(*conditions)).scalar_one()
    )


def _ceil_hour(moment: datetime) -> datetime:
    floor = floor_to(moment, "hour")
    return floor if floor == moment else floor + HOUR


def count_in_range(session: Session, start: datetime | None, end: datetime | None) -> int:
    """Records with `start <= created_at < end` (either side open)."""
    first = _ceil_hour(start) if start is not None else None
    last = floor_to(end, "hour") if end is not None else None
    created = col(ActivityRecord.created_at)
    if first is not None and last is not None and first >= last:
        # No whole hour inside: the range is a piece of at most two hours of the ledger.
        return _count(session, *ActivityFilter(start=start, end=end).time_conditions())
    bucket = col(ActivityHourly.bucket)
    whole = sa_select(func.coalesce(func.sum(col(ActivityHourly.requests)), 0))
    if first is not None:
        whole = whole.where(bucket >= first)
    if last is not None:
        whole = whole.where(bucket < last)
    total = int(session.execute(whole).scalar_one())
    if start is not None and first is not None and start < first:
        total += _count(session, created >= start, created < first)
    if end is not None and last is not None and last < end:
        total += _count(session, created >= last, created < end)
    return total


def count_activity(session: Session, filters: ActivityFilter) -> int:
    has_columns = any((filters.user, filters.model, filters.node, filters.source))
    if not has_columns and filters.status is None:
        return count_in_range(session, filters.start, filters.end)
    if not has_columns and filters.status is not None and filters.status[0] <= 200 <= filters.status[1]:
        low, high = filters.status
        status = col(ActivityRecord.status_code)
        times = filters.time_conditions()
        outside = _count(session, status < low, *times) + _count(session, status > high, *times)
        return count_in_range(session, filters.start, filters.end) - outside
    conditions = filters.conditions()
    if not filters.model:
        return _count(session, *conditions)
    model, real_model = col(ActivityRecord.model), col(ActivityRecord.real_model)
    return _count(session, model == filters.model, *conditions) + _count(
        session,
        real_model == filters.model,
        or_(model != filters.model, model.is_(None)),
        *conditions,
    )
