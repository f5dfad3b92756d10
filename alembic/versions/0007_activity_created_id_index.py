"""The request log's time index also holds `id`, the log's tie-breaker.

The log is read `ORDER BY created_at DESC, id DESC`. With an index on `created_at` alone,
PostgreSQL walks it backwards and sorts every group of equal times by `id` (an incremental
sort over offset + limit rows): at offset 100,000 on a million rows the sort cost as much
as the scan. `(created_at, id)` gives the order itself. Retention's `created_at <` scans and
the edge counts of `services.activity_count` use it as they used the old one.

Revision ID: 0007_activity_created_id
Revises: 0006_sqlite_batch_rollups
Create Date: 2026-12-07 00:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007_activity_created_id"
down_revision: str | None = "0006_sqlite_batch_rollups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain CREATE/DROP INDEX, not batch mode: on SQLite a batch table copy would lose the rollup
# triggers of 0002.
def upgrade() -> None:
    op.create_index("ix_activity_created_at_id", "activity_records", ["created_at", "id"])
    op.drop_index("ix_activity_created_at", table_name="activity_records")


def downgrade() -> None:
    op.create_index("ix_activity_created_at", "activity_records", ["created_at"])
    op.drop_index("ix_activity_created_at_id", table_name="activity_records")
