"""Bad input anywhere in the admin API: a JSON 4xx, never a 500, and nothing changed."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.admin.conftest import create_node, create_user
from tests.conftest import LiveGateway

# (method, path, body) — `None` body = no body at all; bytes = sent raw as JSON.
BAD_REQUESTS: list[tuple[str, str, object]] = [
    ("POST", "/admin/users", None),
    ("POST", "/admin/users", b"{not json"),
    ("POST", "/admin/users", b"[1, 2]"),
    ("POST", "/admin/users", b'"alice"'),
    ("POST", "/admin/users", {}),
    ("POST", "/admin/users", {"username": "has space"}),
    ("POST", "/admin/users", {"username": "a" * 129}),
    ("POST", "/admin/users", {"username": "x/y"}),
    ("POST", "/admin/users", {"username": 42}),
    ("POST", "/admin/users", {"username": "bob", "request_limit": "many"}),
    ("POST", "/admin/users", {"username": "bob", "token_limit": 1.5}),
    ("POST", "/admin/users", {"username": "bob", "allowed_models": "llama3"}),
    ("POST", "/admin/users", {"username": "bob", "allowed_models": [""]}),
    ("POST", "/admin/users", {"username": "bob", "token_lifetime_s": 5}),
    ("POST", "/admin/users", {"username": "bob", "is_admin": True}),
    ("POST", "/admin/users", {"username": "bob", "description": "a\x00b"}),
    ("PATCH", "/admin/users/alice", None),
    ("PATCH", "/admin/users/alice", {"is_active": None}),
    ("PATCH", "/admin/users/alice", {"is_active": "yes please"}),
    ("PATCH", "/admin/users/alice", {"username": "renamed"}),
    ("PATCH", "/admin/users/alice", {"allowed_models": None}),
    ("PUT", "/admin/users/alice/token", {"token_lifetime_s": "forever"}),
    ("PUT", "/admin/users/alice/token", {"unknown": 1}),
    ("POST", "/admin/users/alice/models", {}),
    ("POST", "/admin/users/alice/models", {"models": []}),
    ("POST", "/admin/users/alice/models", {"models": [1, 2]}),
    ("POST", "/admin/users/alice/models", {"models": "llama3"}),
    ("POST", "/admin/users/alice/limits", None),
    ("POST", "/admin/users/alice/limits", {"request_limit": "ten"}),
    ("POST", "/admin/users/alice/limits", {"requests": 10}),
    ("GET", "/admin/users/alice/usage?start=2024-13-01", None),
    ("GET", "/admin/users/alice/usage?start=9999-12-31", None),
    ("GET", "/admin/nodes/0", None),
    ("POST", "/admin/model-mappings", {"display_name": "x", "real_name": "y", "node_ids": [2**40]}),
    ("PATCH", "/admin/nodes/batch/priority", {"priorities": [{"id": 2**40, "priority": 1}]}),
    ("GET", "/admin/users?limit=abc", None),
    ("GET", "/admin/users?search=%00", None),
    ("GET", "/admin/users/al%00ice", None),
    ("POST", "/admin/nodes", None),
    ("POST", "/admin/nodes", {"name": "x", "base_url": "http://h", "node_type": "ollama", "weight": "heavy"}),
    ("PATCH", "/admin/nodes/1", {"base_url": "javascript:alert(1)"}),
    ("PATCH", "/admin/nodes/1", {"weight": -2}),
    ("PATCH", "/admin/nodes/1", {"headers": None}),
    ("PATCH", "/admin/nodes/1", {"headers": ["X-A"]}),
    ("PATCH", "/admin/nodes/batch/priority", None),
    ("PATCH", "/admin/nodes/batch/priority", {"priorities": [{"id": 1}]}),
    ("PATCH", "/admin/nodes/batch/priority", {"priorities": [{"id": "one", "priority": 1}]}),
    ("PATCH", "/admin/nodes/1/models/llama3", {"is_available": "sometimes"}),
    ("PATCH", "/admin/nodes/1/models/llama3", None),
    ("GET", "/admin/nodes/1.5", None),
    ("GET", "/admin/nodes/99999999999999999999", None),
    ("POST", "/admin/model-mappings", None),
    ("POST", "/admin/model-mappings", {"display_name": "x", "real_name": "y", "context_length": "huge"}),
    ("PUT", "/admin/model-mappings/1", None),
    ("PUT", "/admin/settings", None),
    ("PUT", "/admin/settings", {"routing_strategy": None}),
    ("GET", "/admin/activity?status=ok", None),
    ("GET", "/admin/audit-logs?offset=-5", None),
]


@pytest.mark.parametrize(
    ("method", "path", "body"), BAD_REQUESTS, ids=[f"{m} {p} {str(b)[:40]}" for m, p, b in BAD_REQUESTS]
)
def test_bad_input_is_a_4xx_and_changes_nothing(
    live: LiveGateway,
    admin: httpx.Client,
    audit_count: Callable[[], int],
    method: str,
    path: str,
    body: object,
) -> None:
    create_user(admin, "alice")
    create_node(admin, "n1", is_active=False)
    before = (
        audit_count(),
        live.runtime.snapshot.version,
        admin.get("/admin/users/alice").json(),
        admin.get("/admin/nodes/1").json(),
        admin.get("/admin/settings").json(),
    )
    kwargs: dict[str, object] = {}
    if isinstance(body, bytes):
        kwargs = {"content": body, "headers": {"Content-Type": "application/json"}}
    elif body is not None:
        kwargs = {"json": body}
    resp = admin.request(method, path, **kwargs)  # type: ignore[arg-type]
    assert 400 <= resp.status_code < 500, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    assert "detail" in resp.json()
    after = (
        audit_count(),
        live.runtime.snapshot.version,
        admin.get("/admin/users/alice").json(),
        admin.get("/admin/nodes/1").json(),
        admin.get("/admin/settings").json(),
    )
    assert after == before


def test_unknown_admin_paths_are_json_404(admin: httpx.Client) -> None:
    resp = admin.get("/admin/nope")
    assert resp.status_code == 404 and resp.json()["detail"]
