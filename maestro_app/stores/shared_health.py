"""Node health and open requests, shared through Redis in scaled mode.

    record(node_id, ok=..., ...)  -> HealthOutcome   hysteresis applied atomically (Lua)
    read(node_ids)                -> {id: NodeHealthView}
    publish_in_flight(counts)     this process's open requests per node (expire on their own)
    read_in_flight()              the other processes' open requests per node, summed

One hash per node, `<prefix>:health:<node id>`, holds `status`, `failures`, `checked_at`
(Unix time), `loaded` (JSON list of the models in memory) and `error`. Every process reads
these hashes for routing, so all workers and replicas route on one view; the process that
ran a check also mirrors it into the database (dashboard, health history).

Open requests: one hash, `<prefix>:inflight`, with a field per process holding
`<expiry ms>|<json {node id: count}>`; fields of processes that stopped publishing expire
by the Redis server clock and are pruned by readers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import orjson
from redis.asyncio import Redis

from maestro_app.domain.health import FAILURES_BEFORE_UNHEALTHY, NodeHealthView

# A node's hash outlives many checks; a node nobody checks any more (deleted, inactive)
# drops out on its own.
MIN_HEALTH_TTL_S = 24 * 3600

# Same rule as domain.health.next_health, applied where the counter lives.
_RECORD = """
local status = false
if ARGV[9] ~= '1' then status = redis.call('HGET', KEYS[1], 'status') end
local failures
if status then
  failures = tonumber(redis.call('HGET', KEYS[1], 'failures') or '0')
else
  status = ARGV[2]
  failures = tonumber(ARGV[3])
end
local previous = status
if ARGV[1] == '1' then
  failures = 0
  status = 'healthy'
else
  failures = failures + 1
  if failures >= tonumber(ARGV[7]) then status = 'unhealthy' end
end
redis.call('HSET', KEYS[1], 'status', status, 'failures', failures, 'checked_at', ARGV[4],
  'loaded', ARGV[5], 'error', ARGV[6])
redis.call('PEXPIRE', KEYS[1], ARGV[8])
return {previous, status, failures}
"""

_PUBLISH_IN_FLIGHT = """
if ARGV[2] == '{}' then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('HSET', KEYS[1], ARGV[1], (now + tonumber(ARGV[3])) .. '|' .. ARGV[2])
  redis.call('PEXPIRE', KEYS[1], 86400000)
end
return 1
"""

_READ_IN_FLIGHT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local live = {}
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  local value = fields[i + 1]
  local sep = string.find(value, '|', 1, true)
  local expiry = sep and tonumber(string.sub(value, 1, sep - 1)) or 0
  if expiry < now then
    redis.call('HDEL', KEYS[1], fields[i])
  elseif fields[i] ~= ARGV[1] then
    table.insert(live, string.sub(value, sep + 1))
  end
end
return live
"""


@dataclass(frozen=True, slots=True)
class HealthOutcome:
    previous: str
    status: str
    failures: int


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else value


class SharedHealth:
    def __init__(self, redis: Redis, *, prefix: str, process_id: str) -> None:
        self._redis = redis
        self._prefix = prefix
        self.process_id = process_id
        self._record = redis.register_script(_RECORD)
        self._publish = redis.register_script(_PUBLISH_IN_FLIGHT)
        self._read_in_flight = redis.register_script(_READ_IN_FLIGHT)

    def _key(self, node_id: int) -> str:
        return f"{self._prefix}:health:{node_id}"

    @property
    def _in_flight_key(self) -> str:
        return f"{self._prefix}:inflight"

    async def record(
        self,
        node_id: int,
        *,
        ok: bool,
        seed_status: str,
        seed_failures: int,
        checked_at: float,
        loaded: Iterable[str],
        error: str | None,
        ttl_s: float = MIN_HEALTH_TTL_S,
        reseed: bool = False,
    ) -> HealthOutcome:
        """Apply one probe outcome. `seed_*` (the database's state) start the counter when
        Redis has none for the node yet (first check, or Redis was emptied), or when
        `reseed` says what Redis holds is not this node's (the database never saw it checked:
        the hash is left from an earlier node with the same id)."""
        previous, status, failures = await self._record(
            keys=[self._key(node_id)],
            args=[
                "1" if ok else "0",
                seed_status,
                seed_failures,
                repr(checked_at),
                orjson.dumps(sorted(loaded)),
                error or "",
                FAILURES_BEFORE_UNHEALTHY,
                int(max(ttl_s, MIN_HEALTH_TTL_S) * 1000),
                "1" if reseed else "0",
            ],
        )
        return HealthOutcome(_text(previous), _text(status), int(failures))

    async def read(self, node_ids: Iterable[int]) -> dict[int, NodeHealthView]:
        ids = list(node_ids)
        if not ids:
            return {}
        async with self._redis.pipeline(transaction=False) as pipe:
            for node_id in ids:
                pipe.hgetall(self._key(node_id))
            rows = await pipe.execute()
        views: dict[int, NodeHealthView] = {}
        for node_id, row in zip(ids, rows, strict=True):
            fields = {_text(k): v for k, v in row.items()}
            if "status" not in fields:
                continue
            try:
                loaded = orjson.loads(fields.get("loaded") or b"[]")
                views[node_id] = NodeHealthView(
                    status=_text(fields["status"]),
                    checked_at=float(fields.get("checked_at") or 0.0),
                    failures=int(fields.get("failures") or 0),
                    loaded=frozenset(n for n in loaded if isinstance(n, str)),
                )
            except (ValueError, TypeError):
                continue  # a hash someone else wrote by hand: ignore it, the DB view stays
        return views

    async def publish_in_flight(self, counts: Mapping[int, int], *, ttl_s: float) -> None:
        busy = {str(node): n for node, n in counts.items() if n > 0}
        await self._publish(
            keys=[self._in_flight_key], args=[self.process_id, orjson.dumps(busy), int(ttl_s * 1000)]
        )

    async def read_in_flight(self) -> dict[int, int]:
        """Open requests per node in every other live process."""
        totals: dict[int, int] = {}
        for raw in await self._read_in_flight(keys=[self._in_flight_key], args=[self.process_id]):
            try:
                counts = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue
            if not isinstance(counts, dict):
                continue
            for node, n in counts.items():
                if isinstance(n, int) and str(node).isdigit():
                    totals[int(node)] = totals.get(int(node), 0) + n
        return totals

    async def withdraw(self) -> None:
        """This process stops: its open requests no longer count anywhere."""
        await self.publish_in_flight({}, ttl_s=0)
