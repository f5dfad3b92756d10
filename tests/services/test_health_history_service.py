"""services.health_history: a node's status changes, newest first, paged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from maestro_app.db.models import Node, NodeHealthEvent
from maestro_app.services.errors import EntityNotFound
from maestro_app.services.health_history import list_health_events
from tests.services.conftest import SessionFactory


def test_events_of_one_node_newest_first(session_factory: SessionFactory) -> None:
    start = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    with session_factory() as session:
        node, other = Node(name="a", base_url="http://a:1"), Node(name="b", base_url="http://b:1")
        session.add_all([node, other])
        session.flush()
        steps = [
            ("unknown", "healthy", None),
            ("healthy", "unhealthy", "ConnectError"),
            ("unhealthy", "healthy", None),
        ]
        for i, (old, new, reason) in enumerate(steps):
            session.add(
                NodeHealthEvent(
                    node_id=node.id,
                    old_status=old,
                    new_status=new,
                    reason=reason,
                    created_at=start + timedelta(minutes=i),
                )
            )
        session.add(NodeHealthEvent(node_id=other.id, old_status="unknown", new_status="healthy"))
        node_id = node.id or 0

    with session_factory() as session:
        page = list_health_events(session=session, node_id=node_id, limit=2)
    assert page.total == 3
    assert [(e.old_status, e.new_status) for e in page.items] == [
        ("unhealthy", "healthy"),
        ("healthy", "unhealthy"),
    ]
    assert page.items[1].reason == "ConnectError"

    with session_factory() as session, pytest.raises(EntityNotFound):
        list_health_events(session=session, node_id=node_id + 100)
