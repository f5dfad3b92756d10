"""services.node_idle and the streaming-aware discovery job."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx

from maestro_app.services.discovery import discover_active_nodes
from maestro_app.services.node_idle import wait_until_idle
from tests.fakes.upstream import FakeUpstream
from tests.services.conftest import SessionFactory, add_node


def test_wait_until_idle_returns_at_once_when_idle_and_is_bounded() -> None:
    assert asyncio.run(wait_until_idle(node_id=1, busy=None, max_wait_s=5)) == 0
    assert asyncio.run(wait_until_idle(node_id=1, busy=lambda n: False, max_wait_s=5)) == 0
    until = time.monotonic() + 0.3
    waited = asyncio.run(wait_until_idle(node_id=1, busy=lambda n: time.monotonic() < until, max_wait_s=5))
    assert 0.28 <= waited <= 0.6
    waited = asyncio.run(wait_until_idle(node_id=1, busy=lambda n: True, max_wait_s=0.2))
    assert 0.18 <= waited <= 0.5


def test_discovery_of_a_busy_node_waits_and_the_others_do_not(
    session_factory: SessionFactory, upstream_factory: Callable[..., FakeUpstream]
) -> None:
    quiet = upstream_factory(["q:latest"])
    busy = upstream_factory(["b:latest"])
    quiet_id = add_node(session_factory, quiet.url)
    busy_id = add_node(session_factory, busy.url)
    changes: list[int] = []
    until = time.monotonic() + 0.5

    async def run() -> None:
        async with httpx.AsyncClient() as client:
            results = await discover_active_nodes(
                session_factory=session_factory,
                client=client,
                node_busy=lambda n: n == busy_id and time.monotonic() < until,
                stream_wait_s=5,
                on_change=lambda: changes.append(1),
            )
        assert sorted(r.node_id for r in results) == sorted([quiet_id, busy_id])

    started = time.monotonic()
    asyncio.run(run())
    assert quiet.requests[0].time - started < 0.3
    assert busy.requests[0].time >= until - 0.01
    assert changes == [1]  # one snapshot reload for the whole run
