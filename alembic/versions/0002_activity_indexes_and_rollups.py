"""Activity log at size: filter indexes, hourly rollups kept by triggers.

Indexes: one per request-log filter, each followed by `created_at` (the order the log is
read in); the usage index covers the columns usage reports read (index-only on PostgreSQL).

Rollups: `activity_hourly` (per hour and display model) and `activity_hourly_users` (per hour
and username) hold the ledger's sums. Triggers update them in the transaction that inserts,
deletes or updates activity records, so they always equal the aggregates of the ledger:
  PostgreSQL  statement triggers with transition tables (one grouped upsert per statement; a
              retention batch of 5,000 deletions is one statement). Every writer first takes
              one transaction-level advisory lock, so concurrent ledger flushers and retention
              batches, which touch the same rollup rows in different orders, queue instead
              of deadlocking.
  SQLite      row triggers (one writer at a time anyway).
Existing activity is summed into the rollups here.

Revision ID: 0002_activity_indexes
Revises: 0001
Create Date: 2026-11-26 04:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "0002_activity_indexes"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLLUP_LOCK_ID = 7881692369424379649  # "maestro" << 8 | 1; the migration lock is "maestro"
USAGE_COLUMNS = ["model", "status_code", "prompt_tokens", "completion_tokens", "total_tokens"]
FILTER_INDEXES = [
    ("ix_activity_username_created", ["username", "created_at"], None),
    ("ix_activity_model_created", ["model", "created_at"], None),
    ("ix_activity_real_model_created", ["real_model", "created_at"], ["model"]),
    ("ix_activity_node_created", ["node_name", "created_at"], None),
    ("ix_activity_source_created", ["source", "created_at"], None),
    ("ix_activity_status_created", ["status_code", "created_at"], None),
]

# -- PostgreSQL -----------------------------------------------------------------------------

PG_HOUR = "date_trunc('hour', r.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"

PG_APPLY = """
    INSERT INTO activity_hourly AS t
        (bucket, model, requests, errors, prompt_tokens, completion_tokens, total_tokens, duration_ms)
    SELECT {hour}, coalesce(r.model, ''), {sign}count(*),
           {sign}sum(CASE WHEN r.status_code >= 400 THEN 1 ELSE 0 END),
           {sign}sum(r.prompt_tokens), {sign}sum(r.completion_tokens), {sign}sum(r.total_tokens),
           {sign}sum(r.duration_ms)
    FROM {rows} r GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (bucket, model) DO UPDATE SET
        requests = t.requests + excluded.requests,
        errors = t.errors + excluded.errors,
        prompt_tokens = t.prompt_tokens + excluded.prompt_tokens,
        completion_tokens = t.completion_tokens + excluded.completion_tokens,
        total_tokens = t.total_tokens + excluded.total_tokens,
        duration_ms = t.duration_ms + excluded.duration_ms;
    INSERT INTO activity_hourly_users AS t (bucket, username, requests, errors, total_tokens)
    SELECT {hour}, coalesce(r.username, ''), {sign}count(*),
           {sign}sum(CASE WHEN r.status_code >= 400 THEN 1 ELSE 0 END), {sign}sum(r.total_tokens)
    FROM {rows} r GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (bucket, username) DO UPDATE SET
        requests = t.requests + excluded.requests,
        errors = t.errors + excluded.errors,
        total_tokens = t.total_tokens + excluded.total_tokens;
"""

PG_PRUNE = """
    DELETE FROM activity_hourly WHERE requests = 0
        AND bucket IN (SELECT DISTINCT {hour} FROM old_rows r);
    DELETE FROM activity_hourly_users WHERE requests = 0
        AND bucket IN (SELECT DISTINCT {hour} FROM old_rows r);
"""

PG_FUNCTION = f"""
CREATE FUNCTION maestro_activity_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock({ROLLUP_LOCK_ID});
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        {PG_APPLY.format(hour=PG_HOUR, sign="-", rows="old_rows")}
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        {PG_APPLY.format(hour=PG_HOUR, sign="", rows="new_rows")}
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        {PG_PRUNE.format(hour=PG_HOUR)}
    END IF;
    RETURN NULL;
END;
$$
"""

PG_TRIGGERS = [
    "CREATE TRIGGER activity_rollup_insert AFTER INSERT ON activity_records "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION maestro_activity_rollup()",
    "CREATE TRIGGER activity_rollup_delete AFTER DELETE ON activity_records "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION maestro_activity_rollup()",
    "CREATE TRIGGER activity_rollup_update AFTER UPDATE ON activity_records "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION maestro_activity_rollup()",
]

# -- SQLite ---------------------------------------------------------------------------------

SQLITE_HOUR = "strftime('%Y-%m-%d %H:00:00.000000', {row}.created_at)"

SQLITE_ADD = """
    INSERT INTO activity_hourly
        (bucket, model, requests, errors, prompt_tokens, completion_tokens, total_tokens, duration_ms)
    VALUES ({hour}, coalesce(NEW.model, ''), 1, NEW.status_code >= 400, NEW.prompt_tokens,
            NEW.completion_tokens, NEW.total_tokens, NEW.duration_ms)
    ON CONFLICT (bucket, model) DO UPDATE SET
        requests = activity_hourly.requests + 1,
        errors = activity_hourly.errors + excluded.errors,
        prompt_tokens = activity_hourly.prompt_tokens + excluded.prompt_tokens,
        completion_tokens = activity_hourly.completion_tokens + excluded.completion_tokens,
        total_tokens = activity_hourly.total_tokens + excluded.total_tokens,
        duration_ms = activity_hourly.duration_ms + excluded.duration_ms;
    INSERT INTO activity_hourly_users (bucket, username, requests, errors, total_tokens)
    VALUES ({hour}, coalesce(NEW.username, ''), 1, NEW.status_code >= 400, NEW.total_tokens)
    ON CONFLICT (bucket, username) DO UPDATE SET
        requests = activity_hourly_users.requests + 1,
        errors = activity_hourly_users.errors + excluded.errors,
        total_tokens = activity_hourly_users.total_tokens + excluded.total_tokens;
