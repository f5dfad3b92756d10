"""/admin/users: CRUD, tokens, allowlists, limits, usage — and what each write leaves behind."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
from sqlmodel import Session, select

from maestro_app.db.models import ActivityRecord, User
from maestro_app.services.tokens import decode_token
from tests.admin.conftest import audit_actions, create_user
from tests.conftest import LiveGateway


def _user_row(live: LiveGateway, username: str) -> User:
    with Session(live.runtime.engine) as session:
        return session.exec(select(User).where(User.username == username)).one()


def test_create_user_returns_a_working_token(live: LiveGateway, admin: httpx.Client) -> None:
    body = create_user(
        admin,
        "alice",
        request_limit=100,
        allowed_models=["llama3"],
        can_manage_models=True,
        token_lifetime_s=3600,
    )
    assert body["username"] == "alice" and body["is_active"] is True
    assert body["request_limit"] == 100 and body["token_limit"] is None
    assert body["allowed_models"] == ["llama3"] and body["can_manage_models"] is True
    assert body["token_expires_at"] is not None
    assert not any("jti" in key for key in body)
    claims = decode_token(body["token"], secret=live.settings.jwt_secret_key or "")
    assert claims is not None and claims.user_id == body["id"]
    assert _user_row(live, "alice").token_jti_hash == claims.jti_hash
    # The snapshot the gateway routes with already knows the user.
    assert live.runtime.snapshot.users[body["id"]].username == "alice"
    assert audit_actions(admin) == ["user.create"]
    audit = admin.get("/admin/audit-logs").json()["items"][0]
    assert audit["actor"] == "admin-token" and audit["entity_id"] == "alice"
    assert body["token"] not in str(audit)


def test_duplicate_username_is_409_and_changes_nothing(
    admin: httpx.Client, audit_count: Callable[[], int]
) -> None:
    create_user(admin, "alice")
    before = audit_count()
    resp = admin.post("/admin/users", json={"username": "alice"})
    assert resp.status_code == 409
    assert audit_count() == before
    assert admin.get("/admin/users").json()["total"] == 1


def test_list_search_and_paging(admin: httpx.Client) -> None:
    for name in ("alice", "bob", "carol", "al_x", "alxy"):
        create_user(admin, name)
    page = admin.get("/admin/users", params={"limit": 2, "offset": 1}).json()
    assert page["total"] == 5 and page["limit"] == 2 and page["offset"] == 1
    assert len(page["items"]) == 2
    pages = [admin.get("/admin/users", params={"limit": 2, "offset": o}).json()["items"] for o in (0, 2, 4)]
    assert sorted(u["username"] for p in pages for u in p) == ["al_x", "alice", "alxy", "bob", "carol"]
    assert page["items"] == pages[0][1:] + pages[1][:1]
    found = admin.get("/admin/users", params={"search": "AL"}).json()
    assert {u["username"] for u in found["items"]} == {"alice", "al_x", "alxy"}
    # LIKE wildcards in the search are literal.
    assert [u["username"] for u in admin.get("/admin/users", params={"search": "l_"}).json()["items"]] == [
        "al_x"
    ]
    assert admin.get("/admin/users", params={"search": "%"}).json()["items"] == []
    assert all("token" not in u for u in found["items"])


def test_get_patch_delete(live: LiveGateway, admin: httpx.Client) -> None:
    user = create_user(admin, "alice")
    assert admin.get("/admin/users/alice").json()["id"] == user["id"]
    assert admin.get("/admin/users/nobody").status_code == 404
    resp = admin.patch(
        "/admin/users/alice", json={"is_active": False, "token_limit": 5000, "description": "test account"}
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["is_active"] is False and resp.json()["token_limit"] == 5000
    assert live.runtime.snapshot.users[user["id"]].is_active is False
    assert admin.patch("/admin/users/nobody", json={"is_active": True}).status_code == 404
    assert admin.delete("/admin/users/alice").status_code == 204
    assert admin.get("/admin/users/alice").status_code == 404
    assert admin.delete("/admin/users/alice").status_code == 404
    assert user["id"] not in live.runtime.snapshot.users
    assert audit_actions(admin) == ["user.delete", "user.update", "user.create"]
    changes = admin.get("/admin/audit-logs", params={"action": "user.update"}).json()["items"][0]
    assert changes["details"]["changes"]["is_active"] == {"old": True, "new": False}


def test_rotating_the_token_kills_the_old_one(live: LiveGateway, admin: httpx.Client) -> None:
    old = create_user(admin, "alice", all_models=True, token_lifetime_s=7200)
    old_hash = _user_row(live, "alice").token_jti_hash
    assert live.client(old["token"]).get("/v1/models").status_code == 200
    resp = admin.put("/admin/users/alice/token")
    assert resp.status_code == 200, resp.text
    new = resp.json()
    assert new["token"] != old["token"]
    row = _user_row(live, "alice")
    assert row.token_jti_hash != old_hash
    assert (
        row.token_jti_hash == decode_token(new["token"], secret=live.settings.jwt_secret_key or "").jti_hash
    )  # type: ignore[union-attr]
    # The previous lifetime is kept when none is given.
    lifetime = datetime.fromisoformat(new["token_expires_at"]) - datetime.fromisoformat(
        new["token_issued_at"]
    )
    assert lifetime == timedelta(seconds=7200)
    assert live.client(old["token"]).get("/v1/models").status_code == 401
    assert live.client(new["token"]).get("/v1/models").status_code == 200
    shorter = admin.put("/admin/users/alice/token", json={"token_lifetime_s": 600}).json()
    lifetime = datetime.fromisoformat(shorter["token_expires_at"]) - datetime.fromisoformat(
        shorter["token_issued_at"]
    )
    assert lifetime == timedelta(seconds=600)
    assert admin.put("/admin/users/nobody/token").status_code == 404
    assert audit_actions(admin, action="user.rotate_token") == ["user.rotate_token"] * 2


def test_model_allowlist(live: LiveGateway, admin: httpx.Client) -> None:
    user = create_user(admin, "alice", allowed_models=["llama3"])
    resp = admin.post(
        "/admin/users/alice/models", json={"models": ["qwen2.5:7b", "llama3:latest", "org/m:1"]}
    )
    assert resp.status_code == 200, resp.text
    assert resp.json() == {
        "username": "alice",
        "all_models": False,
        "models": ["llama3", "qwen2.5:7b", "org/m:1"],
    }
    assert live.runtime.snapshot.users[user["id"]].may_use("qwen2.5:7b")
    assert admin.get("/admin/users/alice/models").json()["models"] == ["llama3", "qwen2.5:7b", "org/m:1"]
    resp = admin.delete("/admin/users/alice/models/org/m:1")
    assert resp.status_code == 200 and resp.json()["models"] == ["llama3", "qwen2.5:7b"]
    resp = admin.delete("/admin/users/alice/models/llama3:latest")
    assert resp.json()["models"] == ["qwen2.5:7b"]
    assert not live.runtime.snapshot.users[user["id"]].may_use("llama3")
    assert admin.delete("/admin/users/alice/models/llama3").status_code == 404
    resp = admin.post("/admin/users/alice/models/all")
    assert resp.status_code == 200 and resp.json()["all_models"] is True
    assert live.runtime.snapshot.users[user["id"]].may_use("anything")
    assert audit_actions(admin)[:4] == [
        "user.models.all",
        "user.models.remove",
        "user.models.remove",
        "user.models.add",
    ]


def test_limits(live: LiveGateway, admin: httpx.Client) -> None:
    user = create_user(admin, "alice")
    assert admin.get("/admin/users/alice/limits").json() == {
        "username": "alice",
        "request_limit": None,
        "token_limit": None,
    }
    resp = admin.post("/admin/users/alice/limits", json={"request_limit": 10, "token_limit": 1000})
    assert resp.status_code == 200, resp.text
    assert live.runtime.snapshot.users[user["id"]].request_limit == 10
    # Omitted fields keep their value; null means unlimited.
    resp = admin.post("/admin/users/alice/limits", json={"token_limit": None})
    assert resp.json() == {"username": "alice", "request_limit": 10, "token_limit": None}
    resp = admin.delete("/admin/users/alice/limits")
    assert resp.json() == {"username": "alice", "request_limit": None, "token_limit": None}
    assert live.runtime.snapshot.users[user["id"]].request_limit is None
    assert admin.post("/admin/users/alice/limits", json={}).status_code == 422
    assert admin.post("/admin/users/alice/limits", json={"request_limit": -1}).status_code == 422
    assert admin.post("/admin/users/alice/limits", json={"request_limit": 2**40}).status_code == 422
    assert admin.get("/admin/users/nobody/limits").status_code == 404
    assert audit_actions(admin)[:3] == ["user.limits.clear", "user.limits.set", "user.limits.set"]


def _activity(
    live: LiveGateway, user_id: int, when: datetime, model: str, tokens: tuple[int, int], status: int = 200
) -> None:
    with live.runtime.session() as session:
        session.add(
            ActivityRecord(
                request_id=f"r-{when.timestamp()}-{model}-{status}-{tokens}",
                user_id=user_id,
                username="alice",
                model=model,
                real_model=model,
                endpoint="/v1/chat/completions",
                status_code=status,
                prompt_tokens=tokens[0],
                completion_tokens=tokens[1],
                total_tokens=sum(tokens),
                created_at=when,
            )
        )


def test_usage_totals_and_per_model(live: LiveGateway, admin: httpx.Client) -> None:
    user = create_user(admin, "alice")
    now = datetime.now(UTC)
    _activity(live, user["id"], now, "llama3", (10, 5))
    _activity(live, user["id"], now, "llama3", (1, 1), status=502)
    _activity(live, user["id"], now, "qwen", (100, 50))
    _activity(live, user["id"], now - timedelta(days=3), "llama3", (7, 7))
    _activity(live, user["id"] + 1, now, "llama3", (1000, 1000))
    today = admin.get("/admin/users/alice/usage").json()
    assert today["start"] == today["end"] == now.date().isoformat()
    assert today["totals"] == {
        "requests": 3,
        "errors": 1,
        "prompt_tokens": 111,
        "completion_tokens": 56,
        "total_tokens": 167,
    }
    assert [(m["model"], m["requests"], m["total_tokens"]) for m in today["models"]] == [
        ("qwen", 1, 150),
        ("llama3", 2, 17),
    ]
    start = (now - timedelta(days=5)).date().isoformat()
    week = admin.get("/admin/users/alice/usage", params={"start": start}).json()
    assert week["totals"]["requests"] == 4 and week["end"] == now.date().isoformat()
    only_then = admin.get(
        "/admin/users/alice/usage",
        params={
            "start": (now - timedelta(days=3)).date().isoformat(),
            "end": (now - timedelta(days=3)).date().isoformat(),
        },
    ).json()
    assert only_then["totals"]["total_tokens"] == 14
    assert admin.get("/admin/users/alice/usage", params={"start": "yesterday"}).status_code == 422
    assert (
        admin.get("/admin/users/alice/usage", params={"start": "2024-02-02", "end": "2024-02-01"}).status_code
        == 422
    )
    assert admin.get("/admin/users/nobody/usage").status_code == 404
