"""The scheduler: one per runtime, intervals from the settings, changed at run time through
the admin API without a restart, 0 turns a job off."""

from __future__ import annotations

import time

from tests.support import add_node, set_settings, wait_for


def _tags_times(fake):  # type: ignore[no-untyped-def]
    return [r.time for r in fake.requests if r.path == "/api/tags"]


def test_jobs_follow_the_settings_without_restart(gateway, upstream_factory):
    scheduler = gateway.runtime.scheduler
    assert scheduler is not None
    assert scheduler.intervals == {
        "health_checks": 30,
        "discovery": 300,
        "warmup": 240,
        "retention": 86400,
    }  # no shared_state job in embedded mode
    fake = upstream_factory(["m:latest"])
    add_node(gateway, fake, name="n")
    time.sleep(0.2)
    fake.reset_stats()
    time.sleep(0.5)
    assert _tags_times(fake) == []  # every 300 s: nothing yet

    set_settings(gateway, discovery_interval_s=0.25)
    changed = time.monotonic()
    assert wait_for(lambda: len(_tags_times(fake)) >= 4, 3)
    times = _tags_times(fake)
    assert times[0] - changed <= 0.25 + 0.3
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert all(0.15 <= g <= 0.5 for g in gaps), gaps
    assert scheduler.intervals["discovery"] == 0.25

    set_settings(gateway, discovery_interval_s=0)
    time.sleep(0.3)  # a run already under way may finish
    count = len(_tags_times(fake))
    time.sleep(0.8)
    assert len(_tags_times(fake)) == count
    assert scheduler.intervals["discovery"] == 0

    set_settings(gateway, discovery_interval_s=0.25)
    assert wait_for(lambda: len(_tags_times(fake)) > count, 2)


def test_settings_accept_fractions_and_refuse_a_health_check_that_never_runs(gateway):
    admin = gateway.admin
    resp = admin.put("/admin/settings", json={"health_check_interval_s": 0.5, "job_stream_wait_s": 2.5})
    assert resp.status_code == 200, resp.text
    assert (resp.json()["health_check_interval_s"], resp.json()["job_stream_wait_s"]) == (0.5, 2.5)
    for body in (
        {"health_check_interval_s": 0},
        {"discovery_interval_s": 0.05},
        {"warmup_interval_s": 31 * 86400},
        {"retention_interval_s": -1},
        {"job_stream_wait_s": True},
        {"job_stream_wait_s": 4000},
    ):
        assert admin.put("/admin/settings", json=body).status_code == 422, body
    for key in ("discovery_interval_s", "warmup_interval_s", "retention_interval_s"):
        assert admin.put("/admin/settings", json={key: 0}).json()[key] == 0
    # Whole numbers read back as they were meant.
    assert admin.put("/admin/settings", json={"warmup_interval_s": 120.0}).json()["warmup_interval_s"] == 120


def test_stop_shuts_the_scheduler_down(gateway_factory, upstream_factory):
    live = gateway_factory()
    runtime = live.runtime
    scheduler = runtime.scheduler
    assert scheduler is not None and runtime.http is not None
    live.stop()
    assert runtime.scheduler is None and not scheduler._scheduler.running
