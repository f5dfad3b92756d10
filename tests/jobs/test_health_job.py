"""The periodic health check: a node that stops answering leaves rotation within two
intervals and comes back after one good check; residency is read with it."""

from __future__ import annotations

import time

from sqlmodel import Session, select

from maestro_app.db.models import NodeHealthEvent
from tests.fakes.upstream import FakeUpstream
from tests.jobs.conftest import chat, status
from tests.support import add_node, add_user, set_settings, wait_for

INTERVAL = 0.3
# Time for a probe and its database write beyond the intervals themselves.
SLACK = 0.4


def test_unhealthy_within_two_intervals_no_traffic_then_healthy(gateway, upstream_factory):
    a = upstream_factory(["m:latest"])
    b = upstream_factory(["m:latest"])
    na = add_node(gateway, a, name="a", priority=10)["id"]
    nb = add_node(gateway, b, name="b", priority=0)["id"]
    client = gateway.client(add_user(gateway))
    set_settings(gateway, health_check_interval_s=INTERVAL)
    assert wait_for(lambda: status(gateway, na) == "healthy" and status(gateway, nb) == "healthy", 3)
    assert chat(client).status_code == 200 and a.hits["/api/chat"] == 1

    # Probes fail while the node still answers chats: only the health check keeps it out.
    a.fail_health(True)
    failed_at = time.monotonic()
    assert wait_for(lambda: status(gateway, na) == "unhealthy", 2 * INTERVAL + 2)
    assert time.monotonic() - failed_at <= 2 * INTERVAL + SLACK
    for _ in range(5):
        assert chat(client).status_code == 200
    assert a.hits["/api/chat"] == 1 and b.hits["/api/chat"] == 5
    node = gateway.admin.get(f"/admin/nodes/{na}").json()
    assert node["health_status"] == "unhealthy" and node["consecutive_failures"] >= 2

    a.fail_health(False)
    back_at = time.monotonic()
    assert wait_for(lambda: status(gateway, na) == "healthy", INTERVAL + 2)
    assert time.monotonic() - back_at <= INTERVAL + SLACK
    assert chat(client).status_code == 200 and a.hits["/api/chat"] == 2
    with Session(gateway.runtime.engine) as session:
        events = session.exec(select(NodeHealthEvent).where(NodeHealthEvent.node_id == na)).all()
    assert [(e.old_status, e.new_status) for e in events] == [
        ("unknown", "healthy"),
        ("healthy", "unhealthy"),
        ("unhealthy", "healthy"),
    ]


def test_a_stopped_node_is_unhealthy_and_back_when_it_restarts(gateway, upstream_factory):
    a = upstream_factory(["m:latest"])
    b = upstream_factory(["m:latest"])
    na = add_node(gateway, a, name="a", priority=10)["id"]
    add_node(gateway, b, name="b")
    client = gateway.client(add_user(gateway))
    set_settings(gateway, health_check_interval_s=INTERVAL)
    assert wait_for(lambda: status(gateway, na) == "healthy", 3)
    port = a.port
    a.stop()
    stopped_at = time.monotonic()
    assert wait_for(lambda: status(gateway, na) == "unhealthy", 2 * INTERVAL + 2)
    assert time.monotonic() - stopped_at <= 2 * INTERVAL + SLACK
    assert chat(client).status_code == 200 and b.hits["/api/chat"] == 1

    revived = FakeUpstream(["m:latest"], port=port).start()
    try:
        assert wait_for(lambda: status(gateway, na) == "healthy", INTERVAL + 2)
        assert chat(client).status_code == 200 and revived.hits["/api/chat"] == 1
    finally:
        revived.stop()


def test_health_check_reads_which_models_are_loaded(gateway, upstream_factory):
    ollama = upstream_factory(["m:latest", "other:latest"])
    vllm = upstream_factory(["served"])
    no = add_node(gateway, ollama, name="o")["id"]
    nv = add_node(gateway, vllm, name="v", node_type="vllm")["id"]
    client = gateway.client(add_user(gateway))
    assert chat(client).status_code == 200  # the fake now lists m:latest in /api/ps
    set_settings(gateway, health_check_interval_s=INTERVAL)
    assert wait_for(lambda: gateway.runtime.residency.get(no) == frozenset({"m:latest"}), 3)
    # Each node's result lands on its own: the vLLM node's may come after the Ollama node's.
    assert wait_for(lambda: nv in gateway.runtime.residency, 3)
    assert gateway.runtime.residency[nv] == frozenset()
    assert vllm.hits["/api/ps"] == 0 and vllm.hits["/health"] >= 1
