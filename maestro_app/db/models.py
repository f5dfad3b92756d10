"""SQLModel tables. Plain tables only (no rx.Model): the gateway never imports Reflex.

Hot-path code never reads these rows directly; `services.snapshot` turns them into the
immutable routing snapshot. JSON columns hold small lists/dicts that are always read whole.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from maestro_app.db.secrets import EncryptedText, EncryptedValuesJSON


def utcnow() -> datetime:
    return datetime.now(UTC)


def json_list() -> Any:
    return Field(default_factory=list, sa_column=Column(JSON, nullable=False))


def json_dict() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(index=True, unique=True, max_length=128)
    is_active: bool = True
    # sha256 hex of the current token's jti; rotating replaces it, so old tokens die.
    token_jti_hash: str | None = Field(default=None, max_length=64)
    token_issued_at: datetime | None = None
    token_expires_at: datetime | None = None
    all_models: bool = False
    allowed_models: list[str] = json_list()
    request_limit: int | None = None
    token_limit: int | None = None
    can_manage_models: bool = False
    description: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Node(SQLModel, table=True):
    __tablename__ = "nodes"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=128)
    code: str | None = Field(default=None, unique=True, max_length=64)
    base_url: str = Field(max_length=512)
    node_type: str = Field(default="ollama", max_length=16)  # ollama | vllm
    # Encrypted at rest (db/secrets.py); plaintext only in memory once loaded.
    api_key: str | None = Field(default=None, sa_column=Column(EncryptedText, nullable=True))
    headers: dict[str, str] = Field(
        default_factory=dict, sa_column=Column(EncryptedValuesJSON, nullable=False)
    )
    # Higher priority is preferred by the `priority` strategy (dashboard order = top first).
    priority: int = 0
    weight: int = 1
    is_active: bool = True
    warmup_enabled: bool = False
    health_check_url: str | None = Field(default=None, max_length=512)
    health_status: str = Field(default="unknown", max_length=16)
    last_health_check: datetime | None = None
    consecutive_failures: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class NodeModel(SQLModel, table=True):
    __tablename__ = "node_models"
    __table_args__ = (UniqueConstraint("node_id", "name", name="uq_node_models_node_name"),)

    id: int | None = Field(default=None, primary_key=True)
    node_id: int = Field(foreign_key="nodes.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=256)
    # Availability as discovered; an admin's choice (override) wins when set.
    is_present: bool = True
    availability_override: bool | None = None
    size: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    family: str | None = Field(default=None, max_length=128)
    parameter_size: str | None = Field(default=None, max_length=32)
    quantization: str | None = Field(default=None, max_length=32)
    context_length: int | None = None
    capabilities: list[str] = json_list()
    details: dict[str, Any] = json_dict()
    last_seen_at: datetime = Field(default_factory=utcnow)

    @property
    def is_available(self) -> bool:
        if self.availability_override is not None:
            return self.availability_override
        return self.is_present


class ModelMapping(SQLModel, table=True):
    __tablename__ = "model_mappings"

    id: int | None = Field(default=None, primary_key=True)
    display_name: str = Field(index=True, max_length=256)
    real_name: str = Field(max_length=256)
    # Empty list = global mapping; otherwise the mapping applies only on these nodes.
    node_ids: list[int] = json_list()
    context_length: int | None = None
    capabilities: list[str] = json_list()
    description: str | None = None
    is_active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ModelGroup(SQLModel, table=True):
    __tablename__ = "model_groups"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=256)
    strategy: str = Field(default="priority", max_length=32)
    description: str | None = None
    list_in_catalog: bool = False
    max_failover_retries: int = 2
    is_active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ModelGroupMember(SQLModel, table=True):
    __tablename__ = "model_group_members"

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="model_groups.id", index=True, ondelete="CASCADE")
    model_display_name: str = Field(max_length=256)
    # Lower number first.
    priority: int = 0
    weight: int = 1
    capability_tags: list[str] = json_list()
    preferred_node_ids: list[int] = json_list()
    context_length: int | None = None
    is_active: bool = True


class ModelConfig(SQLModel, table=True):
    __tablename__ = "model_configs"

    id: int | None = Field(default=None, primary_key=True)
    model_prefix: str = Field(index=True, unique=True, max_length=256)
    allowed_tools: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    tool_set: str | None = Field(default=None, max_length=128)
    unsupported_params: list[str] = json_list()
    maintenance_mode: bool = False
    description: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ToolSet(SQLModel, table=True):
    __tablename__ = "tool_sets"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=128)
    # None = every tool allowed.
    tools: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    description: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class SystemPrompt(SQLModel, table=True):
    __tablename__ = "system_prompts"

    id: int | None = Field(default=None, primary_key=True)
    scope_type: str = Field(max_length=16)  # user | node | group | model | mapping
    scope_value: str = Field(max_length=256)
    prompt: str = Field(sa_column=Column(Text, nullable=False))
    priority: int = 0
    is_active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Setting(SQLModel, table=True):
    __tablename__ = "settings"

    key: str = Field(primary_key=True, max_length=64)
    value: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    updated_at: datetime = Field(default_factory=utcnow)


class ActivityRecord(SQLModel, table=True):
    """One request that reached routing. Written by the ledger, never updated; deleted by
    retention. Database triggers (migration 0002) keep `ActivityHourly` and
    `ActivityHourlyUser` equal to its aggregates."""

    __tablename__ = "activity_records"
    __table_args__ = (
        # The log's order (newest first, `id` breaking ties) without a sort (migration 0007).
        Index("ix_activity_created_at_id", "created_at", "id"),
        # Usage reports read only these columns: an index-only scan on PostgreSQL.
        Index(
            "ix_activity_user_created",
            "user_id",
            "created_at",
            postgresql_include=["model", "status_code", "prompt_tokens", "completion_tokens", "total_tokens"],
        ),
        # The request log's filters, each with the time order it is read in.
        Index("ix_activity_username_created", "username", "created_at"),
        Index("ix_activity_model_created", "model", "created_at"),
        Index("ix_activity_real_model_created", "real_model", "created_at", postgresql_include=["model"]),
        Index("ix_activity_node_created", "node_name", "created_at"),
        Index("ix_activity_source_created", "source", "created_at"),
        Index("ix_activity_status_created", "status_code", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # The gateway's own id: unique, it keys the idempotent ledger.
    request_id: str = Field(index=True, unique=True, max_length=64)
    # The client's `X-Request-ID` when it sent a usable one (echoed back and logged instead
    # of ours); not unique: clients may repeat theirs.
    client_request_id: str | None = Field(default=None, max_length=128)
    user_id: int | None = None
    username: str | None = Field(default=None, max_length=128)
    model: str | None = Field(default=None, max_length=256)
    real_model: str | None = Field(default=None, max_length=256)
    node_id: int | None = None
    node_name: str | None = Field(default=None, max_length=128)
    endpoint: str = Field(max_length=128)
    source: str | None = Field(default=None, max_length=64)
    stream: bool = False
    status_code: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    estimated: bool = False
    duration_ms: float = 0.0
    ttfb_ms: float | None = None
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow)


class ActivityHourly(SQLModel, table=True):
    """The activity ledger summed per UTC hour and display model (`""` for none).

    Maintained by triggers on `activity_records` in the same transaction as each insert,
    delete or update (migration 0002), so it always equals `GROUP BY hour, model` over the
    ledger; the dashboard reads it instead of scanning the ledger."""

    __tablename__ = "activity_hourly"

    bucket: datetime = Field(primary_key=True)
    model: str = Field(default="", primary_key=True, max_length=256)
    requests: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    errors: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    prompt_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    completion_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    total_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    duration_ms: float = 0.0  # sum


class ActivityHourlyUser(SQLModel, table=True):
    """The activity ledger summed per UTC hour and username (`""` for none); kept like
    `ActivityHourly`."""

    __tablename__ = "activity_hourly_users"

    bucket: datetime = Field(primary_key=True)
    username: str = Field(default="", primary_key=True, max_length=128)
    requests: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    errors: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    total_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))


class AuditRecord(SQLModel, table=True):
    __tablename__ = "audit_records"

    id: int | None = Field(default=None, primary_key=True)
    actor: str = Field(max_length=128)
    action: str = Field(index=True, max_length=64)
    entity_type: str = Field(index=True, max_length=64)
    entity_id: str | None = Field(default=None, max_length=256)
    details: dict[str, Any] = json_dict()
    created_at: datetime = Field(default_factory=utcnow, index=True)


class NodeHealthEvent(SQLModel, table=True):
    __tablename__ = "node_health_events"

    id: int | None = Field(default=None, primary_key=True)
    node_id: int = Field(foreign_key="nodes.id", index=True, ondelete="CASCADE")
    old_status: str = Field(max_length=16)
    new_status: str = Field(max_length=16)
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, index=True)


class DashboardAdmin(SQLModel, table=True):
    __tablename__ = "dashboard_admins"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(index=True, unique=True, max_length=128)
    password_hash: str = Field(max_length=256)
    is_active: bool = True
    last_login_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class GrafanaChat(SQLModel, table=True):
    """A Grafana Assistant conversation (SPEC §2.5), owned by the user whose token made it.

    The id is a random hex string: the plugin handles chat ids as opaque strings, and ids
    that cannot be guessed do not reveal how many chats other users have."""

    __tablename__ = "grafana_chats"
    __table_args__ = (Index("ix_grafana_chats_user_updated", "user_id", "updated_at"),)

    id: str = Field(primary_key=True, max_length=32)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE")
    name: str = Field(max_length=512)
    origin: str | None = Field(default=None, max_length=128)
    archived: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class GrafanaChatMessage(SQLModel, table=True):
    """One message of a Grafana Assistant chat; `seq` keeps the conversation's order.

    `content` holds the message's parts as the plugin sees them (`[{"type": "text", "text":
    ...}, {"type": "tool_use", ...}]`); assistant answers also keep why they stopped, their
    token usage and the activity record (`request_id`) of the request that produced them."""

    __tablename__ = "grafana_chat_messages"
    __table_args__ = (Index("ix_grafana_chat_messages_chat_seq", "chat_id", "seq"),)

    seq: int | None = Field(default=None, primary_key=True)
    id: str = Field(index=True, unique=True, max_length=32)
    chat_id: str = Field(foreign_key="grafana_chats.id", ondelete="CASCADE", max_length=32)
    role: str = Field(max_length=16)  # user | assistant | system | tool
    content: list[dict[str, Any]] = json_list()
    stop_reason: str | None = Field(default=None, max_length=32)
    usage: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    model: str | None = Field(default=None, max_length=256)
    request_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
