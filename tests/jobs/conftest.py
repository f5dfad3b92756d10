"""Helpers of the background-job tests: a node's health as routing sees it, chats that say
which fake answered, timing against the fakes' own request clocks."""

from __future__ import annotations

from typing import Any

import httpx

from maestro_app.domain.routing import node_status
from tests.conftest import LiveGateway
from tests.fakes.upstream import FakeUpstream


def status(live: LiveGateway, node_id: int) -> str:
    """The node's health as this gateway routes on it (live view or snapshot)."""
    node = live.runtime.snapshot.node(node_id)
    assert node is not None
    return node_status(node, live.runtime.balancer)


def chat(client: httpx.Client, model: str = "m", **body: Any) -> httpx.Response:
    payload = {"model": model, "messages": [{"role": "user", "content": "hi"}], "stream": False, **body}
    return client.post("/api/chat", json=payload)


def warmups(fake: FakeUpstream) -> list[Any]:
    """Warmup requests the fake received: empty-prompt generates."""
    return [r for r in fake.requests if r.path == "/api/generate" and r.json.get("prompt") == ""]


def hits(fake: FakeUpstream, path: str) -> int:
    return fake.hits[path]
