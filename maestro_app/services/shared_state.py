"""Scaled mode: bring this process's routing view in line with the deployment's.

Every second each process publishes its own requests in flight per node and reads back
(1) the shared health of every node (status, loaded models) that whichever process ran the
check wrote to Redis, and (2) the other processes' requests in flight, which discovery and
warmup wait for. Nothing here touches the database.
"""

from __future__ import annotations

from collections.abc import Iterable

from maestro_app.domain.balancing import BalancerState
from maestro_app.stores.shared_health import SharedHealth

# Published counts expire unless refreshed: a process that died stops counting after this.
IN_FLIGHT_TTL_S = 3.0


async def sync_shared_state(
    *,
    shared: SharedHealth,
    state: BalancerState,
    node_ids: Iterable[int],
    in_flight_ttl_s: float = IN_FLIGHT_TTL_S,
) -> None:
    await shared.publish_in_flight(dict(state.in_flight), ttl_s=in_flight_ttl_s)
    views = await shared.read(node_ids)
    for node_id, view in views.items():
        current = state.health.get(node_id)
        if current is None or view.checked_at >= current.checked_at:
            state.health[node_id] = view
    state.remote_in_flight = await shared.read_in_flight()
