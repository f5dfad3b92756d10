"""Migration 0003: the Grafana Assistant's chat tables, up and down, on both backends."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import Session, SQLModel

from alembic import command
from maestro_app.db.engine import alembic_config
from maestro_app.db.models import User
from maestro_app.services import grafana_chats
from tests.db.support import empty_database

TABLES = {"grafana_chats", "grafana_chat_messages"}


def _migrate(engine: sa.Engine, database_url: str, step: str, target: str) -> None:
    cfg = alembic_config(database_url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, step)(cfg, target)


def _count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_chat_tables_go_up_and_down(database_url: str) -> None:
    engine = empty_database(database_url)
    _migrate(engine, database_url, "upgrade", "0002_activity_indexes")
    assert not TABLES & set(sa.inspect(engine).get_table_names())
    with Session(engine) as session:
        session.add(User(username="alice"))
        session.commit()

    _migrate(engine, database_url, "upgrade", "head")
    assert set(sa.inspect(engine).get_table_names()) >= TABLES
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    # The migration makes exactly the tables the models describe (other tables are not ours).
    assert [d for d in diffs if any(t in repr(d) for t in TABLES)] == []

    with Session(engine, expire_on_commit=False) as session:
        user_id = session.exec(sa.select(User.id)).scalar_one()  # type: ignore[call-overload]
        chat = grafana_chats.create_chat(session=session, user_id=user_id, name="c", origin=None)
        grafana_chats.add_messages(
            session=session,
            user_id=user_id,
            chat_id=chat.id,
            messages=[
                grafana_chats.NewMessage(role="user", content=[{"type": "text", "text": "q"}]),
                grafana_chats.NewMessage(
                    role="assistant", content=[{"type": "text", "text": "a"}], usage={"x": 1}
                ),
            ],
        )
        session.commit()
        rows, total = grafana_chats.list_messages(session=session, user_id=user_id, chat_id=chat.id)
    assert [r.role for r in rows] == ["user", "assistant"] and total == 2
    # Deleting the user deletes their chats and messages, on either backend.
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM users"))
    assert [_count(engine, t) for t in sorted(TABLES)] == [0, 0]

    _migrate(engine, database_url, "downgrade", "0002_activity_indexes")
    assert not TABLES & set(sa.inspect(engine).get_table_names())
    with engine.connect() as conn:
        assert (
            conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
            == "0002_activity_indexes"
        )
    _migrate(engine, database_url, "upgrade", "head")
    assert set(sa.inspect(engine).get_table_names()) >= TABLES
    engine.dispose()
