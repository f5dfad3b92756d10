"""Passive detection: a node that fails live traffic is set aside for `node_cooldown_s`
before any health check runs, then gets traffic again."""

from __future__ import annotations

import time

import pytest

from tests.jobs.conftest import chat, status
from tests.support import add_node, add_user, set_settings, wait_for


@pytest.mark.parametrize("failure", ["status", "reset"])
def test_live_failures_cool_a_node_down_before_any_health_check(gateway, upstream_factory, failure):
    a = upstream_factory(["m:latest"])
    b = upstream_factory(["m:latest"])
    na = add_node(gateway, a, name="a", priority=10)["id"]
    add_node(gateway, b, name="b")
    # A node is health-checked once when it is added; the next check is 30 s away.
    assert wait_for(lambda: status(gateway, na) == "healthy" and a.hits["/api/version"] == 1)
    client = gateway.client(add_user(gateway))
    set_settings(gateway, node_cooldown_s=1)
    a.fail_next(failure, status=503, paths=["/api/chat"])
    assert chat(client).status_code == 200  # failed over to b
    failed_at = time.monotonic()
    assert (a.hits["/api/chat"], b.hits["/api/chat"]) == (1, 1)
    # No health check has run since (default interval 30 s): `a` is still healthy, and the
    # cooldown alone keeps it out.
    assert status(gateway, na) == "healthy" and a.hits["/api/version"] == 1
    for _ in range(4):
        assert chat(client).status_code == 200
    assert (a.hits["/api/chat"], b.hits["/api/chat"]) == (1, 5)
    assert wait_for(lambda: not gateway.runtime.balancer.in_cooldown(na), 2)
    assert time.monotonic() - failed_at >= 0.9
    assert chat(client).status_code == 200 and a.hits["/api/chat"] == 2
