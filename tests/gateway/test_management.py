"""Ollama model management (SPEC §2.2): /api/pull, push, create, copy, delete — permission,
routing to the node that holds the model or to the `node:{code}:` one, progress streamed."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import LiveGateway
from tests.fakes.upstream import FakeUpstream
from tests.support import add_mapping, add_node, add_user, wait_for

REAL = "llama3:latest"

# op -> (method, path, body)
OPS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "pull": ("POST", "/api/pull", {"model": "mistral:7b"}),
    "push": ("POST", "/api/push", {"model": REAL}),
    "create": ("POST", "/api/create", {"model": "my-assistant", "from": REAL}),
    "copy": ("POST", "/api/copy", {"source": REAL, "destination": "llama3-backup"}),
    "delete": ("DELETE", "/api/delete", {"model": REAL}),
}


@dataclass
class Env:
    gw: LiveGateway
    alpha: FakeUpstream
    beta: FakeUpstream
    manager: httpx.Client
    plain: httpx.Client


@pytest.fixture
def env(gateway: LiveGateway, upstream_factory: Any) -> Env:
    alpha = upstream_factory([REAL, "phi3:mini"], name="alpha")
    beta = upstream_factory([REAL], name="beta")
    add_node(gateway, alpha, name="alpha", code="alpha", priority=10)
    add_node(gateway, beta, name="beta", code="beta", priority=1)
    add_mapping(gateway, "chat-model", REAL)
    manager = gateway.client(add_user(gateway, "manager", can_manage_models=True))
    plain = gateway.client(add_user(gateway, "plain", can_manage_models=False))
    return Env(gateway, alpha, beta, manager, plain)


def call(client: httpx.Client, op: str, **body: Any) -> httpx.Response:
    method, path, default = OPS[op]
    return client.request(method, path, json={**default, **body})


def ndjson(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.split("\n") if line.strip()]


def management_hits(fake: FakeUpstream) -> list[str]:
    return [r.path for r in fake.requests if r.path in {p for _, p, _ in OPS.values()}]


# -- permission ---------------------------------------------------------------------------


def test_needs_a_manager(env: Env) -> None:
    resp = httpx.post(env.gw.url + "/api/pull", json={"model": "mistral:7b"})
    assert resp.status_code == 401 and isinstance(resp.json()["error"], str)
    bad = env.gw.client("not-a-token").post("/api/pull", json={"model": "mistral:7b"})
    assert bad.status_code == 401
    for op in OPS:  # a user without can_manage_models
        resp = call(env.plain, op)
        assert resp.status_code == 403, (op, resp.text)
        assert isinstance(resp.json()["error"], str), op
    assert management_hits(env.alpha) == [] and management_hits(env.beta) == []


@pytest.mark.parametrize("who", ["manager", "admin"])
def test_allowed_for_a_manager_and_the_admin_token(env: Env, who: str) -> None:
    client = env.manager if who == "manager" else env.gw.admin
    for op, (method, path, body) in OPS.items():
        with client.stream(method, path, json=body) as s:
            assert s.status_code == 200, (op, s.read())
            text = s.read().decode()
        if op in ("pull", "push", "create"):  # progress streams as NDJSON
            assert s.headers["content-type"].startswith("application/x-ndjson"), op
            lines = ndjson(text)
            assert len(lines) >= 2 and lines[-1] == {"status": "success"}, (op, lines)
        sent = [r for r in env.alpha.requests if r.path == path][-1]
        assert (sent.method, sent.json) == (method, body), op
    # The model is on both nodes; the higher-priority one got every request.
    assert management_hits(env.alpha) == [path for _, path, _ in OPS.values()]
    assert management_hits(env.beta) == []


# -- progress -----------------------------------------------------------------------------


def test_pull_streams_progress_as_it_comes(env: Env) -> None:
    arrivals: list[tuple[float, dict[str, Any]]] = []
    start = time.monotonic()
    # fake_chunk_delay: the fake waits 0.1 s between progress lines.
    with env.manager.stream("POST", "/api/pull", json={"model": "mistral:7b", "fake_chunk_delay": 0.1}) as s:
        assert s.status_code == 200, s.read()
        assert s.headers["content-type"].startswith("application/x-ndjson")
        for i, line in enumerate(s.iter_lines()):
            if line.strip():
                arrivals.append((time.monotonic() - start, json.loads(line)))
            if i > 50:
                break
    statuses = [obj.get("status") for _, obj in arrivals]
    assert statuses[0] == "pulling manifest" and statuses[-1] == "success", statuses
    assert any("completed" in obj for _, obj in arrivals)
    assert arrivals[0][0] < arrivals[-1][0] - 0.3, [t for t, _ in arrivals]
    assert env.alpha.requests[-1].json["model"] == "mistral:7b"


def test_pulled_model_becomes_listed(env: Env) -> None:
    # Let the discoveries started when the nodes were added finish first, so that only a
    # rediscovery caused by the pull can list the new model.
    assert wait_for(lambda: not env.gw.runtime._background, timeout=5)
    resp = env.manager.post("/api/pull", json={"model": "mistral:7b", "stream": False})
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"status": "success"}

    def listed() -> bool:
        names = [m["name"] for m in env.manager.get("/api/tags").json()["models"]]
        return "mistral:7b" in names

    assert wait_for(listed, timeout=5), "the node was not rediscovered after a pull"


# -- names: mappings and node prefixes ----------------------------------------------------


def test_display_names_are_mapped_to_real_names(env: Env) -> None:
    copied = env.manager.post("/api/copy", json={"source": "chat-model", "destination": "backup"})
    assert copied.status_code == 200, copied.text
    sent = [r for r in env.alpha.requests if r.path == "/api/copy"][-1].json
    assert sent == {"source": REAL, "destination": "backup"}

    deleted = env.manager.request("DELETE", "/api/delete", json={"model": "chat-model"})
    assert deleted.status_code == 200, deleted.text
    assert [r for r in env.alpha.requests if r.path == "/api/delete"][-1].json == {"model": REAL}


def test_node_prefix_targets_that_node(env: Env) -> None:
    pulled = env.manager.post("/api/pull", json={"model": "node:beta:mistral:7b", "stream": False})
    assert pulled.status_code == 200, pulled.text
    copied = env.manager.post(
        "/api/copy", json={"source": f"node:beta:{REAL}", "destination": "node:beta:llama3-backup"}
    )
    assert copied.status_code == 200, copied.text
    deleted = env.manager.request("DELETE", "/api/delete", json={"model": "node:beta:chat-model"})
    assert deleted.status_code == 200, deleted.text  # a display name after the prefix is mapped

    assert management_hits(env.alpha) == []
    sent = {r.path: r.json for r in env.beta.requests if r.path in ("/api/pull", "/api/copy", "/api/delete")}
    assert sent["/api/pull"]["model"] == "mistral:7b"
    assert sent["/api/copy"] == {"source": REAL, "destination": "llama3-backup"}
    assert sent["/api/delete"] == {"model": REAL}


def test_unknown_node_code_is_404(env: Env) -> None:
    for op in OPS:
        key = "source" if op == "copy" else "model"
        resp = call(env.manager, op, **{key: "node:x:llama3"})
        assert resp.status_code == 404, (op, resp.text)
        assert resp.json() == {"error": "Node with code 'x' not found"}, op
    assert management_hits(env.alpha) == [] and management_hits(env.beta) == []


def test_node_prefix_on_inference(env: Env) -> None:
    client = env.manager
    resp = client.post(
        "/api/chat",
        json={
            "model": "node:beta:chat-model",
            "stream": False,
            "messages": [{"role": "user", "content": "hi"}],
        },
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["model"] == "node:beta:chat-model"  # the name the client sent
    assert [r.json["model"] for r in env.beta.requests if r.path == "/api/chat"] == [REAL]
    assert [r for r in env.alpha.requests if r.path == "/api/chat"] == []

    unknown = client.post(
        "/api/chat", json={"model": "node:x:chat-model", "messages": [{"role": "user", "content": "hi"}]}
    )
    assert unknown.status_code == 404
    assert unknown.json() == {"error": "Node with code 'x' not found"}
    openai = client.post(
        "/v1/chat/completions",
        json={"model": "node:x:chat-model", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert openai.status_code == 404
    assert openai.json()["error"]["message"] == "Node with code 'x' not found"


def test_unknown_model_is_404_and_missing_name_400(env: Env) -> None:
    resp = env.manager.request("DELETE", "/api/delete", json={"model": "no-such-model:1b"})
    assert resp.status_code == 404, resp.text
    assert isinstance(resp.json()["error"], str)
    resp = env.manager.post("/api/pull", json={})
    assert resp.status_code == 400, resp.text
    assert isinstance(resp.json()["error"], str)
    resp = env.manager.post("/api/copy", json={"source": REAL})
    assert resp.status_code == 400, resp.text
