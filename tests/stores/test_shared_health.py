"""stores.shared_health against a real Redis: the Lua hysteresis matches the Python rule,
views read back, open requests expire with their process."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest
from redis.asyncio import Redis

from maestro_app.domain.health import next_health
from maestro_app.stores.shared_health import SharedHealth
from tests.conftest import REDIS_URL
from tests.domain.test_health_rules import HYSTERESIS

T = TypeVar("T")


def run(prefix: str, body: Callable[[Redis], Awaitable[T]]) -> T:
    async def main() -> T:
        redis = Redis.from_url(REDIS_URL)
        try:
            return await body(redis)
        finally:
            await redis.aclose()

    return asyncio.run(main())


@pytest.mark.parametrize(("previous", "failures", "ok", "status", "after"), HYSTERESIS)
def test_the_script_applies_the_same_rule(
    redis_prefix: str, previous: str, failures: int, ok: bool, status: str, after: int
) -> None:
    async def body(redis: Redis) -> None:
        shared = SharedHealth(redis, prefix=redis_prefix, process_id="p1")
        outcome = await shared.record(
            7, ok=ok, seed_status=previous, seed_failures=failures, checked_at=1.5, loaded=(), error=None
        )
        assert (outcome.previous, outcome.status, outcome.failures) == (previous, status, after)

    run(redis_prefix, body)


def test_the_counter_lives_in_redis_once_seeded(redis_prefix: str) -> None:
    async def body(redis: Redis) -> None:
        a = SharedHealth(redis, prefix=redis_prefix, process_id="a")
        b = SharedHealth(redis, prefix=redis_prefix, process_id="b")
        expected = ("unknown", 0)
        for i, (who, ok) in enumerate([(a, False), (b, False), (a, False), (b, True), (a, False)]):
            # Stale seeds are ignored once Redis holds the node's state.
            outcome = await who.record(
                3, ok=ok, seed_status="unknown", seed_failures=0, checked_at=float(i), loaded=(), error="x"
            )
            expected = next_health(*expected, ok)
            assert (outcome.status, outcome.failures) == expected
        views = await b.read([3, 4])
        assert list(views) == [3]
        assert views[3].status == "healthy" and views[3].failures == 1 and views[3].checked_at == 4.0
        ttl = await redis.pttl(f"{redis_prefix}:health:3")
        assert ttl > 23 * 3600 * 1000

    run(redis_prefix, body)


def test_loaded_models_are_shared(redis_prefix: str) -> None:
    async def body(redis: Redis) -> None:
        shared = SharedHealth(redis, prefix=redis_prefix, process_id="a")
        await shared.record(
            1,
            ok=True,
            seed_status="unknown",
            seed_failures=0,
            checked_at=2.0,
            loaded={"llama3:latest", "qwen:7b"},
            error=None,
        )
        view = (await SharedHealth(redis, prefix=redis_prefix, process_id="b").read([1]))[1]
        assert view.loaded == frozenset({"llama3:latest", "qwen:7b"})

    run(redis_prefix, body)


def test_open_requests_of_other_processes(redis_prefix: str) -> None:
    async def body(redis: Redis) -> None:
        a = SharedHealth(redis, prefix=redis_prefix, process_id="a")
        b = SharedHealth(redis, prefix=redis_prefix, process_id="b")
        c = SharedHealth(redis, prefix=redis_prefix, process_id="c")
        await a.publish_in_flight({1: 2, 2: 0}, ttl_s=5)
        await b.publish_in_flight({1: 1, 3: 4}, ttl_s=0.2)
        assert await c.read_in_flight() == {1: 3, 3: 4}
        assert await a.read_in_flight() == {1: 1, 3: 4}  # its own are not "elsewhere"
        await asyncio.sleep(0.3)  # b stopped publishing: its entry expired
        assert await c.read_in_flight() == {1: 2}
        assert await redis.hkeys(f"{redis_prefix}:inflight") == [b"a"]  # pruned
        await a.withdraw()
        assert await c.read_in_flight() == {}

    run(redis_prefix, body)


def test_reseed_ignores_a_leftover_hash(redis_prefix: str) -> None:
    async def body(redis: Redis) -> None:
        shared = SharedHealth(redis, prefix=redis_prefix, process_id="a")
        for _ in range(3):
            await shared.record(
                5, ok=False, seed_status="unknown", seed_failures=0, checked_at=1.0, loaded=(), error="x"
            )
        # A new node got id 5 (the database has never checked it): start from its own state.
        outcome = await shared.record(
            5,
            ok=False,
            seed_status="unknown",
            seed_failures=0,
            checked_at=2.0,
            loaded=(),
            error="x",
            reseed=True,
        )
        assert (outcome.previous, outcome.status, outcome.failures) == ("unknown", "unknown", 1)

    run(redis_prefix, body)
