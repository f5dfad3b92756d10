"""services.warmup: which nodes and models, the request each node type gets, waiting for
open requests, and nothing recorded anywhere."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
from sqlmodel import Session, func, select

from maestro_app.db.models import ActivityRecord, NodeModel, utcnow
from maestro_app.services.warmup import WarmupResult, keep_alive_for, plan_warmup, warm_nodes
from tests.fakes.upstream import FakeUpstream
from tests.services.conftest import SessionFactory, add_node


def _models(session_factory: SessionFactory, node_id: int, *names: str, **fields: Any) -> None:
    with session_factory() as session:
        for name in names:
            session.add(NodeModel(node_id=node_id, name=name, **fields))


def _used(
    session_factory: SessionFactory, node_id: int, model: str, *, ago_s: float = 60, status: int = 200
) -> None:
    with session_factory() as session:
        n = session.exec(select(func.count()).select_from(ActivityRecord)).one()
        session.add(
            ActivityRecord(
                request_id=f"r{n}-{node_id}-{model}",
                node_id=node_id,
                model=model,
                real_model=model,
                endpoint="/api/chat",
                status_code=status,
                created_at=utcnow() - timedelta(seconds=ago_s),
            )
        )


def _warm(session_factory: SessionFactory, **kwargs: Any) -> list[WarmupResult]:
    async def run() -> list[WarmupResult]:
        async with httpx.AsyncClient() as client:
            return await warm_nodes(session_factory=session_factory, client=client, interval_s=240, **kwargs)

    return asyncio.run(run())


def _generates(fake: FakeUpstream) -> list[dict[str, Any]]:
    return [r.json for r in fake.requests if r.path == "/api/generate"]


def test_only_warmup_enabled_ollama_nodes_and_their_used_models(
    session_factory: SessionFactory, engine: Any, upstream_factory: Callable[..., FakeUpstream]
) -> None:
    warm = upstream_factory(
        ["llama3:latest", "qwen:7b", "phi3:latest", "old:latest"], api_key="sk-node-key-123456"
    )
    cold = upstream_factory(["llama3:latest"])
    vllm = upstream_factory(["served-model"])
    off = upstream_factory(["llama3:latest"])
    warm_id = add_node(session_factory, warm.url, warmup_enabled=True, api_key="sk-node-key-123456")
    cold_id = add_node(session_factory, cold.url, warmup_enabled=False)
    vllm_id = add_node(session_factory, vllm.url, node_type="vllm", warmup_enabled=True)
    off_id = add_node(session_factory, off.url, warmup_enabled=True, is_active=False)
    _models(session_factory, warm_id, "llama3:latest", "qwen:7b", "phi3:latest", "old:latest")
    _models(session_factory, warm_id, "gone:latest", is_present=False)
    _models(session_factory, warm_id, "disabled:latest", availability_override=False)
    for node_id, model in ((cold_id, "llama3:latest"), (vllm_id, "served-model"), (off_id, "llama3:latest")):
        _models(session_factory, node_id, model)
        _used(session_factory, node_id, model)
    _used(session_factory, warm_id, "qwen:7b", ago_s=30)
    _used(session_factory, warm_id, "llama3", ago_s=600)  # tagless, as a client may name it
    _used(session_factory, warm_id, "gone:latest")
    _used(session_factory, warm_id, "disabled:latest")
    _used(session_factory, warm_id, "old:latest", ago_s=2 * 86400)  # not used lately
    _used(session_factory, warm_id, "phi3:latest", status=500)  # failed: not a use
    with Session(engine) as session:
        records = session.exec(select(func.count()).select_from(ActivityRecord)).one()

    results = _warm(session_factory, stream_wait_s=5)

    # Least recently used first; the node's own spelling; the empty prompt loads only.
    assert _generates(warm) == [
        {"model": "llama3:latest", "prompt": "", "keep_alive": "305s"},
        {"model": "qwen:7b", "prompt": "", "keep_alive": "305s"},
    ]
    assert all(r.headers["authorization"] == "Bearer sk-node-key-123456" for r in warm.requests)
    assert [(r.node_id, r.model, r.ok, r.http_status) for r in results] == [
        (warm_id, "llama3:latest", True, 200),
        (warm_id, "qwen:7b", True, 200),
    ]
    for fake in (cold, vllm, off):
        assert fake.requests == []
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(ActivityRecord)).one() == records


def test_keep_alive_covers_interval_wait_and_margin() -> None:
    assert keep_alive_for(240, 60) == "360s"
    assert keep_alive_for(0.5, 0) == "61s"


def test_a_failing_model_load_is_reported_not_raised(
    session_factory: SessionFactory, upstream_factory: Callable[..., FakeUpstream]
) -> None:
    fake = upstream_factory(["a:latest", "b:latest"])
    node_id = add_node(session_factory, fake.url, warmup_enabled=True)
    _models(session_factory, node_id, "a:latest", "b:latest")
    _used(session_factory, node_id, "a:latest", ago_s=20)
    _used(session_factory, node_id, "b:latest", ago_s=10)
    fake.fail_next("status", status=500, paths=["/api/generate"])
    results = _warm(session_factory)
    assert [(r.model, r.ok, r.http_status) for r in results] == [
        ("a:latest", False, 500),
        ("b:latest", True, 200),
    ]
    assert results[0].error is not None and results[0].error.startswith("HTTP 500")


def test_waits_while_the_node_is_busy_then_runs_anyway(
    session_factory: SessionFactory, upstream_factory: Callable[..., FakeUpstream]
) -> None:
    fake = upstream_factory(["a:latest"])
    node_id = add_node(session_factory, fake.url, warmup_enabled=True)
    _models(session_factory, node_id, "a:latest")
    _used(session_factory, node_id, "a:latest")

    # Busy for 0.4 s from the first time the job asks (planning before that may be slow).
    asked: list[float] = []

    def busy(n: int) -> bool:
        now = time.monotonic()
        asked.append(now)
        return n == node_id and now < asked[0] + 0.4

    results = _warm(session_factory, node_busy=busy, stream_wait_s=5)
    assert 0.35 <= results[0].waited_s <= 1.0
    assert fake.requests[0].time >= asked[0] + 0.4 - 0.01

    started = time.monotonic()
    results = _warm(session_factory, node_busy=lambda n: True, stream_wait_s=0.3)
    assert results[0].ok and 0.25 <= results[0].waited_s <= 0.8
    assert time.monotonic() - started < 2


def test_plan_is_empty_without_use(
    session_factory: SessionFactory, upstream_factory: Callable[..., FakeUpstream]
) -> None:
    fake = upstream_factory(["a:latest"])
    node_id = add_node(session_factory, fake.url, warmup_enabled=True)
    _models(session_factory, node_id, "a:latest")
    with session_factory() as session:
        assert plan_warmup(session, since=utcnow() - timedelta(days=1)) == []
