"""Authentication, allowlists and bad input: each gets SPEC §2's status in the endpoint's
format and leaves no wrong record."""

from __future__ import annotations

import pytest

from tests.support import activity, add_node, add_user

CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def setup(gateway, upstream_factory):  # type: ignore[no-untyped-def]
    fake = upstream_factory(["m", "other"])
    add_node(gateway, fake, name="n", node_type="vllm")
    return gateway, fake


@pytest.mark.parametrize("header", [None, "Basic abc", "Bearer", "Bearer not-a-jwt", "Token x"])
def test_bad_credentials_are_401_in_both_dialects(setup, header):
    gateway, fake = setup
    headers = {"Authorization": header} if header else {}
    with gateway.client() as c:
        r1 = c.post("/v1/chat/completions", json=CHAT, headers=headers)
        r2 = c.post("/api/chat", json=CHAT, headers=headers)
        r3 = c.get("/v1/models", headers=headers)
    assert (r1.status_code, r2.status_code, r3.status_code) == (401, 401, 401)
    assert r1.json()["error"]["type"] == "authentication_error"
    assert isinstance(r2.json()["error"], str)
    assert fake.hits["/v1/chat/completions"] == 0


def test_rotated_token_dies_at_once(setup):
    gateway, _ = setup
    old = add_user(gateway, "bob")
    assert gateway.client(old).post("/v1/chat/completions", json=CHAT).status_code == 200
    new = gateway.admin.put("/admin/users/bob/token").json()["token"]
    assert gateway.client(old).post("/v1/chat/completions", json=CHAT).status_code == 401
    assert gateway.client(new).post("/v1/chat/completions", json=CHAT).status_code == 200


def test_inactive_and_deleted_users_get_401(setup):
    gateway, _ = setup
    token = add_user(gateway, "carol")
    assert gateway.admin.patch("/admin/users/carol", json={"is_active": False}).status_code == 200
    assert gateway.client(token).post("/v1/chat/completions", json=CHAT).status_code == 401
    assert gateway.admin.patch("/admin/users/carol", json={"is_active": True}).status_code == 200
    assert gateway.client(token).post("/v1/chat/completions", json=CHAT).status_code == 200
    assert gateway.admin.delete("/admin/users/carol").status_code in (200, 204)
    assert gateway.client(token).post("/v1/chat/completions", json=CHAT).status_code == 401


def test_admin_token_is_not_a_user_token(setup):
    gateway, _ = setup
    resp = gateway.client(gateway.settings.admin_token).post("/v1/chat/completions", json=CHAT)
    assert resp.status_code == 401


def test_allowlist_limits_models_and_listings(setup):
    gateway, fake = setup
    token = add_user(gateway, "dave", all_models=False, allowed_models=["m"])
    client = gateway.client(token)
    assert client.post("/v1/chat/completions", json=CHAT).status_code == 200
    denied = client.post("/v1/chat/completions", json=dict(CHAT, model="other"))
    assert denied.status_code == 403
    assert denied.json()["error"]["type"] == "permission_error"
    denied_ollama = client.post("/api/chat", json=dict(CHAT, model="other"))
    assert denied_ollama.status_code == 403 and isinstance(denied_ollama.json()["error"], str)
    assert [m["id"] for m in client.get("/v1/models").json()["data"]] == ["m"]
    assert [m["name"] for m in client.get("/api/tags").json()["models"]] == ["m"]
    assert fake.hits["/v1/chat/completions"] == 1


def test_allowlist_takes_group_and_node_names(gateway, upstream_factory):
    """Allowlists hold the name the client sends: a group name allows the group (not its
    members by their own names); a `node:` name is allowed by its full name or its model."""
    fake = upstream_factory(["m", "other"])
    add_node(gateway, fake, name="n", code="gpu", node_type="vllm")
    group = gateway.admin.post(
        "/admin/model-groups", json={"name": "team", "strategy": "priority", "list_in_catalog": True}
    )
    assert group.status_code == 201, group.text
    member = gateway.admin.post("/admin/model-groups/team/members", json={"model_display_name": "m"})
    assert member.status_code == 201, member.text

    def codes(client, *models: str) -> list[int]:  # type: ignore[no-untyped-def]
        return [
            client.post("/v1/chat/completions", json=dict(CHAT, model=name)).status_code for name in models
        ]

    grouped = gateway.client(add_user(gateway, "gina", all_models=False, allowed_models=["team", "other"]))
    assert codes(grouped, "team", "other", "node:gpu:other") == [200, 200, 200]
    assert codes(grouped, "m", "node:gpu:m") == [403, 403]
    assert grouped.post("/api/chat", json=dict(CHAT, model="m", stream=False)).status_code == 403
    assert [m["id"] for m in grouped.get("/v1/models").json()["data"]] == ["other", "team"]
    assert [m["name"] for m in grouped.get("/api/tags").json()["models"]] == ["other", "team"]

    pinned = gateway.client(add_user(gateway, "pia", all_models=False, allowed_models=["node:gpu:m"]))
    assert codes(pinned, "node:gpu:m", "m", "team", "node:gpu:other") == [200, 403, 403, 403]
    assert pinned.post("/api/chat", json=dict(CHAT, model="node:gpu:m", stream=False)).status_code == 200
    assert pinned.get("/v1/models").json()["data"] == []
    assert fake.hits["/v1/chat/completions"] == 5  # /api/chat is bridged to the vLLM node
    refused = [r for r in activity(gateway) if r["status_code"] == 403]
    assert len(refused) == 6 and all(r["total_tokens"] == 0 for r in refused)


