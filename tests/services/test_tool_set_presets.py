"""Tool-set presets: seeded once per database, without duplicates, never resurrected.

The test databases come from a template seeded like a first start; each test begins by
taking the presets and their marker out again.
"""

from __future__ import annotations

import threading

import pytest
from sqlmodel import Session, select

from maestro_app.db.models import Setting, ToolSet
from maestro_app.domain.tool_presets import PRESETS
from maestro_app.services.tool_sets import PRESETS_SEEDED_KEY, seed_tool_set_presets
from tests.services.conftest import SessionFactory


@pytest.fixture(autouse=True)
def unseeded(engine):  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        for row in session.exec(select(ToolSet)).all():
            session.delete(row)
        marker = session.get(Setting, PRESETS_SEEDED_KEY)
        if marker is not None:
            session.delete(marker)
        session.commit()


def _names(session_factory: SessionFactory) -> list[str]:
    with session_factory() as session:
        return sorted(session.exec(select(ToolSet.name)).all())


def test_seeded_once_and_deleted_presets_stay_deleted(session_factory, config_version):  # type: ignore[no-untyped-def]
    before = config_version()
    with session_factory() as session:
        assert seed_tool_set_presets(session) == list(PRESETS)
    assert _names(session_factory) == sorted(PRESETS)
    assert config_version() == before + 1
    with session_factory() as session:
        assert seed_tool_set_presets(session) == []
        session.delete(session.exec(select(ToolSet).where(ToolSet.name == "minimal")).one())
    with session_factory() as session:
        assert seed_tool_set_presets(session) == []
    assert "minimal" not in _names(session_factory)
    with session_factory() as session:
        full = session.exec(select(ToolSet).where(ToolSet.name == "full")).one()
        assert full.tools is None and full.created_at is not None


def test_an_existing_set_with_a_preset_name_is_kept(session_factory):  # type: ignore[no-untyped-def]
    with session_factory() as session:
        session.add(ToolSet(name="basic", tools=["mine"]))
    with session_factory() as session:
        created = seed_tool_set_presets(session)
    assert "basic" not in created and len(created) == 5
    with session_factory() as session:
        assert session.exec(select(ToolSet).where(ToolSet.name == "basic")).one().tools == ["mine"]


def test_workers_seeding_together_create_each_preset_once(engine):  # type: ignore[no-untyped-def]
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def start() -> None:
        try:
            barrier.wait(5)
            with Session(engine) as session:
                seed_tool_set_presets(session)
                session.commit()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    with Session(engine) as session:
        assert sorted(session.exec(select(ToolSet.name)).all()) == sorted(PRESETS)
