"""Two replicas (two workers each) behind nginx answer like one process: limits are exact
across them, a rotated token and a new mapping reach the other replica within 2 s, each
singleton job runs once per interval across all four workers."""

from __future__ import annotations

import time
from typing import Any

import httpx
import psycopg
import pytest
import redis as redis_sync

from tests.conftest import PG_ADMIN_URL, REDIS_URL
from tests.gateway.test_limits import _check_exactly, _storm
from tests.jobs.conftest import warmups
from tests.scaled.cluster import add_user, all_workers_answer, records, unique, wait_until

pytestmark = pytest.mark.xdist_group("scaled")

PROPAGATION_S = 2.0
CHAT = {"model": "m", "messages": [{"role": "user", "content": "one two"}]}


def test_the_replicas_migrated_and_seeded_one_database_together(cluster):
    dbname = cluster.database_url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + dbname) as conn:
        admins = conn.execute("SELECT count(*) FROM dashboard_admins").fetchone()
        presets = conn.execute(
            "SELECT name, count(*) FROM tool_sets GROUP BY name HAVING count(*) > 1"
        ).fetchall()
    assert admins == (1,)
    assert presets == []
    for replica in cluster.replicas:
        assert "Traceback" not in replica.log(), replica.log()[-3000:]


def test_request_limit_is_exact_across_replicas(cluster, upstream_factory, add_node):
    fake = upstream_factory(["m"], chunk_delay=0.01)
    add_node(fake)
    limit = 8
    username, token = add_user(cluster, request_limit=limit)
    for replica in cluster.replicas:
        assert wait_until(lambda r=replica: all_workers_answer(r.url, token, 200), PROPAGATION_S) is not None
    responses = _storm(cluster.url, token, 3 * limit)  # 24 at once, spread by nginx
    _check_exactly(responses, limit)
    assert fake.hits["/v1/chat/completions"] == limit
    # Every request has its record, written by whichever worker's flusher read it.
    assert wait_until(lambda: len(records(cluster, username)) == 3 * limit, 10) is not None
    statuses = sorted(status for _, status in records(cluster, username))
    assert statuses == [200] * limit + [429] * (2 * limit)
    answered = {r.headers["x-request-id"] for r in responses if r.status_code == 200}
    assert answered == {rid for rid, status in records(cluster, username) if status == 200}


def test_a_token_rotated_through_one_replica_is_refused_by_the_other_within_2s(cluster):
    first, second = cluster.replicas
    username, old = add_user(cluster, first.url)
    assert wait_until(lambda: all_workers_answer(second.url, old, 200), PROPAGATION_S) is not None
    with cluster.admin(first.url) as admin:
        rotated = admin.put(f"/admin/users/{username}/token")
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["token"]
    took = wait_until(lambda: all_workers_answer(second.url, old, 401), PROPAGATION_S)
    assert took is not None, "the other replica still accepts the revoked token after 2 s"
    assert all_workers_answer(second.url, new, 200)
    assert all_workers_answer(cluster.url, old, 401)


def test_a_mapping_added_through_one_replica_is_used_by_the_other_within_2s(
    cluster, upstream_factory, add_node
):
    first, second = cluster.replicas
    fake = upstream_factory(["real-model"])
    add_node(fake)
    _, token = add_user(cluster)
    display = unique("coder")
    body = {**CHAT, "model": display}
    assert _chat(second.url, token, body) == 404  # the node's own answer: no such model
    with cluster.admin(first.url) as admin:
        made = admin.post("/admin/model-mappings", json={"display_name": display, "real_name": "real-model"})
    assert made.status_code == 201, made.text
    took = wait_until(lambda: all(_chat(second.url, token, body) == 200 for _ in range(8)), PROPAGATION_S)
    assert took is not None, "the other replica does not route the new mapping after 2 s"
    sent = [r.json.get("model") for r in fake.requests if r.path == "/v1/chat/completions"]
    assert sent.count("real-model") >= 8 and set(sent) <= {"real-model", display}


def _chat(url: str, token: str, body: dict[str, Any]) -> int:
    with httpx.Client(timeout=10, headers={"Authorization": f"Bearer {token}", "Connection": "close"}) as c:
        return c.post(url + "/v1/chat/completions", json=body).status_code


INTERVAL = 0.5
WINDOW = 3.0


def test_each_singleton_job_runs_once_per_interval_across_replicas(cluster, upstream_factory, add_node):
    fake = upstream_factory(["m:latest"])
    add_node(fake, node_type="ollama", warmup_enabled=True)
    _, token = add_user(cluster)
    assert _chat(cluster.url, token, {**CHAT, "model": "m"}) == 200  # warmup keeps models in use
    time.sleep(1.0)  # the ledger flush: warmup reads the model's last use from the records
    settings = {
        "discovery_interval_s": INTERVAL,
        "warmup_interval_s": INTERVAL,
        "retention_interval_s": INTERVAL,
        "health_check_interval_s": INTERVAL,
        "job_stream_wait_s": 0,
    }
    with cluster.admin() as admin:
        assert admin.put("/admin/settings", json=settings).status_code == 200
    time.sleep(2 * INTERVAL)  # every worker has rescheduled
    fake.reset_stats()
    retention_runs = _distinct_values(f"{cluster.redis_prefix}:jobs:retention:last", WINDOW)
    observed = {
        "discovery": fake.hits["/api/tags"],
        "warmup": len(warmups(fake)),
        "health": fake.hits["/api/version"],
        "retention": retention_runs,
    }
    with cluster.admin() as admin:  # back to calm, for the tests that follow
        calm = {k: 300 for k in settings if k != "job_stream_wait_s"} | {"retention_interval_s": 86400}
        assert admin.put("/admin/settings", json=calm).status_code == 200
    slots = WINDOW / INTERVAL  # 6; four workers without the locks would make 24
    most = WINDOW / (0.8 * INTERVAL) + 1  # runs may come as close as 0.8 interval
    for job, count in observed.items():
        assert slots - 2 <= count <= most, (job, observed)


def _distinct_values(key: str, window: float) -> int:
    """Sample a job's last-run key for `window` seconds: every run that claimed its turn
    wrote a new value (runs are at least 0.4 s apart; samples 20 ms)."""
    client = redis_sync.Redis.from_url(REDIS_URL)
    seen: set[object] = set()
    first = client.get(key)
    end = time.monotonic() + window
    while time.monotonic() < end:
        value = client.get(key)
        if value is not None and value != first:
            seen.add(value)
        time.sleep(0.02)
    client.close()
    return len(seen)
