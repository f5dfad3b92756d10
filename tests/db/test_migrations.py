"""Migrations run at start and are safe when several processes start at once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from maestro_app.db.engine import make_engine, run_migrations

SCRIPT = """
import sys
from pathlib import Path
from maestro_app.db.engine import make_engine, run_migrations
run_migrations(make_engine(sys.argv[1]), data_dir=Path(sys.argv[2]))
"""


def test_concurrent_starts_migrate_once(database_url, tmp_path: Path):
    if database_url.startswith("postgresql"):
        # The test database was cloned from a migrated template: start from an empty schema.
        engine = make_engine(database_url)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
    root = Path(__file__).resolve().parents[2]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SCRIPT, database_url, str(tmp_path)],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(4)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [r[1].decode()[-800:] for r in results]
    engine = make_engine(database_url)
    tables = set(sa.inspect(engine).get_table_names())
    assert {
        "users",
        "nodes",
        "node_models",
        "model_mappings",
        "model_groups",
        "model_group_members",
        "model_configs",
        "tool_sets",
        "system_prompts",
        "settings",
        "activity_records",
        "audit_records",
        "node_health_events",
        "dashboard_admins",
        "alembic_version",
    } <= tables
    with engine.connect() as conn:
        versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
    assert len(versions) == 1
    run_migrations(engine, data_dir=tmp_path)  # idempotent
    engine.dispose()
