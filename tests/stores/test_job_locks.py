"""stores.job_locks against a real Redis: one holder at a time, once per interval."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from redis.asyncio import Redis

from maestro_app.stores.job_locks import JobLocks, min_spacing_s
from tests.conftest import REDIS_URL

T = TypeVar("T")


@asynccontextmanager
async def _locks(prefix: str) -> AsyncIterator[tuple[JobLocks, Redis]]:
    redis = Redis.from_url(REDIS_URL)
    try:
        yield JobLocks(redis, prefix=prefix), redis
    finally:
        await redis.aclose()


def run(prefix: str, body: Callable[[JobLocks, Redis], Awaitable[T]]) -> T:
    async def main() -> T:
        async with _locks(prefix) as (locks, redis):
            return await body(locks, redis)

    return asyncio.run(main())


def test_spacing_keeps_a_small_tolerance() -> None:
    assert min_spacing_s(300) == 295
    assert min_spacing_s(1) == 0.8
    assert min_spacing_s(86400) == 86395


def test_one_claim_per_interval_even_after_release(redis_prefix: str) -> None:
    async def body(locks: JobLocks, redis: Redis) -> None:
        token = await locks.claim("discovery", interval_s=0.5, ttl_s=10)
        assert token is not None
        assert await redis.pttl(f"{redis_prefix}:jobs:discovery:lock") > 9000
        # Held: nobody else gets it.
        assert await locks.claim("discovery", interval_s=0.5, ttl_s=10) is None
        assert await locks.release("discovery", token)
        # Released, but it ran less than an interval ago: still not due.
        assert await locks.claim("discovery", interval_s=0.5, ttl_s=10) is None
        await asyncio.sleep(0.45)
        again = await locks.claim("discovery", interval_s=0.5, ttl_s=10)
        assert again is not None
        # Another job's claim is independent.
        assert await locks.claim("warmup", interval_s=0.5, ttl_s=10) is not None

    run(redis_prefix, body)


def test_release_only_with_the_holding_token(redis_prefix: str) -> None:
    async def body(locks: JobLocks, redis: Redis) -> None:
        token = await locks.claim("retention", interval_s=0.1, ttl_s=0.2)
        assert token is not None
        assert not await locks.release("retention", "someone-else")
        await asyncio.sleep(0.3)  # the lock expired: a later run may hold it now
        other = await locks.claim("retention", interval_s=0.1, ttl_s=10)
        assert other is not None
        assert not await locks.release("retention", token)  # must not free the new holder's lock
        assert await redis.get(f"{redis_prefix}:jobs:retention:lock") == other.encode()

    run(redis_prefix, body)


def test_concurrent_claimers_get_one_token(redis_prefix: str) -> None:
    async def body(locks: JobLocks, redis: Redis) -> list[str | None]:
        return await asyncio.gather(*(locks.claim("warmup", interval_s=5, ttl_s=5) for _ in range(20)))

    tokens = run(redis_prefix, body)
    assert sum(t is not None for t in tokens) == 1


def test_a_claim_without_ttl_takes_no_lock(redis_prefix: str) -> None:
    async def body(locks: JobLocks, redis: Redis) -> None:
        assert await locks.claim("health-node-1", interval_s=0.3) is not None
        assert await locks.claim("health-node-1", interval_s=0.3) is None
        assert await redis.exists(f"{redis_prefix}:jobs:health-node-1:lock") == 0
        await asyncio.sleep(0.3)
        assert await locks.claim("health-node-1", interval_s=0.3) is not None

    run(redis_prefix, body)
