"""Grafana Assistant chats and their messages (SPEC §2.5), stored per user.

`grafana_chats` belongs to a user (deleted with the user); `grafana_chat_messages` to a chat
(deleted with the chat), ordered by `seq`. Plain tables on both backends: no triggers.

Revision ID: 0003_grafana
Revises: 0002_activity_indexes
Create Date: 2026-12-06 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "0003_grafana"
down_revision: str | None = "0002_activity_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "grafana_chats",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=512), nullable=False),
        sa.Column("origin", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("grafana_chats", schema=None) as batch_op:
        batch_op.create_index("ix_grafana_chats_user_updated", ["user_id", "updated_at"], unique=False)

    op.create_table(
        "grafana_chat_messages",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("chat_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("stop_reason", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("usage", sa.JSON(), nullable=True),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=True),
        sa.Column("request_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["chat_id"], ["grafana_chats.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("seq"),
    )
    with op.batch_alter_table("grafana_chat_messages", schema=None) as batch_op:
        batch_op.create_index("ix_grafana_chat_messages_chat_seq", ["chat_id", "seq"], unique=False)
        batch_op.create_index("ix_grafana_chat_messages_id", ["id"], unique=True)


def downgrade() -> None:
    op.drop_table("grafana_chat_messages")
    op.drop_table("grafana_chats")
