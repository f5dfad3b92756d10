"""Fixtures for service tests: a migrated database (SQLite file and PostgreSQL, through the
shared `database_url` fixture of tests/conftest.py) and a session factory like the
runtime's, without any server."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from maestro_app.db.engine import make_engine, run_migrations, session_scope
from maestro_app.db.models import Node
from maestro_app.db.secrets import SecretCipher, use_cipher
from maestro_app.services.snapshot import read_config_version

SessionFactory = Callable[[], AbstractContextManager[Session]]


@pytest.fixture
def engine(database_url: str, tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(database_url)
    # As the runtime does: node API keys and header values are encrypted by this cipher.
    use_cipher(engine, SecretCipher("services-test-secrets-key-" + "x" * 16))
    run_migrations(engine, data_dir=tmp_path)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> SessionFactory:
    """Opens a session that commits on success and rolls back on error (as runtime.session)."""
    return functools.partial(session_scope, engine)


@pytest.fixture
def config_version(engine: Engine) -> Callable[[], int]:
    def read() -> int:
        with Session(engine) as session:
            return read_config_version(session)

    return read


def add_node(
    session_factory: SessionFactory, url: str, *, node_type: str = "ollama", **fields: object
) -> int:
    with session_factory() as session:
        node = Node(name=str(fields.pop("name", f"node-{url}")), base_url=url, node_type=node_type, **fields)  # type: ignore[arg-type]
        session.add(node)
        session.flush()
        return node.id or 0
