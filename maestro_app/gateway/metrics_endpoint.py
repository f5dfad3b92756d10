"""`GET /metrics`: the Prometheus text format, behind `METRICS_TOKEN` when one is set.

Before answering, the scraping worker brings the scrape-time values up to date: its own
in-flight counts (other workers publish theirs each second), node health as routing sees it,
and the activity ledger's queue depth.
"""

from __future__ import annotations

import asyncio
import logging
import math
import secrets

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from maestro_app.domain.routing import node_status
from maestro_app.gateway.deps import get_runtime
from maestro_app.observability.metrics import NodeState
from maestro_app.runtime import Runtime

router = APIRouter(tags=["operations"])
logger = logging.getLogger(__name__)


def token_ok(expected: str | None, authorization: str | None) -> bool:
    if not expected:
        return True
    scheme, _, token = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and secrets.compare_digest(token.strip().encode(), expected.encode())


async def refresh(runtime: Runtime) -> None:
    snapshot, balancer = runtime.snapshot, runtime.balancer
    runtime.metrics.publish_in_flight(balancer.in_flight, snapshot)
    try:
        depth = float(await runtime.ledger.depth())
    except Exception as exc:  # Redis away: the other metrics are still worth a scrape
        logger.warning("ledger queue depth unavailable: %s", exc)
        depth = math.nan
    runtime.metrics.set_scrape_state(
        nodes=[NodeState(node.name, node_status(node, balancer)) for node in snapshot.nodes],
        queue_depth=depth,
    )


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    runtime = get_runtime(request)
    if not token_ok(runtime.settings.metrics_token, request.headers.get("authorization")):
        return JSONResponse(
            {"detail": "Missing or wrong metrics token; expected 'Authorization: Bearer <METRICS_TOKEN>'"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    await refresh(runtime)
    # Multiprocess mode reads every worker's files: off the event loop.
    body = await asyncio.to_thread(runtime.metrics.exposition)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
