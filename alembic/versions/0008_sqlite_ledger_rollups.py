"""SQLite: no insert trigger on the request log; the ledger sums each batch into the rollups.

0006 let the ledger's batches skip the per-row rollup trigger (a marker row made its WHEN
clause false), but SQLite still runs a trigger program for every inserted row to evaluate
that clause: measured on the build machine, 25 of the 47 µs a ledger insert cost per record
(the same with `WHEN 0`), in the gateway worker's process. The ledger is the only writer of
`activity_records` (`stores.ledger.insert_records`, which on SQLite adds each batch to both
rollups with two grouped upserts in the same transaction), so the insert trigger goes, and
the marker table with it. Updates and deletes (retention, rare) keep their row triggers.

PostgreSQL: its statement triggers work per batch; only the (unused) marker table goes.

Revision ID: 0008_sqlite_ledger_rollups
Revises: 0007_activity_created_id
Create Date: 2026-12-07 04:00:00
"""

from collections.abc import Sequence
from types import ModuleType

import sqlalchemy as sa

from alembic import op
from maestro_app.db.migration_support import sibling_migration

revision: str = "0008_sqlite_ledger_rollups"
down_revision: str | None = "0007_activity_created_id"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _migration_0006() -> ModuleType:
    return sibling_migration("0006_sqlite_batch_rollups.py")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.get_bind().exec_driver_sql("DROP TRIGGER activity_rollup_insert")
    op.drop_table(_migration_0006().DEFERRED_TABLE)


def downgrade() -> None:
    m0006 = _migration_0006()
    op.create_table(
        m0006.DEFERRED_TABLE, sa.Column("id", sa.Integer(), nullable=False), sa.PrimaryKeyConstraint("id")
    )
    if op.get_bind().dialect.name == "sqlite":
        op.get_bind().exec_driver_sql(m0006.deferring_insert_trigger())
