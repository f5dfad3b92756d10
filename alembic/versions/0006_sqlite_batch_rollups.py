"""SQLite: the ledger's batches update the hourly rollups once per batch, not once per row.

The row trigger of 0002 ran two upserts for every inserted activity record: most of the
cost of a ledger flush, paid in the gateway worker's process. The trigger now stands aside
while the writer's transaction holds a row in `activity_rollup_deferred`; the ledger adds
that row, inserts its batch, sums the batch into the rollups with two grouped upserts and
removes the row before it commits (`maestro_app.stores.ledger`). Any other insert (no row
there) keeps the rollups exact through the trigger, as before.

PostgreSQL: only the (unused) table, so both databases have one schema; its statement
triggers work per batch already.

Revision ID: 0006_sqlite_batch_rollups
Revises: 0005_client_request_id
Create Date: 2026-12-07 00:10:00
"""

from collections.abc import Sequence
from types import ModuleType

import sqlalchemy as sa

from alembic import op
from maestro_app.db.migration_support import sibling_migration

revision: str = "0006_sqlite_batch_rollups"
down_revision: str | None = "0005_client_request_id"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFERRED_TABLE = "activity_rollup_deferred"


def _migration_0002() -> ModuleType:
    return sibling_migration("0002_activity_indexes_and_rollups.py")


def upgrade() -> None:
    op.create_table(
        DEFERRED_TABLE, sa.Column("id", sa.Integer(), nullable=False), sa.PrimaryKeyConstraint("id")
    )
    if op.get_bind().dialect.name != "sqlite":
        return
    op.get_bind().exec_driver_sql("DROP TRIGGER activity_rollup_insert")
    op.get_bind().exec_driver_sql(deferring_insert_trigger())


def deferring_insert_trigger() -> str:
    """The insert trigger that stands aside while `activity_rollup_deferred` has a row
    (also what 0008's downgrade restores)."""
    return (
        "CREATE TRIGGER activity_rollup_insert AFTER INSERT ON activity_records "
        f"WHEN NOT EXISTS (SELECT 1 FROM {DEFERRED_TABLE}) BEGIN {_migration_0002().SQLITE_ADD} END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        m0002 = _migration_0002()
        op.get_bind().exec_driver_sql("DROP TRIGGER activity_rollup_insert")
        op.get_bind().exec_driver_sql(m0002.SQLITE_TRIGGERS[0])
    op.drop_table(DEFERRED_TABLE)
