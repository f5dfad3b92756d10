"""Small rules of the admin services: masking, URL checks, codes, filters, strict bodies,
and that a write and its audit record share one transaction."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from sqlmodel import Session, select

from maestro_app.db.models import AuditRecord, ModelMapping, User
from maestro_app.domain.snapshot import DEFAULT_SETTINGS
from maestro_app.services import mappings, node_fields, nodes, users
from maestro_app.services.activity_query import status_range
from maestro_app.services.audit import redact
from maestro_app.services.errors import EntityConflict, InvalidInput
from maestro_app.services.settings_service import SettingsUpdate
from tests.services.conftest import SessionFactory


@pytest.mark.parametrize(
    ("secret", "shown"),
    [
        (None, None),
        ("", "…"),
        ("short", "…"),
        ("elevenchars", "…"),
        ("twelve-chars", "twe…hars"),
        ("sk-abcdefghijklmnop", "sk-…mnop"),
    ],
)
def test_mask_secret(secret: str | None, shown: str | None) -> None:
    assert node_fields.mask_secret(secret) == shown


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("http://10.0.0.5:11434", "http://10.0.0.5:11434"),
        ("https://gpu.example/ollama/", "https://gpu.example/ollama"),
        (" http://h ", "http://h"),
        ("http://[::1]:8000", "http://[::1]:8000"),
        ("ftp://h", None),
        ("http://", None),
        ("h:1234", None),
        ("http://h:0", None),
        ("http://h:70000", None),
        ("http://h/a b", None),
        ("http://h#frag", None),
        ("", None),
    ],
)
def test_check_http_url(url: str, ok: str | None) -> None:
    if ok is None:
        with pytest.raises(ValueError):
            node_fields.check_http_url(url)
    else:
        assert node_fields.check_http_url(url) == ok


def test_derive_code() -> None:
    assert nodes.derive_code("GPU Box #1", set()) == "gpu-box-1"
    assert nodes.derive_code("GPU Box #1", {"gpu-box-1", "gpu-box-1-2"}) == "gpu-box-1-3"
    assert nodes.derive_code("!!!", set()) == "node"
    long = nodes.derive_code("x" * 100, {"x" * 64})
    assert len(long) == 64 and long.endswith("-2")


@pytest.mark.parametrize(("status", "span"), [("200", (200, 200)), ("5xx", (500, 599)), ("4XX", (400, 499))])
def test_status_range(status: str, span: tuple[int, int]) -> None:
    assert status_range(status) == span


@pytest.mark.parametrize("status", ["6xx", "20", "2xxx", "abc", ""])
def test_bad_status_range(status: str) -> None:
    with pytest.raises(InvalidInput):
        status_range(status)


def test_redact() -> None:
    assert redact(
        {
            "api_key": "sk-1",
            "token": None,
            "headers": {"B": "x", "A": "y"},
            "nested": [{"password": "p"}],
            "name": "n",
        }
    ) == {
        "api_key": "***",
        "token": None,
        "headers": ["A", "B"],
        "nested": [{"password": "***"}],
        "name": "n",
    }


@pytest.mark.parametrize(
    "body",
    [
        {"username": True},
        {"username": "bob", "request_limit": "5"},
        {"username": "bob", "request_limit": True},
        {"username": "bob", "extra": 1},
        {"username": "bob\x00"},
        {"username": "bob", "allowed_models": ["a\x00"]},
    ],
)
def test_bodies_are_strict(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        users.UserCreate.model_validate(body)


def test_settings_body_covers_every_setting() -> None:
    assert set(SettingsUpdate.model_fields) == set(DEFAULT_SETTINGS)


@pytest.mark.parametrize(
    ("a", "b", "overlap"),
    [
        ([], [], True),
        ([], [1], False),
        ([1], [], False),
        ([1, 2], [2, 3], True),
        ([1], [2], False),
    ],
)
def test_mapping_overlap(a: list[int], b: list[int], overlap: bool) -> None:
    assert mappings._overlaps(a, b) is overlap


def test_write_and_audit_share_the_transaction(session_factory: SessionFactory, engine: Any) -> None:
    data = users.UserCreate(username="alice")
    with pytest.raises(RuntimeError), session_factory() as session:
        users.create_user(session=session, data=data, actor="root", jwt_secret="k" * 40)
        raise RuntimeError("the caller fails before commit")
    with Session(engine) as session:
        assert session.exec(select(User)).all() == [] and session.exec(select(AuditRecord)).all() == []
    with session_factory() as session:
        created = users.create_user(session=session, data=data, actor="root", jwt_secret="k" * 40)
    with Session(engine) as session:
        record = session.exec(select(AuditRecord)).one()
    assert (
        record.action == "user.create"
        and record.entity_id == "alice"
        and created.token not in str(record.details)
    )


def test_mapping_service_directly(session_factory: SessionFactory, engine: Any) -> None:
    with session_factory() as session:
        created = mappings.create_mapping(
            session=session,
            actor="ui-admin",
            data=mappings.MappingCreate(display_name="chat", real_name="llama3", context_length="128k"),
        )
    assert created.context_length == 131072
    with pytest.raises(EntityConflict), session_factory() as session:
        mappings.create_mapping(
            session=session,
            actor="ui-admin",
            data=mappings.MappingCreate(display_name="chat:latest", real_name="x"),
        )
    with Session(engine) as session:
        assert len(session.exec(select(ModelMapping)).all()) == 1
        assert [r.actor for r in session.exec(select(AuditRecord))] == ["ui-admin"]
