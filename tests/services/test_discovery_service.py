"""services.discovery: reading Ollama and vLLM nodes, upserting NodeModel rows."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select

from maestro_app.db.models import AuditRecord, NodeModel
from maestro_app.services.discovery import (
    DiscoveryResult,
    discover_active_nodes,
    discover_in_background,
    discover_node,
    fetch_models,
)
from maestro_app.services.errors import UpstreamError
from maestro_app.services.node_target import NodeTarget
from tests.fakes.upstream import FakeModel, FakeUpstream
from tests.services.conftest import SessionFactory, add_node


def _discover(session_factory: SessionFactory, node_id: int, **kwargs: Any) -> DiscoveryResult:
    async def run() -> DiscoveryResult:
        async with httpx.AsyncClient() as client:
            return await discover_node(
                session_factory=session_factory, node_id=node_id, client=client, **kwargs
            )

    return asyncio.run(run())


def _rows(engine: Any, node_id: int) -> dict[str, NodeModel]:
    with Session(engine) as session:
        return {r.name: r for r in session.exec(select(NodeModel).where(NodeModel.node_id == node_id))}


def test_ollama_discovery_reads_tags_and_show(
    session_factory: SessionFactory, engine: Any, upstream_factory: Callable[..., FakeUpstream]
) -> None:
    fake = upstream_factory(
        [
            FakeModel("llama3:latest", context_length=8192, capabilities=["completion", "tools"]),
            FakeModel(
                "nomic-embed-text:latest",
                context_length=2048,
                family="nomic-bert",
                capabilities=["embedding"],
            ),
        ]
    )
    node_id = add_node(session_factory, fake.url)
    result = _discover(session_factory, node_id)
    assert result.changed and sorted(result.added) == ["llama3:latest", "nomic-embed-text:latest"]
    shows = sorted(r.json["model"] for r in fake.requests if r.path == "/api/show")
    assert shows == ["llama3:latest", "nomic-embed-text:latest"]
    rows = _rows(engine, node_id)
    embed = rows["nomic-embed-text:latest"]
    assert embed.context_length == 2048 and embed.capabilities == ["embedding"]
    assert embed.family == "nomic-bert" and embed.quantization == "Q4_0" and embed.size
    assert embed.parameter_size and embed.details["format"] == "gguf" and "digest" in embed.details
    assert rows["llama3:latest"].capabilities == ["completion", "tools"]


def test_vanished_models_keep_the_override(
    session_factory: SessionFactory,
    engine: Any,
    config_version: Callable[[], int],
    upstream_factory: Callable[..., FakeUpstream],
) -> None:
    fake = upstream_factory(["a:latest", "b:latest"])
    node_id = add_node(session_factory, fake.url)
    _discover(session_factory, node_id)
    with session_factory() as session:
        row = session.exec(select(NodeModel).where(NodeModel.name == "a:latest")).one()
        row.availability_override = True
        session.add(row)
    version = config_version()
    again = _discover(session_factory, node_id)
    assert not again.changed and config_version() == version
    fake.models = ["b:latest", "c:latest"]
    result = _discover(session_factory, node_id)
    assert result.added == ["c:latest"] and result.vanished == ["a:latest"] and result.updated == []
    assert config_version() == version + 1
    rows = _rows(engine, node_id)
    assert rows["a:latest"].is_present is False and rows["a:latest"].availability_override is True
    fake.models = ["a:latest"]
    result = _discover(session_factory, node_id)
    assert result.updated == ["a:latest"] and sorted(result.vanished) == ["b:latest", "c:latest"]
    rows = _rows(engine, node_id)
    assert rows["a:latest"].is_present and rows["a:latest"].availability_override is True


def test_vllm_discovery(
    session_factory: SessionFactory, engine: Any, upstream_factory: Callable[..., FakeUpstream]
) -> None:
    fake = upstream_factory([FakeModel("Qwen/Qwen2.5-7B", context_length=131072)], api_key="sk-vllm-0000")
    node_id = add_node(session_factory, fake.url, node_type="vllm", api_key="sk-vllm-0000")
    result = _discover(session_factory, node_id, actor="root")
    assert [(m.name, m.context_length, m.is_available) for m in result.models] == [
        ("Qwen/Qwen2.5-7B", 131072, True)
    ]
    assert not any(r.path.startswith("/api/") for r in fake.requests)
    with Session(engine) as session:
        audit = session.exec(select(AuditRecord)).one()
    assert audit.action == "node.discover" and audit.details["added"] == ["Qwen/Qwen2.5-7B"]


def _target(node_type: str = "ollama") -> NodeTarget:
    return NodeTarget(
        id=1,
        name="n",
        base_url="http://node.test",
        node_type=node_type,
        api_key=None,
        headers=(),
        health_check_url=None,
    )


def _fetch(handler: Callable[[httpx.Request], httpx.Response], node_type: str = "ollama") -> list[Any]:
    async def run() -> list[Any]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await fetch_models(target=_target(node_type), client=client, timeout_s=1)

    return asyncio.run(run())


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(500, json={"error": "boom"}),
        httpx.Response(200, content=b"<html>"),
        httpx.Response(200, json={"models": "nope"}),
        httpx.Response(200, json=[1, 2]),
    ],
)
def test_unreadable_nodes_raise_upstream_error(answer: httpx.Response) -> None:
    with pytest.raises(UpstreamError):
        _fetch(lambda request: answer)
    with pytest.raises(UpstreamError):
        _fetch(lambda request: answer, node_type="vllm")


def test_a_failing_show_keeps_the_model_and_junk_is_skipped() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/tags":
            return httpx.Response(
                200,
                json={
                    "models": [
                        {"name": "good:1", "size": 10, "details": {"family": "llama"}},
                        {"name": "broken:1", "size": "big", "details": "odd"},
                        {"name": 42},
                        "junk",
                        {"model": "alias:1"},
                    ]
                },
            )
        if request.url.path == "/api/show" and b"broken" in request.content:
            return httpx.Response(500)
        return httpx.Response(
            200,
            json={
                "model_info": {"general.architecture": "llama", "llama.context_length": 4096},
                "capabilities": ["tools", "completion", 7],
            },
        )

    found = {m.name: m for m in _fetch(handler)}
    assert set(found) == {"good:1", "broken:1", "alias:1"}
    assert found["good:1"].context_length == 4096 and found["good:1"].capabilities == ["completion", "tools"]
    assert found["broken:1"].context_length is None and found["broken:1"].size is None


def test_concurrent_discoveries_of_one_node(
    session_factory: SessionFactory, engine: Any, upstream_factory: Callable[..., FakeUpstream]
) -> None:
    fake = upstream_factory([f"m{i}:latest" for i in range(8)])
    node_id = add_node(session_factory, fake.url)

    async def run() -> list[DiscoveryResult]:
        async with httpx.AsyncClient() as client:
            return list(
                await asyncio.gather(
                    *(
                        discover_node(session_factory=session_factory, node_id=node_id, client=client)
                        for _ in range(3)
                    )
                )
            )

    results = asyncio.run(run())
    assert all(len(r.models) == 8 for r in results)
    assert len(_rows(engine, node_id)) == 8


def test_background_discovery_and_all_active(
    session_factory: SessionFactory, upstream_factory: Callable[..., FakeUpstream]
) -> None:
    fake = upstream_factory(["m:latest"])
    node_id = add_node(session_factory, fake.url, name="live")
    dead = add_node(session_factory, "http://127.0.0.1:9", name="dead")
    add_node(session_factory, fake.url, name="off", is_active=False)
    calls: list[int] = []
    result = asyncio.run(
        discover_in_background(
            session_factory=session_factory, node_id=node_id, on_change=lambda: calls.append(1)
        )
    )
    assert result is not None and result.added == ["m:latest"] and calls == [1]
    assert asyncio.run(discover_in_background(session_factory=session_factory, node_id=dead)) is None
    assert asyncio.run(discover_in_background(session_factory=session_factory, node_id=4242)) is None

    async def all_active() -> list[DiscoveryResult]:
        async with httpx.AsyncClient() as client:
            return await discover_active_nodes(session_factory=session_factory, client=client, timeout_s=2)

    assert [r.node_id for r in asyncio.run(all_active())] == [node_id]
