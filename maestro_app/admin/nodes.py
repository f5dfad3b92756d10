"""/admin/nodes: upstream nodes, their health, and the models discovered on them."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio.from_thread
import httpx
from fastapi import APIRouter, Response

from maestro_app.admin.deps import (
    AdminDep,
    NodeIdPath,
    PagingDep,
    RuntimeDep,
    SessionDep,
    commit_and_reload,
)
from maestro_app.admin.routing import ErrorAnswer, ProtectedRoute
from maestro_app.runtime import Runtime
from maestro_app.services import discovery, health, node_models, nodes
from maestro_app.services.common import Page
from maestro_app.services.discovery import DiscoveryResult
from maestro_app.services.health import HealthResult
from maestro_app.services.node_models import AvailabilityUpdate, NodeModelPublic
from maestro_app.services.nodes import NodeCreate, NodePublic, NodeUpdate, NodeWrite, PriorityBatch

router = APIRouter(prefix="/nodes", route_class=ProtectedRoute, tags=["admin: nodes"])
_NODE_CALL: dict[int | str, dict[str, Any]] = {
    502: {"model": ErrorAnswer, "description": "The node did not answer as expected"}
}


def _after_write(runtime: Runtime, written: NodeWrite) -> NodePublic:
    """From a worker thread: check and discover a node that became reachable."""
    if written.rediscover:
        anyio.from_thread.run_sync(runtime.check_new_node_soon, written.node.id)
    return written.node


@router.post("", status_code=201)
def create_node(body: NodeCreate, actor: AdminDep, session: SessionDep, runtime: RuntimeDep) -> NodePublic:
    written = nodes.create_node(session=session, data=body, actor=actor)
    commit_and_reload(session, runtime)
    return _after_write(runtime, written)


@router.get("")
def list_nodes(session: SessionDep, page: PagingDep) -> Page[NodePublic]:
    return nodes.list_nodes(session=session, limit=page.limit, offset=page.offset)


# Declared before /{node_id} so that "batch" is never read as a node id.
@router.patch("/batch/priority")
def set_priorities(
    body: PriorityBatch, actor: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> list[NodePublic]:
    result = nodes.set_node_priorities(session=session, data=body, actor=actor)
    commit_and_reload(session, runtime)
    return result


@router.get("/{node_id}")
def get_node(node_id: NodeIdPath, session: SessionDep) -> NodePublic:
    return nodes.get_node(session=session, node_id=node_id)


@router.patch("/{node_id}")
def update_node(
    node_id: NodeIdPath, body: NodeUpdate, actor: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> NodePublic:
    written = nodes.update_node(session=session, node_id=node_id, data=body, actor=actor)
    commit_and_reload(session, runtime)
    return _after_write(runtime, written)


@router.delete("/{node_id}", status_code=204, response_class=Response)
def delete_node(node_id: NodeIdPath, actor: AdminDep, session: SessionDep, runtime: RuntimeDep) -> None:
    nodes.delete_node(session=session, node_id=node_id, actor=actor)
    commit_and_reload(session, runtime)


@router.patch("/{node_id}/toggle")
def toggle_node(node_id: NodeIdPath, actor: AdminDep, session: SessionDep, runtime: RuntimeDep) -> NodePublic:
    written = nodes.toggle_node(session=session, node_id=node_id, actor=actor)
    commit_and_reload(session, runtime)
    return _after_write(runtime, written)


@router.post("/{node_id}/health-check", responses=_NODE_CALL)
async def check_health(node_id: NodeIdPath, actor: AdminDep, runtime: RuntimeDep) -> HealthResult:
    async with httpx.AsyncClient() as client:
        result = await health.check_node(
            session_factory=runtime.session, node_id=node_id, client=client, actor=actor
        )
    await asyncio.to_thread(runtime.reload)
    return result


@router.post("/{node_id}/discover", responses=_NODE_CALL)
async def discover(node_id: NodeIdPath, actor: AdminDep, runtime: RuntimeDep) -> DiscoveryResult:
    async with httpx.AsyncClient() as client:
        result = await discovery.discover_node(
            session_factory=runtime.session, node_id=node_id, client=client, actor=actor
        )
    await asyncio.to_thread(runtime.reload)
    return result


@router.get("/{node_id}/models")
def list_models(node_id: NodeIdPath, session: SessionDep, page: PagingDep) -> Page[NodeModelPublic]:
    return node_models.list_node_models(
        session=session, node_id=node_id, limit=page.limit, offset=page.offset
    )


@router.patch("/{node_id}/models/{model:path}")
def set_availability(
    node_id: NodeIdPath,
    model: str,
    body: AvailabilityUpdate,
    actor: AdminDep,
    session: SessionDep,
    runtime: RuntimeDep,
) -> NodeModelPublic:
    result = node_models.set_model_availability(
        session=session, node_id=node_id, model=model, data=body, actor=actor
    )
    commit_and_reload(session, runtime)
    return result
