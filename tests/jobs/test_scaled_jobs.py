"""Scaled mode: two gateway processes on one database and one Redis. Singleton jobs run once
per interval across both; health is checked once per interval and both route on the same
view; warmup waits for a stream open in the other process."""

from __future__ import annotations

import threading
import time

from sqlmodel import Session, select

from maestro_app.db.models import NodeHealthEvent
from tests.jobs.conftest import chat, status, warmups
from tests.support import add_node, add_user, set_settings, wait_for

INTERVAL = 0.5
WINDOW = 3.0
SINGLETONS = ("discovery", "warmup", "retention")


def _runs(*gateways):  # type: ignore[no-untyped-def]
    return {
        job: sum(g.runtime.scheduler.runs[job] for g in gateways) for job in (*SINGLETONS, "health_checks")
    }


def test_each_singleton_job_runs_once_per_interval(scaled_gateway_factory, upstream_factory):
    g1 = scaled_gateway_factory()
    g2 = scaled_gateway_factory()
    fake = upstream_factory(["m:latest"])
    add_node(g1, fake, name="n", warmup_enabled=True)
    assert chat(g1.client(add_user(g1))).status_code == 200
    g1.flush_activity()  # warmup keeps models that were used
    set_settings(
        g1,
        discovery_interval_s=INTERVAL,
        warmup_interval_s=INTERVAL,
        retention_interval_s=INTERVAL,
        health_check_interval_s=INTERVAL,
        job_stream_wait_s=0,
    )
    # The other process learns the new intervals from the config poll, without a restart.
    assert wait_for(lambda: g2.runtime.scheduler.intervals["warmup"] == INTERVAL, 3)
    time.sleep(INTERVAL)
    fake.reset_stats()
    before = _runs(g1, g2)
    time.sleep(WINDOW)
    after = _runs(g1, g2)

    slots = WINDOW / INTERVAL  # 6; two processes without the lock would make 12
    most = WINDOW / (0.8 * INTERVAL) + 1  # runs may come as close as 0.8 interval
    for job in SINGLETONS:
        assert slots - 2 <= after[job] - before[job] <= most, (job, before, after)
    observed = {
        "discovery": fake.hits["/api/tags"],
        "warmup": len(warmups(fake)),
        "health": fake.hits["/api/version"],
    }
    for job, count in observed.items():
        assert slots - 2 <= count <= most, (job, observed)
    # Health checks run in both processes; each node is probed once per interval.
    assert after["health_checks"] - before["health_checks"] >= 2 * (slots - 2)


def test_both_processes_route_on_one_health_view(scaled_gateway_factory, upstream_factory, database_url):
    g1 = scaled_gateway_factory()
    g2 = scaled_gateway_factory()
    a = upstream_factory(["m:latest"])
    b = upstream_factory(["m:latest"])
    na = add_node(g1, a, name="a", priority=10)["id"]
    add_node(g1, b, name="b")
    c2 = g2.client(add_user(g1))
    # g2 follows every write (announced, or polled): the node, then the user.
    assert wait_for(lambda: g2.runtime.snapshot.version == g1.runtime.snapshot.version, 3)
    assert chat(c2).status_code == 200  # through g2: `a` now has m loaded
    set_settings(g1, health_check_interval_s=0.4)
    both = (g1, g2)
    assert wait_for(lambda: all(status(g, na) == "healthy" for g in both), 4)
    assert wait_for(lambda: all(g.runtime.residency.get(na) == frozenset({"m:latest"}) for g in both), 3)

    a.fail_health(True)
    assert wait_for(lambda: all(status(g, na) == "unhealthy" for g in both), 4)
    hits = a.hits["/api/chat"]
    assert chat(c2).status_code == 200 and a.hits["/api/chat"] == hits
    a.fail_health(False)
    assert wait_for(lambda: all(status(g, na) == "healthy" for g in both), 4)
    # One shared counter: each transition recorded once, not once per process.
    with Session(g1.runtime.engine) as session:
        events = session.exec(select(NodeHealthEvent).where(NodeHealthEvent.node_id == na)).all()
    assert [(e.old_status, e.new_status) for e in events] == [
        ("unknown", "healthy"),
        ("healthy", "unhealthy"),
        ("unhealthy", "healthy"),
    ]


def test_warmup_waits_for_a_stream_open_in_the_other_process(scaled_gateway_factory, upstream_factory):
    g1 = scaled_gateway_factory()
    g2 = scaled_gateway_factory()
    fake = upstream_factory(["m:latest"])
    node_id = add_node(g1, fake, name="n", warmup_enabled=True)["id"]
    token = add_user(g1)
    assert chat(g1.client(token)).status_code == 200
    g1.flush_activity()
    assert wait_for(lambda: g2.runtime.snapshot.version == g1.runtime.snapshot.version, 3)
    ended: list[float] = []

    def stream() -> None:
        body = {
            "model": "m",
            "messages": [{"role": "user", "content": "go"}],
            "options": {"fake_chunks": 15, "fake_chunk_delay": 0.1},
        }
        with g2.client(token).stream("POST", "/api/chat", json=body) as resp:
            for _ in resp.iter_lines():
                pass
        ended.append(time.monotonic())

    worker = threading.Thread(target=stream)
    worker.start()
    # g1 sees g2's open request through Redis.
    assert wait_for(lambda: g1.runtime.balancer.busy(node_id), 3)
    set_settings(g1, warmup_interval_s=0.3, job_stream_wait_s=10)
    assert wait_for(lambda: warmups(fake), 6)
    worker.join(5)
    assert ended and warmups(fake)[0].time >= ended[0] - 0.05
