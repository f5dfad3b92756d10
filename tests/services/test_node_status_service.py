"""services.node_status: the dashboard's read model of nodes and their available models."""

from __future__ import annotations

from datetime import UTC, datetime

from maestro_app.db.models import Node, NodeModel
from maestro_app.services.node_status import ModelStatus, list_node_status
from tests.services.conftest import SessionFactory


def test_nodes_come_in_priority_order_with_available_models_only(
    session_factory: SessionFactory,
) -> None:
    checked = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    with session_factory() as session:
        low = Node(name="low", base_url="http://low:11434", priority=1)
        high = Node(
            name="high",
            code="h",
            base_url="http://high:8000",
            node_type="vllm",
            priority=9,
            health_status="healthy",
            last_health_check=checked,
        )
        session.add_all([low, high])
        session.flush()
        session.add_all(
            [
                NodeModel(node_id=high.id, name="zeta", context_length=4096),
                NodeModel(node_id=high.id, name="alpha", context_length=None),
                NodeModel(node_id=high.id, name="gone", is_present=False),
                NodeModel(node_id=high.id, name="hidden", availability_override=False),
                NodeModel(node_id=low.id, name="kept", is_present=False, availability_override=True),
            ]
        )

    with session_factory() as session:
        statuses = list_node_status(session=session)

    assert [s.name for s in statuses] == ["high", "low"]
    high_status, low_status = statuses
    assert high_status.models == (ModelStatus("alpha", None), ModelStatus("zeta", 4096))
    assert (high_status.code, high_status.node_type, high_status.health_status) == ("h", "vllm", "healthy")
    assert high_status.last_health_check is not None
    assert high_status.last_health_check.replace(tzinfo=UTC) == checked
    assert low_status.models == (ModelStatus("kept", None),)
    assert (low_status.health_status, low_status.last_health_check) == ("unknown", None)


def test_no_nodes(session_factory: SessionFactory) -> None:
    with session_factory() as session:
        assert list_node_status(session=session) == []