@pytest.mark.parametrize(
    ("path", "raw", "status"),
    [
        ("/v1/chat/completions", b"{not json", 400),
        ("/v1/chat/completions", b"[1, 2]", 400),
        ("/v1/chat/completions", b"", 400),
        ("/v1/chat/completions", b'{"messages": []}', 400),
        ("/v1/chat/completions", b'{"model": 5, "messages": []}', 400),
        ("/v1/chat/completions", b'{"model": "m", "messages": "hi"}', 400),
        ("/v1/chat/completions", b'{"model": "m", "messages": [], "stream": "yes"}', 400),
        ("/v1/chat/completions", b'{"model": "m", "messages": [3]}', 400),
        ("/v1/embeddings", b'{"model": "m"}', 400),
        ("/v1/completions", b'{"model": "m", "prompt": 7}', 400),
        ("/api/chat", b"\xff\xfe garbage", 400),
        ("/api/chat", b'"just a string"', 400),
        ("/api/generate", b'{"prompt": "x"}', 400),
        ("/api/embed", b'{"model": "m", "input": {"a": 1}}', 400),
    ],
)
def test_bad_bodies_get_400_in_dialect_and_no_record(setup, path, raw, status):
    gateway, fake = setup
    client = gateway.client(add_user(gateway, "eve"))
    asked = sum(fake.hits.values())  # the node's health check and discovery when it was added
    resp = client.post(path, content=raw, headers={"Content-Type": "application/json"})
    assert resp.status_code == status, resp.text
    error = resp.json()["error"]
    if path.startswith("/api/"):
        assert isinstance(error, str) and error
    else:
        assert error["message"] and error["type"] == "invalid_request_error"
    assert sum(fake.hits.values()) == asked
    assert activity(gateway) == []


def test_oversized_body_is_413(setup):
    gateway, fake = setup
    client = gateway.client(add_user(gateway, "frank"))
    assert gateway.admin.put("/admin/settings", json={"max_body_bytes": 1024}).status_code == 200
    big = {"model": "m", "messages": [{"role": "user", "content": "x" * 4096}]}
    resp = client.post("/v1/chat/completions", json=big)
    assert resp.status_code == 413
    assert resp.json()["error"]["code"] == "payload_too_large"
    resp = client.post("/api/chat", json=big)
    assert resp.status_code == 413 and isinstance(resp.json()["error"], str)
    assert fake.hits["/v1/chat/completions"] == 0
    assert activity(gateway) == []


def test_unknown_paths_are_json_404(setup):
    gateway, _ = setup
    client = gateway.client(add_user(gateway, "gina"))
    r1 = client.get("/v1/nope")
    r2 = client.post("/api/nope", json={})
    assert r1.status_code == 404 and r1.json()["error"]["code"] == "not_found"
    assert r2.status_code == 404 and isinstance(r2.json()["error"], str)


def test_health_and_docs(setup):
    gateway, _ = setup
    with gateway.client() as c:
        assert c.get("/health").json() == {"status": "ok"}
        ready = c.get("/health/ready")
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
        assert c.get("/docs").status_code == 404 or "swagger" not in c.get("/docs").text.lower()
        assert c.get("/openapi.json").status_code == 404
        assert c.get("/api/docs").status_code == 401
        user = gateway.settings.docs_credentials
        assert c.get("/api/docs", auth=("admin", "wrong")).status_code == 401
        assert c.get("/api/docs", auth=user).status_code == 200
        spec = c.get("/api/openapi.json", auth=user)
        assert spec.status_code == 200 and "/v1/chat/completions" in spec.json()["paths"]


