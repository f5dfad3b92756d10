"""Ollama residency through a running gateway: among equal nodes, the one that has the model
in memory (as its last health check read from `/api/ps`) gets the request."""

from __future__ import annotations

import httpx

from tests.jobs.conftest import chat
from tests.support import add_node, add_user, set_settings, wait_for


def test_an_equal_node_with_the_model_loaded_is_preferred(gateway, upstream_factory):
    a = upstream_factory(["m:latest", "x:latest"])
    b = upstream_factory(["m:latest", "x:latest"])
    na = add_node(gateway, a, name="a")["id"]
    nb = add_node(gateway, b, name="b")["id"]
    low = upstream_factory(["m:latest"])
    nl = add_node(gateway, low, name="low", priority=-5)["id"]
    client = gateway.client(add_user(gateway))
    # Someone used `b` directly: it holds m in memory; `low` too, but it ranks lower.
    for fake in (b, low):
        httpx.post(f"{fake.url}/api/generate", json={"model": "m:latest", "prompt": ""}).raise_for_status()
    set_settings(gateway, health_check_interval_s=0.3)
    assert wait_for(lambda: gateway.runtime.residency.get(nb) == frozenset({"m:latest"}), 3)
    assert wait_for(lambda: gateway.runtime.residency.get(nl) == frozenset({"m:latest"}), 3)
    # Each node's result lands on its own: `a`'s may come after the others'.
    assert wait_for(lambda: na in gateway.runtime.residency, 3)
    assert gateway.runtime.residency[na] == frozenset()

    for _ in range(3):
        assert chat(client, "m").status_code == 200
    assert (a.hits["/api/chat"], b.hits["/api/chat"], low.hits["/api/chat"]) == (0, 3, 0)
    # A model loaded nowhere: the usual order (equal priority, lowest id first).
    assert chat(client, "x").status_code == 200 and a.hits["/api/chat"] == 1
