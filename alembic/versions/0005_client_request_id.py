"""Activity records keep the client's own `X-Request-ID` (`client_request_id`).

`request_id` stays the gateway's unique id (the ledger's idempotency key); a client may send
the same id twice, so its id gets a column of its own.

Revision ID: 0005_client_request_id
Revises: 0004_encrypt_secrets
Create Date: 2026-12-02 10:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0005_client_request_id"
down_revision: str | None = "0004_encrypt_secrets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("activity_records", sa.Column("client_request_id", sa.String(length=128), nullable=True))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite >= 3.35): a batch table copy would lose the rollup triggers.
    op.drop_column("activity_records", "client_request_id")
