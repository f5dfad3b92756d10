"""services.admins: the login throttle, dashboard sessions, login()."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlmodel import Session, select

from maestro_app.db.models import AuditRecord, DashboardAdmin
from maestro_app.services import admins
from maestro_app.services.errors import InvalidCredentials, TooManyAttempts
from maestro_app.services.passwords import hash_password
from maestro_app.services.tokens import issue_token
from tests.services.conftest import SessionFactory

SECRET = "s" * 48


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_throttle_window() -> None:
    clock = Clock()
    throttle = admins.LoginThrottle(max_failures=3, window_s=60, clock=clock)
    for _ in range(2):
        throttle.failed("k")
        clock.now += 10
    assert throttle.retry_after("k") is None
    throttle.failed("k")  # failures at 1000, 1010, 1020
    assert throttle.retry_after("k") == 40  # the first leaves the window at 1060
    assert throttle.retry_after("other") is None
    clock.now = 1060.5
    assert throttle.retry_after("k") is None
    throttle.failed("k")
    assert throttle.retry_after("k") == 10
    throttle.succeeded("k")
    assert throttle.retry_after("k") is None


def test_throttle_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(admins, "MAX_TRACKED_KEYS", 100)
    clock = Clock()
    throttle = admins.LoginThrottle(clock=clock)
    for i in range(1000):
        clock.now += 1
        throttle.failed(f"key-{i}")
    assert len(throttle._failures) <= 100
    assert throttle.retry_after("key-999") is None  # one failure is no lock


@pytest.fixture
def admin_row(session_factory: SessionFactory) -> DashboardAdmin:
    with session_factory() as session:
        row = DashboardAdmin(username="root", password_hash=hash_password("correct horse"))
        session.add(row)
        session.flush()
        return row


def test_sessions(session_factory: SessionFactory, admin_row: DashboardAdmin) -> None:
    issued = admins.issue_admin_session(admin=admin_row, secret=SECRET)
    with session_factory() as session:
        assert (
            admins.verify_admin_session(session=session, token=issued.token, secret=SECRET).username == "root"
        )
        assert (
            admins.verify_admin_session(session=session, token=issued.token, secret="x" * 48).username is None
        )
        stale = admins.issue_admin_session(admin=admin_row, secret=SECRET, lifetime_s=-5)
        check = admins.verify_admin_session(session=session, token=stale.token, secret=SECRET)
        assert check.username is None and check.expired
        user_token = issue_token(user_id=admin_row.id or 0, secret=SECRET).token
        assert admins.verify_admin_session(session=session, token=user_token, secret=SECRET).username is None
        assert admins.verify_admin_session(session=session, token="a.b.c", secret=SECRET).username is None
    assert abs(issued.expires_at.timestamp() - time.time() - 12 * 3600) < 5
    with session_factory() as session:
        row = session.get(DashboardAdmin, admin_row.id)
        assert row is not None
        session.delete(row)
    with session_factory() as session:
        assert (
            admins.verify_admin_session(session=session, token=issued.token, secret=SECRET).username is None
        )


def test_login(session_factory: SessionFactory, engine: Any, admin_row: DashboardAdmin) -> None:
    throttle = admins.LoginThrottle(max_failures=2)

    def attempt(password: str, client: str = "10.0.0.1") -> admins.AdminSession:
        with session_factory() as session:
            return admins.login(
                session=session,
                username=" root ",
                password=password,
                secret=SECRET,
                throttle=throttle,
                client=client,
            )

    assert attempt("correct horse").username == "root"
    for _ in range(2):
        with pytest.raises(InvalidCredentials):
            attempt("wrong")
    with pytest.raises(TooManyAttempts) as raised:
        attempt("correct horse")
    assert 0 < raised.value.retry_after <= 300
    # Per client: failures from one address do not lock the admin out elsewhere.
    assert attempt("correct horse", client="10.0.0.2").username == "root"
    with Session(engine) as session:
        records = session.exec(select(AuditRecord)).all()
        row = session.get(DashboardAdmin, admin_row.id)
    assert [r.action for r in records] == ["admin.login", "admin.login"]
    assert row is not None and row.last_login_at is not None
