"""Audit trail: one record per admin mutation, written in the mutation's own transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import or_
from sqlmodel import Session, col, select

from maestro_app.db.models import AuditRecord, utcnow
from maestro_app.services.common import Page, paginate
from maestro_app.services.snapshot import bump_config_version

ADMIN_TOKEN_ACTOR = "admin-token"
# Keys whose values never reach the audit trail; `headers` keep their names only.
_SECRET_KEYS = frozenset(
    {"api_key", "token", "password", "password_hash", "jti", "jti_hash", "token_jti_hash", "secret"}
)


class AuditItem(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    actor: str
    action: str
    entity_type: str
    entity_id: str | None
    details: dict[str, Any]
    created_at: datetime


def redact(details: Any) -> Any:
    """A copy of `details` without secret values (secrets become `"***"` markers)."""
    if isinstance(details, dict):
        out: dict[str, Any] = {}
        for key, value in details.items():
            if key in _SECRET_KEYS:
                out[key] = None if value is None else "***"
            elif key == "headers" and isinstance(value, dict):
                out[key] = sorted(value)
            else:
                out[key] = redact(value)
        return out
    if isinstance(details, list | tuple):
        return [redact(v) for v in details]
    return details


def record_audit(
    *,
    session: Session,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: object | None = None,
    details: dict[str, Any] | None = None,
) -> AuditRecord:
    record = AuditRecord(
        actor=actor[:128],
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id)[:256],
        details=redact(details or {}),
    )
    session.add(record)
    return record


def list_audit(
    *,
    session: Session,
    action: str | None = None,
    entity_type: str | None = None,
    actor: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[AuditItem]:
    statement = select(AuditRecord)
    if action:
        # `user` matches every `user.*` action; `user.create` only itself.
        statement = statement.where(
            or_(
                col(AuditRecord.action) == action,
                col(AuditRecord.action).startswith(f"{action}.", autoescape=True),
            )
        )
    if entity_type:
        statement = statement.where(AuditRecord.entity_type == entity_type)
    if actor:
        statement = statement.where(AuditRecord.actor == actor)
    statement = statement.order_by(col(AuditRecord.created_at).desc(), col(AuditRecord.id).desc())
    return paginate(
        session,
        statement,
        limit=limit,
        offset=offset,
        convert=lambda rows: [AuditItem.model_validate(r) for r in rows],
    )


class AuditFacets(BaseModel):
    """The values the audit filters can take (the dashboard's choices)."""

    actions: list[str]
    entity_types: list[str]
    actors: list[str]


def audit_facets(*, session: Session, limit: int = 200) -> AuditFacets:
    """Distinct actions, entity types and actors of the trail, sorted. Admin mutations are
    few, so each is a small DISTINCT; `limit` bounds what a list can offer."""

    def distinct(column: Any) -> list[str]:
        statement = select(column).distinct().order_by(column).limit(limit)
        return [str(value) for value in session.exec(statement).all()]

    return AuditFacets(
        actions=distinct(col(AuditRecord.action)),
        entity_types=distinct(col(AuditRecord.entity_type)),
        actors=distinct(col(AuditRecord.actor)),
    )


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """`{field: {"old": ..., "new": ...}}` for the fields whose value differs."""
    return {
        key: {"old": before.get(key), "new": value}
        for key, value in after.items()
        if before.get(key) != value
    }


def save_audited(
    session: Session,
    row: Any,
    *,
    actor: str,
    action: str,
    entity_type: str,
    details: dict[str, Any],
    entity_id: Any = None,
) -> None:
    """Write a configuration row, its audit record and a config-version bump, in the
    caller's transaction (every admin write goes through here or `delete_audited`)."""
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    record_audit(
        session=session,
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=row.id if entity_id is None else entity_id,
        details=details,
    )
    bump_config_version(session)
    session.flush()


def delete_audited(
    session: Session, row: Any, *, actor: str, action: str, entity_type: str, details: dict[str, Any]
) -> None:
    record_audit(
        session=session,
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=row.id,
        details=details,
    )
    session.delete(row)
    bump_config_version(session)
    session.flush()
