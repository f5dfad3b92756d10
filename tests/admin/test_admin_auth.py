"""Admin authentication: the admin token, dashboard sessions, login throttling."""

from __future__ import annotations

import httpx
import pytest
from sqlmodel import Session, select

from maestro_app.db.models import DashboardAdmin
from maestro_app.services.admins import issue_admin_session
from tests.admin.conftest import audit_actions, create_user
from tests.conftest import LiveGateway


@pytest.mark.parametrize("header", [None, "", "Bearer", "Basic abc", "Token x", "Bearer a b", "Bearer\tx"])
def test_missing_or_malformed_header_is_401(live: LiveGateway, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    resp = httpx.get(f"{live.url}/admin/users", headers=headers)
    assert resp.status_code == 401
    assert resp.headers["www-authenticate"] == "Bearer"
    assert "detail" in resp.json()


def test_wrong_token_is_403(live: LiveGateway) -> None:
    assert live.client("not-the-admin-token").get("/admin/users").status_code == 403
    assert live.client(live.settings.admin_token + "x").get("/admin/nodes").status_code == 403


def test_user_token_is_a_wrong_token(live: LiveGateway, admin: httpx.Client) -> None:
    token = create_user(admin, "alice", all_models=True)["token"]
    assert live.client(token).get("/admin/users").status_code == 403
    assert live.client(token).post("/admin/users", json={"username": "mallory"}).status_code == 403
    assert admin.get("/admin/users/mallory").status_code == 404


def test_auth_comes_before_body_validation(live: LiveGateway) -> None:
    resp = live.client().post(
        "/admin/users", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert resp.status_code == 401
    resp = live.client("wrong").post("/admin/users", json={"unknown": 1})
    assert resp.status_code == 403


def test_login_gives_a_session_that_works_as_admin(live: LiveGateway, admin: httpx.Client) -> None:
    resp = live.client().post(
        "/admin/auth/login",
        json={"username": live.settings.admin_username, "password": live.settings.admin_password},
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert set(body) == {"token", "expires_at", "username"}
    session_client = live.client(body["token"])
    assert session_client.post("/admin/users", json={"username": "bob"}).status_code == 201
    items = admin.get("/admin/audit-logs", params={"action": "user.create"}).json()["items"]
    assert items[0]["actor"] == live.settings.admin_username
    assert "admin.login" in audit_actions(admin)


def test_session_is_not_a_user_token(live: LiveGateway) -> None:
    resp = live.client().post(
        "/admin/auth/login",
        json={"username": live.settings.admin_username, "password": live.settings.admin_password},
    )
    token = resp.json()["token"]
    assert live.client(token).get("/v1/models").status_code == 401


def test_wrong_password_is_401(live: LiveGateway) -> None:
    resp = live.client().post(
        "/admin/auth/login", json={"username": live.settings.admin_username, "password": "nope"}
    )
    assert resp.status_code == 401
    resp = live.client().post("/admin/auth/login", json={"username": "ghost", "password": "nope"})
    assert resp.status_code == 401


def test_login_is_throttled_after_five_failures(live: LiveGateway) -> None:
    client = live.client()
    user = live.settings.admin_username
    for _ in range(5):
        resp = client.post("/admin/auth/login", json={"username": user, "password": "wrong"})
        assert resp.status_code == 401
    resp = client.post("/admin/auth/login", json={"username": user, "password": live.settings.admin_password})
    assert resp.status_code == 429
    assert 1 <= int(resp.headers["retry-after"]) <= 300
    # Another username from the same client is a different key.
    other = client.post("/admin/auth/login", json={"username": "someone", "password": "x"})
    assert other.status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"username": "admin"},
        {"username": "", "password": "x"},
        {"username": "admin", "password": "x", "extra": 1},
        [],
        {"username": 5, "password": "x"},
    ],
)
def test_login_bad_body_is_422(live: LiveGateway, body: object) -> None:
    assert live.client().post("/admin/auth/login", json=body).status_code == 422


def _admin_row(live: LiveGateway) -> DashboardAdmin:
    with Session(live.runtime.engine) as session:
        return session.exec(select(DashboardAdmin)).one()


def test_expired_session_is_401(live: LiveGateway) -> None:
    stale = issue_admin_session(
        admin=_admin_row(live), secret=live.settings.jwt_secret_key or "", lifetime_s=-60
    )
    resp = live.client(stale.token).get("/admin/users")
    assert resp.status_code == 401
    assert "expired" in resp.json()["detail"]


def test_forged_or_deactivated_session_is_403(live: LiveGateway) -> None:
    forged = issue_admin_session(admin=_admin_row(live), secret="some-other-secret-" + "x" * 32)
    assert live.client(forged.token).get("/admin/users").status_code == 403
    good = issue_admin_session(admin=_admin_row(live), secret=live.settings.jwt_secret_key or "")
    assert live.client(good.token).get("/admin/users").status_code == 200
    with live.runtime.session() as session:
        row = session.exec(select(DashboardAdmin)).one()
        row.is_active = False
        session.add(row)
    assert live.client(good.token).get("/admin/users").status_code == 403
