"""How numbers and moments read on the dashboard. Pure functions."""

from __future__ import annotations

from datetime import UTC, datetime


def context_label(tokens: int | None, *, suffix: str = " ctx") -> str:
    """131072 → "128K ctx", 128000 → "128K ctx", 1048576 → "1M ctx", 3000 → "3K ctx"."""
    if not tokens:
        return ""
    for unit, letter in ((1_000_000, "M"), (1 << 20, "M"), (1000, "K"), (1 << 10, "K")):
        if tokens >= unit and tokens % unit == 0:
            return f"{tokens // unit}{letter}{suffix}"
    return f"{tokens:,}{suffix}"


def when(moment: datetime | None, *, never: str = "never", seconds: bool = False) -> str:
    if moment is None:
        return never
    if moment.tzinfo is None:  # SQLite hands back naive datetimes; we store UTC
        moment = moment.replace(tzinfo=UTC)
    pattern = "%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC"
    return moment.astimezone(UTC).strftime(pattern)


def clock(moment: datetime | None = None) -> str:
    """The time of day of `moment` (default: now), for "updated at" labels."""
    return (moment or datetime.now(UTC)).astimezone(UTC).strftime("%H:%M:%S UTC")


def byte_size(size: int | None) -> str:
    """4_000_000_000 → "3.7 GiB"; None → ""."""
    if size is None or size < 0:
        return ""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def count(value: int | None, *, none: str = "unlimited") -> str:
    """A daily limit: 10000 → "10,000"; None → "unlimited"."""
    return none if value is None else f"{value:,}"


def compact(value: int | float | None) -> str:
    """1234 → "1.2K", 5_600_000 → "5.6M", 999 → "999" (chart cards and rankings)."""
    if value is None:
        return "–"
    number = float(value)
    for limit, letter in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(number) >= limit:
            scaled = number / limit
            text = f"{scaled:.1f}" if abs(scaled) < 100 else f"{scaled:.0f}"
            return text.removesuffix(".0") + letter
    return f"{number:.0f}"


def percent(rate: float | None) -> str:
    """0.0253 → "2.5%"; 0 → "0%"; a rate under 0.1 % but above 0 → "<0.1%"."""
    if not rate:
        return "0%"
    if rate < 0.001:
        return "<0.1%"
    return f"{rate * 100:.1f}".removesuffix(".0") + "%"


def duration(ms: float | None) -> str:
    """120.4 → "120 ms"; 1530 → "1.53 s"; None → "–"."""
    if ms is None:
        return "–"
    if ms < 1000:
        return f"{ms:.0f} ms"
    return f"{ms / 1000:.2f} s"


# HTTP status class → Radix colour of its badge.
STATUS_COLORS: dict[int, str] = {2: "grass", 3: "blue", 4: "amber", 5: "tomato"}


def status_color(code: int) -> str:
    return STATUS_COLORS.get(code // 100, "gray")