def test_token_in_base_url_for_clients_without_headers(setup):
    gateway, fake = setup
    token = add_user(gateway, "cli")
    with gateway.client() as c:  # no Authorization header at all, like the Ollama CLI
        tags = c.get(f"/t/{token}/api/tags")
        assert tags.status_code == 200 and [m["name"] for m in tags.json()["models"]] == ["m", "other"]
        chat = c.post(f"/t/{token}/api/chat", json=dict(CHAT, stream=False))
        assert chat.status_code == 200 and chat.json()["model"] == "m"
        assert c.post(f"/t/{token}/v1/chat/completions", json=CHAT).status_code == 200
        assert c.get("/t/not-a-token/api/tags").status_code == 401
    assert "authorization" not in fake.requests[-1].headers  # the user's token never goes upstream


# Every POST endpoint of SPEC §2.1/§2.2 that takes a model, with a valid body and the field
# whose type is checked besides `model`.
ENDPOINT_BODIES: dict[str, tuple[dict[str, object], str]] = {
    "/v1/chat/completions": ({"model": "m", "messages": [{"role": "user", "content": "hi"}]}, "messages"),
    "/v1/completions": ({"model": "m", "prompt": "hi"}, "prompt"),
    "/v1/embeddings": ({"model": "m", "input": "hi"}, "input"),
    "/api/chat": ({"model": "m", "messages": [{"role": "user", "content": "hi"}]}, "messages"),
    "/api/generate": ({"model": "m", "prompt": "hi"}, "prompt"),
    "/api/embed": ({"model": "m", "input": "hi"}, "input"),
    "/api/embeddings": ({"model": "m", "prompt": "hi"}, "prompt"),
    "/api/show": ({"model": "m"}, "stream"),
}


def _bad_bodies(good: dict[str, object], typed: str) -> dict[str, bytes]:
    import json

    def dump(value: object) -> bytes:
        return json.dumps(value).encode()

    without_model = {k: v for k, v in good.items() if k != "model"}
    return {
        "not JSON": b"{not json",
        "truncated JSON": dump(good)[:-1],
        "not UTF-8": b"\xff\xfe garbage",
        "empty": b"",
        "array": dump([good]),
        "string": b'"just a string"',
        "null": b"null",
        "number": b"42",
        "missing model": dump(without_model),
        "model null": dump({**good, "model": None}),
        "model a number": dump({**good, "model": 5}),
        "model an array": dump({**good, "model": ["m"]}),
        "model empty": dump({**good, "model": " "}),
        f"{typed} wrong type": dump({**good, typed: {"a": 1}}),
        "stream a string": dump({**good, "stream": "yes"}),
    }


def _assert_error_format(path: str, resp) -> None:  # type: ignore[no-untyped-def]
    assert resp.headers["content-type"].startswith("application/json"), (path, resp.headers)
    error = resp.json()["error"]
    if path.startswith("/api/"):
        assert isinstance(error, str) and error, (path, resp.text)
    else:
        assert isinstance(error, dict) and error["message"] and error["type"], (path, resp.text)


def test_every_endpoint_refuses_each_bad_body_in_its_format_and_records_nothing(setup):
    """The matrix of SPEC §2's 400/413/404 cases over every model-taking endpoint: the
    status, the endpoint's own error shape, no upstream call and no activity record."""
    gateway, fake = setup
    client = gateway.client(add_user(gateway, "matrix"))
    upstream_before = sum(fake.hits.values())
    for path, (good, typed) in ENDPOINT_BODIES.items():
        for case, raw in _bad_bodies(good, typed).items():
            resp = client.post(path, content=raw, headers={"Content-Type": "application/json"})
            assert resp.status_code == 400, (path, case, resp.status_code, resp.text)
            _assert_error_format(path, resp)
            if not path.startswith("/api/"):
                assert resp.json()["error"]["type"] == "invalid_request_error", (path, case)
    assert gateway.admin.put("/admin/settings", json={"max_body_bytes": 1024}).status_code == 200
    for path, (good, _) in ENDPOINT_BODIES.items():
        big = {**good, "padding": "x" * 4096}
        resp = client.post(path, json=big)
        assert resp.status_code == 413, (path, resp.status_code, resp.text)
        _assert_error_format(path, resp)
    for method in ("GET", "POST", "PUT", "DELETE"):
        for path in ("/v1/nope", "/v1/chat/completions/extra", "/api/nope", "/api/chat/extra"):
            resp = client.request(method, path, json={"model": "m"})
            assert resp.status_code == 404, (method, path, resp.status_code, resp.text)
            _assert_error_format(path, resp)
    assert sum(fake.hits.values()) == upstream_before
    assert activity(gateway) == []
