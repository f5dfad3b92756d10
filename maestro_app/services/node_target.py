"""What health checks and discovery need to reach a node, read in one short transaction."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from sqlmodel import Session

from maestro_app.services.nodes import load_node

SessionFactory = Callable[[], AbstractContextManager[Session]]


@dataclass(frozen=True, slots=True)
class NodeTarget:
    id: int
    name: str
    base_url: str
    node_type: str
    api_key: str | None
    headers: tuple[tuple[str, str], ...]
    health_check_url: str | None

    def url(self, path: str) -> str:
        """`path` (or an absolute URL) resolved against the node's base URL."""
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url.rstrip('/')}{path}"

    def request_headers(self) -> dict[str, str]:
        headers = dict(self.headers)
        if self.api_key:
            headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers


def read_target(session: Session, node_id: int) -> NodeTarget:
    node = load_node(session, node_id)
    return NodeTarget(
        id=node.id or 0,
        name=node.name,
        base_url=node.base_url,
        node_type=node.node_type,
        api_key=node.api_key,
        headers=tuple((node.headers or {}).items()),
        health_check_url=node.health_check_url,
    )


def load_target(session_factory: SessionFactory, node_id: int) -> NodeTarget:
    with session_factory() as session:
        return read_target(session, node_id)
