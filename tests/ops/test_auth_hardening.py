"""Token lifetimes (expired user tokens get 401 in the endpoint's format) and the throttle on
wrong admin tokens (429 with Retry-After, per client address)."""

from __future__ import annotations

import time

import httpx
from sqlmodel import Session, select

from maestro_app.admin.deps import ADMIN_TOKEN_MAX_FAILURES
from maestro_app.db.models import User
from maestro_app.services.tokens import issue_token
from tests.support import add_user


def _token_with_lifetime(live, username: str, lifetime_s: int) -> str:  # type: ignore[no-untyped-def]
    """A token of `username` whose lifetime is `lifetime_s` from now (negative: already
    over), made current as the admin API's rotation would, then loaded by the gateway."""
    add_user(live, username)
    with Session(live.runtime.engine) as session:
        user = session.exec(select(User).where(User.username == username)).one()
        issued = issue_token(user_id=user.id or 0, secret=live.settings.jwt_secret_key, lifetime_s=lifetime_s)
        user.token_jti_hash, user.token_expires_at = issued.jti_hash, issued.expires_at
        session.add(user)
        session.commit()
    live.runtime.reload()
    return issued.token


def test_an_expired_token_is_401_in_each_dialect(gateway):
    token = _token_with_lifetime(gateway, "late", -5)
    client = gateway.client(token)
    openai = client.post("/v1/chat/completions", json={"model": "m", "messages": []})
    assert openai.status_code == 401 and openai.headers["www-authenticate"] == "Bearer"
    assert openai.json() == {
        "error": {
            "message": "API token has expired",
            "type": "authentication_error",
            "param": None,
            "code": "invalid_api_key",
        }
    }
    ollama = client.post("/api/chat", json={"model": "m", "messages": []})
    assert ollama.status_code == 401 and ollama.json() == {"error": "API token has expired"}
    assert client.get("/v1/models").status_code == 401


def test_a_token_expires_while_in_use(gateway):
    """Decoded tokens are cached; the expiry is still checked at every request."""
    client = gateway.client(_token_with_lifetime(gateway, "brief", 2))
    assert client.get("/v1/models").status_code == 200
    time.sleep(2.2)
    resp = client.get("/v1/models")
    assert resp.status_code == 401 and resp.json()["error"]["message"] == "API token has expired"


def test_rotation_sets_keeps_or_drops_the_lifetime(gateway):
    admin = gateway.admin
    created = admin.post("/admin/users", json={"username": "u", "token_lifetime_s": 3600}).json()
    assert created["token_expires_at"] is not None
    kept = admin.put("/admin/users/u/token").json()
    assert kept["token_expires_at"] is not None
    never = admin.put("/admin/users/u/token", json={"token_lifetime_s": None})
    assert never.status_code == 200 and never.json()["token_expires_at"] is None
    assert gateway.client(never.json()["token"]).get("/v1/models").status_code == 200
    still_never = admin.put("/admin/users/u/token").json()
    assert still_never["token_expires_at"] is None


def _from(address: str, live, token: str) -> httpx.Client:  # type: ignore[no-untyped-def]
    """A client whose connections come from `address` (another loopback address)."""
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {token}"}, transport=transport)


def test_wrong_admin_tokens_are_throttled_per_client(gateway):
    right = gateway.settings.admin_token
    with _from("127.0.0.1", gateway, "guess") as guesser, _from("127.0.0.1", gateway, right) as same_client:
        for _ in range(ADMIN_TOKEN_MAX_FAILURES):
            assert guesser.get("/admin/users").status_code == 403
        refused = guesser.get("/admin/nodes")
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert "try again in" in refused.json()["detail"]
        # While throttled the right token is refused too: a guess that hits tells nothing.
        assert same_client.get("/admin/users").status_code == 429

    with _from("127.0.0.2", gateway, right) as other_client:
        assert other_client.get("/admin/users").status_code == 200
    with _from("127.0.0.3", gateway, "guess") as other_guesser:
        assert other_guesser.get("/admin/users").status_code == 403


def test_missing_or_malformed_headers_are_not_counted(gateway):
    with _from("127.0.0.4", gateway, "") as client:
        for _ in range(ADMIN_TOKEN_MAX_FAILURES + 5):
            assert client.get("/admin/users", headers={"Authorization": "Basic abc"}).status_code == 401
        assert (
            client.get(
                "/admin/users", headers={"Authorization": f"Bearer {gateway.settings.admin_token}"}
            ).status_code
            == 200
        )
