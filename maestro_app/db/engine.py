"""Engine, sessions and start-up migrations.

Migrations run at start under a lock so several workers or replicas starting together
never race: a PostgreSQL advisory lock, or an exclusive file lock beside the SQLite file.
`startup_lock` is that lock, for start-up work that must follow the migrations in one
process at a time (first-start seeding).
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlmodel import Session

from alembic import command

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MIGRATION_LOCK_ID = 0x6D61657374726F  # "maestro"

# True while a background job (flusher, config poll) talks to the database; lets tests
# prove that request handling itself never does.
background_db_work: ContextVar[bool] = ContextVar("background_db_work", default=False)


@contextmanager
def as_background_work() -> Iterator[None]:
    token = background_db_work.set(True)
    try:
        yield
    finally:
        background_db_work.reset(token)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str) -> Config:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@contextmanager
def startup_lock(engine: Engine, data_dir: Path) -> Iterator[None]:
    """One process at a time across the deployment (migrations, first-start seeding, the
    start-up config file). Not reentrant: hold it once."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_ID})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_ID})
                conn.commit()
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / ".migrate.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def run_migrations(engine: Engine, *, data_dir: Path, locked: bool = False) -> None:
    """`alembic upgrade head`, in-process, once across every process starting now.
    `locked`: the caller holds `startup_lock` already."""
    if not locked:
        with startup_lock(engine, data_dir):
            run_migrations(engine, data_dir=data_dir, locked=True)
        return
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    logger.info("database schema is at head (%s)", engine.dialect.name)
