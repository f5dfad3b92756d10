"""Fixtures for the admin API tests.

They stand on the shared fixtures of `tests/conftest.py`: `database_url` (every test runs on
a fresh SQLite file and on a fresh PostgreSQL database) and `gateway` (a `Runtime` built
from `load_settings(maestro_data_dir=<tmp>, ollama_base_url="", database_url=...)`, started
on uvicorn's event loop in a background thread, serving `create_gateway_app(runtime)` on a
real 127.0.0.1 socket, stopped at teardown).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlmodel import Session, func, select

from maestro_app.db.models import AuditRecord
from tests.conftest import LiveGateway
from tests.fakes.upstream import FakeModel, FakeUpstream

FAKE_MODELS = [
    FakeModel("llama3:latest", context_length=8192, capabilities=["completion", "tools"]),
    FakeModel(
        "qwen2.5:7b", context_length=32768, family="qwen2", capabilities=["completion", "tools", "vision"]
    ),
]


@pytest.fixture
def live(gateway: LiveGateway) -> LiveGateway:
    """The running gateway; `live.runtime` is the very runtime that serves the requests."""
    return gateway


@pytest.fixture
def admin(live: LiveGateway) -> httpx.Client:
    """A client that sends the admin token."""
    return live.admin


@pytest.fixture
def anon(live: LiveGateway) -> httpx.Client:
    """A client without any Authorization header."""
    return live.client()


@pytest.fixture
def fake(upstream_factory: Callable[..., FakeUpstream]) -> Iterator[FakeUpstream]:
    """A fake Ollama/vLLM upstream serving FAKE_MODELS on a loopback port."""
    yield upstream_factory(list(FAKE_MODELS))


@pytest.fixture
def audit_count(live: LiveGateway) -> Callable[[], int]:
    """How many audit records exist right now (read straight from the database)."""

    def count() -> int:
        with Session(live.runtime.engine) as session:
            return int(session.exec(select(func.count()).select_from(AuditRecord)).one())

    return count


def audit_actions(admin: httpx.Client, **params: Any) -> list[str]:
    """Audit actions, newest first."""
    resp = admin.get("/admin/audit-logs", params={"limit": 1000, **params})
    assert resp.status_code == 200, resp.text
    return [item["action"] for item in resp.json()["items"]]


def create_user(admin: httpx.Client, username: str = "alice", **fields: Any) -> dict[str, Any]:
    resp = admin.post("/admin/users", json={"username": username, **fields})
    assert resp.status_code == 201, resp.text
    return resp.json()  # type: ignore[no-any-return]


def create_node(
    admin: httpx.Client, name: str = "n1", base_url: str = "http://127.0.0.1:9", **fields: Any
) -> dict[str, Any]:
    body = {"name": name, "base_url": base_url, "node_type": "ollama", **fields}
    resp = admin.post("/admin/nodes", json=body)
    assert resp.status_code == 201, resp.text
    return resp.json()  # type: ignore[no-any-return]
