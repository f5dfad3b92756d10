"""Daily request and token limits: atomic admission, settlement with the real counts.

    admit(user, estimate)  -> Reservation   (or RateLimited: 429 with Retry-After)
    settle(reservation, tokens=..., refund=...)

Counters are per user and UTC day: `requests` (admitted, not refunded) and `tokens` (used
plus reserved). A request is admitted while requests < request_limit and tokens <
token_limit; admission adds 1 request and the token estimate in the same atomic step, so
N concurrent requests against a limit of M admit exactly M. Settlement replaces the
estimate by the real count, and refunds the request when the gateway could not answer.

Two stores, one interface: `MemoryLimitStore` (embedded mode, one process: plain dict
operations with no await between check and update, so the event loop makes them atomic)
and `RedisLimitStore` (scaled mode: one Lua script, atomic across workers and replicas).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from redis.asyncio import Redis

from maestro_app.domain.errors import RateLimited
from maestro_app.domain.snapshot import UserView

Clock = Callable[[], float]
COUNTER_TTL_S = 3 * 24 * 3600


@dataclass(frozen=True, slots=True)
class Reservation:
    user_id: int
    day: str
    estimate: int


_day_memo: tuple[int, str] = (-1, "")


def utc_day(now: float) -> str:
    """`now`'s UTC date as YYYY-MM-DD (Unix days are exactly 86,400 s: no leap seconds), with
    the last answer kept: every admission asks, and formatting a date each time showed up."""
    global _day_memo
    number = int(now // 86400)
    if _day_memo[0] != number:
        _day_memo = (number, datetime.fromtimestamp(number * 86400, UTC).strftime("%Y-%m-%d"))
    return _day_memo[1]


def seconds_to_midnight(now: float) -> int:
    moment = datetime.fromtimestamp(now, UTC)
    midnight = (moment + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((midnight - moment).total_seconds() + 0.999))


def refusal(kind: str, limit: int, now: float) -> RateLimited:
    what = "request" if kind == "requests" else "token"
    return RateLimited(
        f"Daily {what} limit of {limit} reached; it resets at 00:00 UTC",
        retry_after=seconds_to_midnight(now),
        code=f"daily_{what}_limit_exceeded",
    )


class LimitStore(Protocol):
    clock: Clock

    async def admit(self, user: UserView, *, estimate: int) -> Reservation: ...

    async def settle(self, reservation: Reservation, *, tokens: int, refund: bool) -> None: ...

    async def usage(self, user_id: int) -> tuple[int, int]: ...


class MemoryLimitStore:
    def __init__(self, *, clock: Clock = time.time) -> None:
        self.clock = clock
        self._counters: dict[tuple[int, str], list[int]] = {}

    def preload(self, day: str, rows: Iterable[tuple[int, int, int]]) -> None:
        """Counters of `day` from the ledger (user id, requests, tokens), at start-up."""
        for user_id, requests, tokens in rows:
            self._counters[(user_id, day)] = [requests, tokens]

    async def admit(self, user: UserView, *, estimate: int) -> Reservation:
        now = self.clock()
        day = utc_day(now)
        counter = self._counters.get((user.id, day))
        if counter is None:
            self._drop_old_days(day)
            counter = self._counters[(user.id, day)] = [0, 0]
        if user.request_limit is not None and counter[0] >= user.request_limit:
            raise refusal("requests", user.request_limit, now)
        if user.token_limit is not None and counter[1] >= user.token_limit:
            raise refusal("tokens", user.token_limit, now)
        counter[0] += 1
        counter[1] += estimate
        return Reservation(user.id, day, estimate)

    async def settle(self, reservation: Reservation, *, tokens: int, refund: bool) -> None:
        counter = self._counters.get((reservation.user_id, reservation.day))
        if counter is None:
            return
        counter[1] = max(0, counter[1] + tokens - reservation.estimate)
        if refund:
            counter[0] = max(0, counter[0] - 1)

    async def usage(self, user_id: int) -> tuple[int, int]:
        counter = self._counters.get((user_id, utc_day(self.clock())), [0, 0])
        return counter[0], counter[1]

    def _drop_old_days(self, today: str) -> None:
        # Yesterday is kept for requests that were admitted before midnight and settle after.
        keep = {today, utc_day(self.clock() - 86400)}
        for key in [k for k in self._counters if k[1] not in keep]:
            del self._counters[key]


_ADMIT = """
local requests = tonumber(redis.call('HGET', KEYS[1], 'r') or '0')
local tokens = tonumber(redis.call('HGET', KEYS[1], 't') or '0')
local request_limit = tonumber(ARGV[1])
local token_limit = tonumber(ARGV[2])
if request_limit >= 0 and requests >= request_limit then return 1 end
if token_limit >= 0 and tokens >= token_limit then return 2 end
redis.call('HINCRBY', KEYS[1], 'r', 1)
redis.call('HINCRBY', KEYS[1], 't', tonumber(ARGV[3]))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
return 0
"""

_SETTLE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local tokens = redis.call('HINCRBY', KEYS[1], 't', tonumber(ARGV[1]))
if tokens < 0 then redis.call('HSET', KEYS[1], 't', 0) end
if ARGV[2] == '1' then
  local requests = redis.call('HINCRBY', KEYS[1], 'r', -1)
  if requests < 0 then redis.call('HSET', KEYS[1], 'r', 0) end
end
return 1
"""


class RedisLimitStore:
    def __init__(self, redis: Redis, *, prefix: str, clock: Clock = time.time) -> None:
        self.clock = clock
        self._redis = redis
        self._prefix = prefix
        self._admit = redis.register_script(_ADMIT)
        self._settle = redis.register_script(_SETTLE)

    def _key(self, user_id: int, day: str) -> str:
        return f"{self._prefix}:limits:{day}:{user_id}"

    async def admit(self, user: UserView, *, estimate: int) -> Reservation:
        now = self.clock()
        day = utc_day(now)
        verdict = await self._admit(
            keys=[self._key(user.id, day)],
            args=[
                -1 if user.request_limit is None else user.request_limit,
                -1 if user.token_limit is None else user.token_limit,
                estimate,
                COUNTER_TTL_S,
            ],
        )
        if verdict == 1:
            raise refusal("requests", user.request_limit or 0, now)
        if verdict == 2:
            raise refusal("tokens", user.token_limit or 0, now)
        return Reservation(user.id, day, estimate)

    async def settle(self, reservation: Reservation, *, tokens: int, refund: bool) -> None:
        await self._settle(
            keys=[self._key(reservation.user_id, reservation.day)],
            args=[tokens - reservation.estimate, "1" if refund else "0"],
        )

    async def usage(self, user_id: int) -> tuple[int, int]:
        values = await self._redis.hmget(self._key(user_id, utc_day(self.clock())), ["r", "t"])  # type: ignore[misc]
        return int(values[0] or 0), int(values[1] or 0)
