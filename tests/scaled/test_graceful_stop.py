"""SIGTERM: the process stops accepting, lets open streams finish within SHUTDOWN_GRACE_S,
ends the ones still open after it (an error event in the client's dialect, a record), drains
the ledger and exits 0 — a stream that would last minutes cannot hold a stop forever."""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

GRACE_S = 3.0


def _stream(url: str, token: str, chunks: int, out: dict[str, Any], started: threading.Event) -> None:
    body = {
        "model": "m",
        "stream": True,
        "messages": [{"role": "user", "content": "hi"}],
        "fake_chunks": chunks,
        "fake_chunk_delay": 0.25,
    }
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.stream("POST", url + "/v1/chat/completions", json=body, headers=headers, timeout=30) as r:
        out["request_id"] = r.headers.get("x-request-id")
        parts = []
        for chunk in r.iter_bytes():
            parts.append(chunk)
            started.set()
        out["body"] = b"".join(parts)
        out["ended"] = time.monotonic()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sigterm_finishes_short_streams_and_ends_long_ones_after_the_grace_period(
    process_gateway_factory, upstream_factory, database_url
):
    gateway = process_gateway_factory(SHUTDOWN_GRACE_S=str(GRACE_S))
    fake = upstream_factory(["m"])
    admin = httpx.Client(base_url=gateway.url, headers={"Authorization": f"Bearer {gateway.admin_token}"})
    node = admin.post("/admin/nodes", json={"name": "n", "base_url": fake.url, "node_type": "vllm"}).json()
    assert admin.post(f"/admin/nodes/{node['id']}/discover").status_code == 200
    token = admin.post("/admin/users", json={"username": "u", "all_models": True}).json()["token"]
    admin.close()

    short: dict[str, Any] = {}
    long: dict[str, Any] = {}
    threads = []
    for out, chunks in ((short, 3), (long, 120)):  # ~1.25 s and ~30 s (a frame every 0.25 s)
        started = threading.Event()
        thread = threading.Thread(target=_stream, args=(gateway.url, token, chunks, out, started))
        thread.start()
        assert started.wait(10)
        threads.append(thread)

    assert gateway.proc is not None
    stop_at = time.monotonic()
    os.kill(gateway.proc.pid, signal.SIGTERM)  # the main process only, as `docker stop`
    code = gateway.proc.wait(GRACE_S + 20)
    stopped_after = time.monotonic() - stop_at
    gateway.proc = None
    for thread in threads:
        thread.join(10)

    assert code == 0
    assert stopped_after < GRACE_S + 10
    assert short["body"].rstrip().endswith(b"data: [DONE]") and b'"error"' not in short["body"]
    # The long stream was ended at the grace period, in its own dialect, not cut.
    assert b'"error"' in long["body"] and long["body"].rstrip().endswith(b"data: [DONE]")
    assert GRACE_S - 0.5 <= long["ended"] - stop_at < GRACE_S + 5
    # Both are in the database: the ledger was drained before the exit.
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT request_id, status_code FROM activity_records")).all())
    engine.dispose()
    assert rows == {short["request_id"]: 200, long["request_id"]: 502}
    with pytest.raises(httpx.ConnectError):
        httpx.get(gateway.url + "/health", timeout=2)
