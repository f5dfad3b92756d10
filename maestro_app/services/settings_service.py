"""Runtime settings (SPEC §5): defaults from `domain.snapshot.DEFAULT_SETTINGS`, overrides in
the `settings` table, applied without restart through the config version.

Job intervals (`*_interval_s`) are seconds, fractions allowed down to 0.1 s. `0` turns a
job off: discovery, warmup and retention may be off; the health check may not (a node
marked unhealthy would never be checked again, so it would never come back).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StringConstraints
from sqlmodel import Session

from maestro_app.db.models import Setting, utcnow
from maestro_app.domain.snapshot import DEFAULT_SETTINGS
from maestro_app.services.audit import record_audit
from maestro_app.services.common import TRIM, Body
from maestro_app.services.snapshot import bump_config_version, runtime_settings

Seconds = Annotated[int, Field(ge=1, le=30 * 86400)]
MIN_INTERVAL_S = 0.1
MAX_INTERVAL_S = 30 * 86400


def _interval_or_off(value: float) -> float:
    if 0 < value < MIN_INTERVAL_S:
        raise ValueError(f"must be 0 (off) or at least {MIN_INTERVAL_S} seconds")
    return value


def _plain_number(value: float) -> int | float:
    """Store 30.0 as 30: the settings read back as they were meant."""
    return int(value) if value.is_integer() else value


# A job interval in seconds; `JobInterval` may also be 0 (the job is off).
Interval = Annotated[
    float,
    Field(ge=MIN_INTERVAL_S, le=MAX_INTERVAL_S, allow_inf_nan=False),
    AfterValidator(_plain_number),
]
JobInterval = Annotated[
    float,
    Field(ge=0, le=MAX_INTERVAL_S, allow_inf_nan=False),
    AfterValidator(_interval_or_off),
    AfterValidator(_plain_number),
]
WaitSeconds = Annotated[float, Field(ge=0, le=3600, allow_inf_nan=False), AfterValidator(_plain_number)]


class SettingsUpdate(Body):
    """Any subset of the settings; unknown keys are refused."""

    non_nullable = frozenset(
        {
            "routing_strategy",
            "health_check_interval_s",
            "discovery_interval_s",
            "warmup_interval_s",
            "log_retention_days",
            "max_body_bytes",
            "default_context_length",
            "node_cooldown_s",
            "job_stream_wait_s",
            "retention_interval_s",
        }
    )

    routing_strategy: Literal["priority", "round_robin", "weighted", "least_busy"] | None = None
    health_check_interval_s: Interval | None = None
    discovery_interval_s: JobInterval | None = None
    warmup_interval_s: JobInterval | None = None
    retention_interval_s: JobInterval | None = None
    # How long discovery and warmup of a node wait for its open requests to finish
    job_stream_wait_s: WaitSeconds | None = None
    log_retention_days: Annotated[int, Field(ge=1, le=36500)] | None = None
    max_body_bytes: Annotated[int, Field(ge=1024, le=2**40)] | None = None
    default_context_length: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None
    node_cooldown_s: Seconds | None = None
    grafana_model: Annotated[str, StringConstraints(min_length=1, max_length=256), TRIM] | None = None


def get_settings(*, session: Session) -> dict[str, Any]:
    return runtime_settings(session)


def update_settings(*, session: Session, data: SettingsUpdate, actor: str) -> dict[str, Any]:
    """Store the given settings; audited and versioned only when something changed."""
    current = runtime_settings(session)
    changed = {
        key: {"old": current.get(key), "new": value}
        for key, value in data.given().items()
        if key in DEFAULT_SETTINGS and current.get(key) != value
    }
    for key, change in changed.items():
        row = session.get(Setting, key) or Setting(key=key)
        row.value = change["new"]
        row.updated_at = utcnow()
        session.add(row)
    if changed:
        record_audit(
            session=session,
            actor=actor,
            action="settings.update",
            entity_type="settings",
            details={"changes": changed},
        )
        bump_config_version(session)
    session.flush()
    return runtime_settings(session)
