"""services.health: probes over real HTTP, hysteresis, events, audit and versioning."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable

import httpx
from sqlmodel import Session, select

from maestro_app.db.models import AuditRecord, Node, NodeHealthEvent
from maestro_app.domain.balancing import BalancerState
from maestro_app.runtime import JOB_HTTP_TIMEOUT
from maestro_app.services.health import (
    HealthResult,
    check_active_nodes,
    check_node,
    probe_node,
    run_health_checks,
)
from maestro_app.services.node_target import NodeTarget
from tests.fakes.upstream import FakeUpstream
from tests.services.conftest import SessionFactory, add_node


def _check(session_factory: SessionFactory, node_id: int, **kwargs: object) -> HealthResult:
    async def run() -> HealthResult:
        async with httpx.AsyncClient() as client:
            return await check_node(session_factory=session_factory, node_id=node_id, client=client, **kwargs)  # type: ignore[arg-type]

    return asyncio.run(run())


def test_hysteresis_events_and_versions(
    session_factory: SessionFactory,
    engine: object,
    config_version: Callable[[], int],
    upstream_factory: Callable[..., FakeUpstream],
) -> None:
    fake = upstream_factory(["m"])
    node_id = add_node(session_factory, fake.url)
    fake.fail_health(True)
    v0 = config_version()
    first = _check(session_factory, node_id)
    assert (first.ok, first.status, first.changed, first.consecutive_failures) == (False, "unknown", False, 1)
    assert config_version() == v0
    second = _check(session_factory, node_id)
    assert (second.status, second.previous_status, second.changed) == ("unhealthy", "unknown", True)
    assert config_version() == v0 + 1
    third = _check(session_factory, node_id)
    assert third.status == "unhealthy" and not third.changed and third.consecutive_failures == 3
    fake.fail_health(False)
    back = _check(session_factory, node_id)
    assert (back.ok, back.status, back.changed, back.consecutive_failures) == (True, "healthy", True, 0)
    assert back.http_status == 200 and back.error is None
    one_miss = None
    fake.fail_health(True)
    one_miss = _check(session_factory, node_id)
    assert one_miss.status == "healthy" and not one_miss.changed
    assert config_version() == v0 + 2
    with Session(engine) as session:  # type: ignore[arg-type]
        node = session.get(Node, node_id)
        assert node is not None and node.health_status == "healthy" and node.consecutive_failures == 1
        assert node.last_error == "HTTP 503" and node.last_health_check is not None
        events = session.exec(select(NodeHealthEvent)).all()
        assert [(e.old_status, e.new_status) for e in events] == [
            ("unknown", "unhealthy"),
            ("unhealthy", "healthy"),
        ]
        # Checks made by the periodic job (no actor) are not audited.
        assert session.exec(select(AuditRecord)).all() == []


def test_admin_checks_are_audited(
    session_factory: SessionFactory, engine: object, upstream_factory: Callable[..., FakeUpstream]
) -> None:
    fake = upstream_factory(["m"])
    node_id = add_node(session_factory, fake.url)
    assert _check(session_factory, node_id, actor="root").ok
    with Session(engine) as session:  # type: ignore[arg-type]
        record = session.exec(select(AuditRecord)).one()
    assert (record.actor, record.action, record.entity_id) == ("root", "node.health_check", str(node_id))


def test_sends_api_key_and_headers_to_the_configured_url(
    session_factory: SessionFactory, upstream_factory: Callable[..., FakeUpstream]
) -> None:
    fake = upstream_factory(["m"], api_key="sk-secret-key-123")
    node_id = add_node(
        session_factory,
        fake.url,
        node_type="vllm",
        api_key="sk-secret-key-123",
        headers={"X-Team": "blue", "Authorization": "Bearer overridden"},
        health_check_url="/v1/models",
    )
    result = _check(session_factory, node_id)
    assert result.ok and result.url == f"{fake.url}/v1/models"
    sent = fake.requests[-1]
    assert sent.path == "/v1/models"
    assert sent.headers["authorization"] == "Bearer sk-secret-key-123"
    assert sent.headers["x-team"] == "blue"


def _target(node_type: str, url: str | None = None) -> NodeTarget:
    return NodeTarget(
        id=1,
        name="n",
        base_url="http://node.test",
        node_type=node_type,
        api_key=None,
        headers=(),
        health_check_url=url,
    )


def _probe(target: NodeTarget, handler: Callable[[httpx.Request], httpx.Response]):  # type: ignore[no-untyped-def]
    async def run():  # type: ignore[no-untyped-def]
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await probe_node(target=target, client=client, timeout_s=1.0)

    return asyncio.run(run())


def test_vllm_falls_back_to_the_models_list() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(404 if request.url.path == "/health" else 200, json={"data": []})

    probe = _probe(_target("vllm"), handler)
    assert probe.ok and probe.url == "http://node.test/v1/models"
    assert seen == ["/health", "/v1/models"]


def test_ollama_probe_and_timeouts() -> None:
    probe = _probe(_target("ollama"), lambda r: httpx.Response(200, json={"version": "1"}))
    assert probe.ok and probe.url == "http://node.test/api/version"

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    probe = _probe(_target("ollama"), slow)
    assert not probe.ok and probe.error is not None and probe.error.startswith("ReadTimeout")
    probe = _probe(_target("vllm", "http://elsewhere.test/ready"), lambda r: httpx.Response(500))
    assert not probe.ok and probe.url == "http://elsewhere.test/ready" and probe.error == "HTTP 500"


def test_check_active_nodes_skips_inactive(
    session_factory: SessionFactory, upstream_factory: Callable[..., FakeUpstream]
) -> None:
    fake = upstream_factory(["m"])
    active = add_node(session_factory, fake.url, name="on")
    add_node(session_factory, fake.url, name="off", is_active=False)
    dead = add_node(session_factory, "http://127.0.0.1:9", name="dead")

    async def run() -> list[HealthResult]:
        async with httpx.AsyncClient() as client:
            return await check_active_nodes(session_factory=session_factory, client=client, timeout_s=2)

    results = {r.node_id: r for r in asyncio.run(run())}
    assert set(results) == {active, dead}
    assert results[active].status == "healthy" and results[dead].ok is False


def test_a_node_that_never_answers_costs_the_job_one_timeout(
    session_factory: SessionFactory, upstream_factory: Callable[..., FakeUpstream]
) -> None:
    """A node that accepts the connection and never answers: the probe gives up after its own
    bound (not the runtime client's 30 s), and the other nodes' checks are not held up."""
    fake = upstream_factory(["m"])
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel completes the handshake; nobody ever reads or answers
        hung = add_node(session_factory, f"http://127.0.0.1:{silent.getsockname()[1]}", name="hung")
        fine = add_node(session_factory, fake.url, name="fine")
        state = BalancerState()

        async def run() -> list[HealthResult]:
            async with httpx.AsyncClient(timeout=JOB_HTTP_TIMEOUT) as client:
                return await run_health_checks(
                    session_factory=session_factory, client=client, state=state, interval_s=30, timeout_s=0.5
                )

        started = time.monotonic()
        results = {r.node_id: r for r in asyncio.run(run())}
        elapsed = time.monotonic() - started
    assert 0.45 <= elapsed < 3, elapsed
    assert results[hung].ok is False and (results[hung].error or "").startswith("ReadTimeout")
    assert (results[hung].status, results[hung].consecutive_failures) == ("unknown", 1)
    assert results[fine].ok and results[fine].status == "healthy"
    assert (state.health[hung].failures, state.health[fine].status) == (1, "healthy")
