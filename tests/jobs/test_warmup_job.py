"""The periodic warmup through a running gateway: the right request to the right nodes,
nothing billed or counted, and no model load while a stream to the node is open."""

from __future__ import annotations

import json
import threading
import time

from tests.jobs.conftest import chat, warmups
from tests.support import activity, add_node, add_user, set_settings, wait_for

INTERVAL = 0.3


def test_warmup_loads_used_models_on_enabled_ollama_nodes_only(gateway, upstream_factory):
    warm = upstream_factory(["m:latest", "spare:latest"])
    cold = upstream_factory(["m:latest"])
    vllm = upstream_factory(["v"])
    add_node(gateway, warm, name="warm", priority=10, warmup_enabled=True)
    add_node(gateway, cold, name="cold", code="cold", warmup_enabled=False)
    nv = add_node(gateway, vllm, name="vllm", node_type="vllm", warmup_enabled=True)["id"]
    client = gateway.client(add_user(gateway, request_limit=100))
    user_id = gateway.admin.get("/admin/users/alice").json()["id"]
    for model in ("m", "node:cold:m", "v"):
        assert chat(client, model).status_code == 200
    records = len(activity(gateway))
    usage = gateway.run(gateway.runtime.limits.usage(user_id))
    assert usage[0] == 3

    set_settings(gateway, warmup_interval_s=INTERVAL, job_stream_wait_s=1)
    assert wait_for(lambda: len(warmups(warm)) >= 2, 3)
    # One model per run (the only one used there), the body Ollama expects for a load.
    assert {json.dumps(r.json, sort_keys=True) for r in warmups(warm)} == {
        json.dumps({"model": "m:latest", "prompt": "", "keep_alive": "62s"}, sort_keys=True)
    }
    assert warmups(cold) == []
    # vLLM: the health check and discovery when it was added, and the one chat; warmup sent nothing.
    assert [r.path for r in vllm.requests if r.path not in ("/health", "/v1/models")] == [
        "/v1/chat/completions"
    ]
    node = gateway.admin.get(f"/admin/nodes/{nv}").json()
    assert (node["warmup"], node["warmup_note"].startswith("vLLM keeps its models loaded")) == (
        "not_needed",
        True,
    )
    # Never billed, never counted.
    assert len(activity(gateway)) == records
    assert gateway.run(gateway.runtime.limits.usage(user_id)) == usage


def test_warmup_waits_while_a_stream_to_the_node_is_open(gateway, upstream_factory):
    fake = upstream_factory(["m:latest"])
    node_id = add_node(gateway, fake, name="n", warmup_enabled=True)["id"]
    client = gateway.client(add_user(gateway))
    assert chat(client).status_code == 200
    gateway.flush_activity()
    ended: list[float] = []

    def stream(seconds: float) -> None:
        chunks = int(seconds / 0.1)
        body = {
            "model": "m",
            "messages": [{"role": "user", "content": "go"}],
            "options": {"fake_chunks": chunks, "fake_chunk_delay": 0.1},
        }
        with client.stream("POST", "/api/chat", json=body) as resp:
            assert resp.status_code == 200
            for _ in resp.iter_lines():
                pass
        ended.append(time.monotonic())

    # A stream of ~1.2 s is open when warmup becomes due; the bound (10 s) is far away.
    worker = threading.Thread(target=stream, args=(1.2,))
    worker.start()
    assert wait_for(lambda: gateway.runtime.balancer.in_flight.get(node_id, 0) == 1, 2)
    set_settings(gateway, warmup_interval_s=INTERVAL, job_stream_wait_s=10)
    assert wait_for(lambda: warmups(fake), 4)
    worker.join(5)
    assert ended and warmups(fake)[0].time >= ended[0] - 0.05

    # A stream longer than the bound: warmup runs anyway once the bound is spent.
    set_settings(gateway, warmup_interval_s=0, job_stream_wait_s=0.4)
    fake.reset_stats()
    ended.clear()
    worker = threading.Thread(target=stream, args=(2.5,))
    worker.start()
    assert wait_for(lambda: gateway.runtime.balancer.in_flight.get(node_id, 0) == 1, 2)
    opened = time.monotonic()
    set_settings(gateway, warmup_interval_s=INTERVAL)
    assert wait_for(lambda: warmups(fake), 3)
    first = warmups(fake)[0].time
    assert not ended  # the stream is still open
    assert first - opened >= 0.4  # it waited for the bound ...
    assert first - opened <= INTERVAL + 0.4 + 0.5  # ... and no longer
    worker.join(5)