""".replace("{hour}", SQLITE_HOUR.format(row="NEW"))

SQLITE_REMOVE = """
    UPDATE activity_hourly SET
        requests = requests - 1,
        errors = errors - (OLD.status_code >= 400),
        prompt_tokens = prompt_tokens - OLD.prompt_tokens,
        completion_tokens = completion_tokens - OLD.completion_tokens,
        total_tokens = total_tokens - OLD.total_tokens,
        duration_ms = duration_ms - OLD.duration_ms
    WHERE bucket = {hour} AND model = coalesce(OLD.model, '');
    DELETE FROM activity_hourly WHERE bucket = {hour} AND model = coalesce(OLD.model, '') AND requests = 0;
    UPDATE activity_hourly_users SET
        requests = requests - 1,
        errors = errors - (OLD.status_code >= 400),
        total_tokens = total_tokens - OLD.total_tokens
    WHERE bucket = {hour} AND username = coalesce(OLD.username, '');
    DELETE FROM activity_hourly_users
        WHERE bucket = {hour} AND username = coalesce(OLD.username, '') AND requests = 0;
""".replace("{hour}", SQLITE_HOUR.format(row="OLD"))

SQLITE_TRIGGERS = [
    f"CREATE TRIGGER activity_rollup_insert AFTER INSERT ON activity_records BEGIN {SQLITE_ADD} END",
    f"CREATE TRIGGER activity_rollup_delete AFTER DELETE ON activity_records BEGIN {SQLITE_REMOVE} END",
    "CREATE TRIGGER activity_rollup_update AFTER UPDATE OF created_at, model, username, status_code, "
    "prompt_tokens, completion_tokens, total_tokens, duration_ms ON activity_records "
    f"BEGIN {SQLITE_REMOVE} {SQLITE_ADD} END",
]

# -- backfill (both) ------------------------------------------------------------------------

BACKFILL = """
INSERT INTO activity_hourly
    (bucket, model, requests, errors, prompt_tokens, completion_tokens, total_tokens, duration_ms)
SELECT {hour}, coalesce(r.model, ''), count(*), sum(CASE WHEN r.status_code >= 400 THEN 1 ELSE 0 END),
       sum(r.prompt_tokens), sum(r.completion_tokens), sum(r.total_tokens), sum(r.duration_ms)
FROM activity_records r GROUP BY 1, 2;
INSERT INTO activity_hourly_users (bucket, username, requests, errors, total_tokens)
SELECT {hour}, coalesce(r.username, ''), count(*), sum(CASE WHEN r.status_code >= 400 THEN 1 ELSE 0 END),
       sum(r.total_tokens)
FROM activity_records r GROUP BY 1, 2;
"""


def _rollup_tables() -> None:
    op.create_table(
        "activity_hourly",
        sa.Column("bucket", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.Column("errors", sa.BigInteger(), nullable=False),
        sa.Column("prompt_tokens", sa.BigInteger(), nullable=False),
        sa.Column("completion_tokens", sa.BigInteger(), nullable=False),
        sa.Column("total_tokens", sa.BigInteger(), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", "model"),
    )
    op.create_table(
        "activity_hourly_users",
        sa.Column("bucket", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("username", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.Column("errors", sa.BigInteger(), nullable=False),
        sa.Column("total_tokens", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", "username"),
    )


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _execute(statement: str) -> None:
    # Straight to the driver: SQLAlchemy's text() would read ":00" in a time format as a
    # bind parameter.
    op.get_bind().exec_driver_sql(statement)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("activity_records", schema=None) as batch_op:
        batch_op.drop_index("ix_activity_user_created")
        batch_op.create_index(
            "ix_activity_user_created", ["user_id", "created_at"], postgresql_include=USAGE_COLUMNS
        )
        for name, columns, include in FILTER_INDEXES:
            batch_op.create_index(name, columns, postgresql_include=include or [])
    _rollup_tables()
    if dialect == "postgresql":
        for statement in _statements(BACKFILL.format(hour=PG_HOUR)):
            _execute(statement)
        _execute(PG_FUNCTION)
        for statement in PG_TRIGGERS:
            _execute(statement)
    else:
        for statement in _statements(BACKFILL.format(hour=SQLITE_HOUR.format(row="r"))):
            _execute(statement)
        for statement in SQLITE_TRIGGERS:
            _execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for trigger in ("activity_rollup_insert", "activity_rollup_delete", "activity_rollup_update"):
        _execute(
            f"DROP TRIGGER IF EXISTS {trigger} ON activity_records"
            if dialect == "postgresql"
            else f"DROP TRIGGER IF EXISTS {trigger}"
        )
    if dialect == "postgresql":
        _execute("DROP FUNCTION IF EXISTS maestro_activity_rollup()")
    op.drop_table("activity_hourly_users")
    op.drop_table("activity_hourly")
    with op.batch_alter_table("activity_records", schema=None) as batch_op:
        for name, _, _ in reversed(FILTER_INDEXES):
            batch_op.drop_index(name)
        batch_op.drop_index("ix_activity_user_created")
        batch_op.create_index("ix_activity_user_created", ["user_id", "created_at"])
