"""The one door from UI state handlers to the service layer.

Service functions are synchronous and take their session explicitly; `call_service` runs
one in a worker thread with a fresh session of this process's runtime, so a slow query or
a password hash never blocks the event loop that serves the gateway. `call_write` does the
same for a change and then rebuilds this worker's routing snapshot, as the admin API does
after every write (other workers follow through the config version).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from maestro_app.gateway.catalog import catalog
from maestro_app.services import discovery, health
from maestro_app.services.discovery import DiscoveryResult
from maestro_app.services.health import HealthResult
from maestro_app.ui.context import get_runtime

T = TypeVar("T")


async def call_service(service: Callable[..., T], /, **kwargs: Any) -> T:
    """`service(session=<session>, **kwargs)` in a thread; commits when it returns."""

    def run() -> T:
        with get_runtime().session() as session:
            return service(session=session, **kwargs)

    return await asyncio.to_thread(run)


async def call_write(service: Callable[..., T], /, **kwargs: Any) -> T:
    """`call_service` for a change: commits, then reloads the routing snapshot at once."""

    def run() -> T:
        runtime = get_runtime()
        with runtime.session() as session:
            result = service(session=session, **kwargs)
        runtime.reload()
        return result

    return await asyncio.to_thread(run)


async def check_node_health(*, node_id: int, actor: str) -> HealthResult:
    """Probe a node now (an admin asked: audited), then reload the snapshot."""
    runtime = get_runtime()
    async with httpx.AsyncClient() as client:
        result = await health.check_node(
            session_factory=runtime.session, node_id=node_id, client=client, actor=actor
        )
    await asyncio.to_thread(runtime.reload)
    return result


async def discover_node_models(*, node_id: int, actor: str) -> DiscoveryResult:
    """Read a node's models now (audited), then reload the snapshot."""
    runtime = get_runtime()
    async with httpx.AsyncClient() as client:
        result = await discovery.discover_node(
            session_factory=runtime.session, node_id=node_id, client=client, actor=actor
        )
    await asyncio.to_thread(runtime.reload)
    return result


def check_new_node_soon(node_id: int) -> None:
    """Check a node's health and discover its models in the background (it was added or
    became reachable). Call from the event loop (an async handler), never from a worker thread."""
    get_runtime().check_new_node_soon(node_id)


@dataclass(frozen=True, slots=True)
class CatalogName:
    name: str
    kind: str  # "model" | "group"


def model_catalog() -> list[CatalogName]:
    """Names a user's allowlist can hold: the display names of the catalog (discovered
    models under their mapped names), every mapping's display name, every group."""
    snapshot = get_runtime().snapshot
    groups = {group.name for group in snapshot.groups.values()}
    names: dict[str, str] = {}
    for entry in catalog(snapshot, None):
        if not entry.is_group:
            names.setdefault(entry.name, "model")
    for mappings in snapshot.mappings.values():
        for mapping in mappings:
            names.setdefault(mapping.display_name, "model")
    for group in groups:
        names[group] = "group"
    return [CatalogName(name, kind) for name, kind in sorted(names.items(), key=lambda kv: kv[0].lower())]


def discovered_model_names() -> list[str]:
    """The real names of the models available on active nodes (for mapping suggestions)."""
    snapshot = get_runtime().snapshot
    return sorted({info.name for node in snapshot.nodes for info in node.models.values()}, key=str.lower)


def session_secret() -> str:
    """The key that signs dashboard sessions (the JWT secret)."""
    return get_runtime().settings.jwt_secret_key or ""


def jwt_secret() -> str:
    """The key that signs user tokens (the same JWT secret)."""
    return get_runtime().settings.jwt_secret_key or ""


def configured_public_url() -> str | None:
    """`REFLEX_API_URL` when the operator set it (the app's public URL behind a proxy)."""
    url = os.environ.get("REFLEX_API_URL", "").strip().rstrip("/")
    return url or None
