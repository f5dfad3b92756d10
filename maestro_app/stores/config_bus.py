"""Config-change fan-out over Redis pub/sub (scaled mode).

    announce(version)        after a write in this process: "the config is now at version N"
    listen(on_version)       runs until cancelled: calls on_version(N) for every announcement

A write bumps the config version in the database and reloads the writer's own snapshot;
the announcement makes every other worker and replica reload at once instead of at its next
one-second version poll. Pub/sub delivers at most once and drops messages while a listener
is reconnecting, which is why the poll stays as the safety net: a lost announcement costs
one poll interval, never a stale snapshot.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis

logger = logging.getLogger(__name__)

RECONNECT_DELAY_S = 1.0


def parse_version(data: Any) -> int | None:
    """The version in a message, or None for anything else published on the channel."""
    if isinstance(data, bytes):
        data = data.decode(errors="replace")
    try:
        return int(str(data).strip())
    except ValueError:
        return None


class ConfigBus:
    def __init__(self, redis: Redis, *, channel: str) -> None:
        self._redis = redis
        self.channel = channel
        # Set while a subscription is live (tests wait for it before writing).
        self.subscribed = asyncio.Event()

    async def announce(self, version: int) -> int:
        """Publish a new version; returns how many subscribers received it."""
        return int(await self._redis.publish(self.channel, str(version)))

    async def listen(self, on_version: Callable[[int], Awaitable[None]]) -> None:
        """Deliver announcements until cancelled, resubscribing after a Redis error."""
        while True:
            try:
                await self._listen_once(on_version)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning(
                    "config announcements interrupted (%s); resubscribing", exc or type(exc).__name__
                )
            finally:
                self.subscribed.clear()
            await asyncio.sleep(RECONNECT_DELAY_S)

    async def _listen_once(self, on_version: Callable[[int], Awaitable[None]]) -> None:
        async with self._redis.pubsub() as pubsub:
            await pubsub.subscribe(self.channel)
            self.subscribed.set()
            async for message in pubsub.listen():
                if message.get("type") != "message":
                    continue
                version = parse_version(message.get("data"))
                if version is not None:
                    await on_version(version)
