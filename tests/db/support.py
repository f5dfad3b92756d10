"""Migration tests: a test database emptied of every table, to migrate from scratch."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from maestro_app.db.engine import make_engine


def empty_database(database_url: str) -> sa.Engine:
    """An engine on the test database with nothing in it (not even `alembic_version`)."""
    engine = make_engine(database_url)
    if engine.dialect.name == "postgresql":
        # The test database was cloned from a migrated template: start from an empty schema.
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
    else:
        Path(database_url.removeprefix("sqlite:///")).unlink()
    return engine
