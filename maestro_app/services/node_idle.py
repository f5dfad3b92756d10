"""Waiting for a node to be quiet before background work disturbs it.

Discovery (`/api/show` per model) and warmup (a model load) can stall or slow a node that
is streaming an answer, so both wait while the node has requests in flight, polling, for at
most `max_wait_s`; then they run anyway (a node that is never idle still gets its models
discovered and kept warm). `busy(node_id)` is the runtime's view of open requests: this
process's, plus the other processes' in scaled mode.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)

NodeBusy = Callable[[int], bool]
POLL_S = 0.1


async def wait_until_idle(
    *, node_id: int, busy: NodeBusy | None, max_wait_s: float, poll_s: float = POLL_S
) -> float:
    """Seconds waited; returns at once when `busy` is None or the node is idle."""
    if busy is None or not busy(node_id):
        return 0.0
    started = time.monotonic()
    deadline = started + max(0.0, max_wait_s)
    while busy(node_id):
        left = deadline - time.monotonic()
        if left <= 0:
            logger.info("node %d still busy after %.1f s; running anyway", node_id, max_wait_s)
            break
        await asyncio.sleep(min(poll_s, left))
    return time.monotonic() - started
