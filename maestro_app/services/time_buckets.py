"""Time windows of the dashboard and the SQL that puts a timestamp into its bucket.

    Period "24h"   24 hourly buckets, the last one the current (partial) hour
    Period "7d"    7 daily buckets (UTC days), the last one today
    Period "30d"   30 daily buckets

`bucket_start` is the one place that knows how each database truncates a timestamp:
PostgreSQL stores `timestamptz` (truncated in UTC whatever the session time zone), SQLite
stores UTC text `YYYY-MM-DD HH:MM:SS.ffffff` (truncated with `strftime`, which keeps the
text sortable). Both answer the bucket's start; `as_bucket` turns either into an aware UTC
datetime.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import func, literal_column
from sqlalchemy.orm import Mapped
from sqlalchemy.sql.elements import ColumnElement

Period = Literal["24h", "7d", "30d"]
Unit = Literal["hour", "day"]

_PERIODS: dict[str, tuple[Unit, int]] = {"24h": ("hour", 24), "7d": ("day", 7), "30d": ("day", 30)}
_STEP: dict[Unit, timedelta] = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
_SQLITE_FORMAT: dict[Unit, str] = {"hour": "%Y-%m-%d %H:00:00", "day": "%Y-%m-%d 00:00:00"}


@dataclass(frozen=True, slots=True)
class Window:
    """`[start, end)` cut into `len(buckets)` buckets of one `unit` each."""

    period: Period
    unit: Unit
    start: datetime
    end: datetime
    buckets: tuple[datetime, ...]


def floor_to(moment: datetime, unit: Unit) -> datetime:
    moment = moment.astimezone(UTC)
    if unit == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def window(period: Period, *, now: datetime) -> Window:
    unit, count = _PERIODS[period]
    step = _STEP[unit]
    end = floor_to(now, unit) + step
    start = end - count * step
    return Window(period, unit, start, end, tuple(start + i * step for i in range(count)))


def today(*, now: datetime) -> tuple[datetime, datetime]:
    """The current UTC day, `[midnight, next midnight)`."""
    start = floor_to(now, "day")
    return start, start + timedelta(days=1)


def bucket_start(
    column: Mapped[datetime] | ColumnElement[datetime], *, unit: Unit, dialect: str
) -> ColumnElement[object]:
    """SQL for the start of the bucket that `column` falls into."""
    # Constants are inlined, not bound: the same expression appears in SELECT and GROUP BY,
    # and PostgreSQL only matches the two when they are textually equal.
    if dialect == "postgresql":
        return func.date_trunc(literal_column(f"'{unit}'"), func.timezone(literal_column("'UTC'"), column))
    if dialect == "sqlite":
        return func.strftime(literal_column(f"'{_SQLITE_FORMAT[unit]}'"), column)
    raise ValueError(f"no time buckets for the {dialect!r} database")


def as_bucket(value: object) -> datetime:
    """A bucket start as the database answers it (naive UTC datetime or SQLite text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise TypeError(f"not a bucket start: {value!r}")
    return value.replace(tzinfo=UTC) if value.utcoffset() is None else value.astimezone(UTC)
