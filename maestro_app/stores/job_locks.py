"""Once-per-interval claims in Redis, so that one process of a deployment runs a job.

    claim(name, interval_s, ttl_s)  -> token | None     (scaled mode; one Lua script)
    release(name, token)                                 (compare-and-delete)

A claim takes the job's lock (`SET NX PX` with a random token; the TTL is longer than the
job may run) and, under it, checks the job's last-run time: a job that ran less than
`interval - tolerance` ago is not due, and the lock is dropped at once. A successful claim
stores the new last-run time (Redis server clock, so replicas' clocks do not matter), hence
after the run releases its lock the others still skip until the next interval. The lock
alone gives "one at a time"; the last-run key makes it "once per interval".

`claim(name, interval_s)` without a TTL takes no lock: the health check of one node uses
it to probe once per interval across every process.
"""

from __future__ import annotations

import secrets

from redis.asyncio import Redis

# Spacing allowed below the interval, so the scheduler's own jitter never skips a run.
TOLERANCE_FRACTION = 0.2
TOLERANCE_MAX_S = 5.0
# Last-run keys outlive the interval comfortably; a lost key only means "due".
MIN_LAST_RUN_TTL_S = 60.0

_CLAIM = """
local locking = #KEYS > 1
if locking then
  if not redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then return 0 end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local last = tonumber(redis.call('GET', KEYS[1]) or '-1')
if last >= 0 and now - last < tonumber(ARGV[1]) then
  if locking then redis.call('DEL', KEYS[2]) end
  return 0
end
redis.call('SET', KEYS[1], now, 'PX', ARGV[4])
return 1
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def min_spacing_s(interval_s: float) -> float:
    """How long after a run the next one is due: the interval less a small tolerance."""
    return interval_s - min(interval_s * TOLERANCE_FRACTION, TOLERANCE_MAX_S)


class JobLocks:
    def __init__(self, redis: Redis, *, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix
        self._claim = redis.register_script(_CLAIM)
        self._release = redis.register_script(_RELEASE)

    def _key(self, name: str, part: str) -> str:
        return f"{self._prefix}:jobs:{name}:{part}"

    async def claim(self, name: str, *, interval_s: float, ttl_s: float | None = None) -> str | None:
        """A token when this process should run `name` now, else None (running elsewhere,
        or ran less than an interval ago). With `ttl_s`, the token holds the job's lock."""
        token = secrets.token_hex(16)
        keys = [self._key(name, "last")]
        if ttl_s is not None:
            keys.append(self._key(name, "lock"))
        won = await self._claim(
            keys=keys,
            args=[
                int(min_spacing_s(interval_s) * 1000),
                token,
                int((ttl_s or 0) * 1000),
                int(max(2 * interval_s, MIN_LAST_RUN_TTL_S) * 1000),
            ],
        )
        return token if won == 1 else None

    async def release(self, name: str, token: str) -> bool:
        """Drop the lock if this token still holds it (an expired lock may be someone else's)."""
        return bool(await self._release(keys=[self._key(name, "lock")], args=[token]))
