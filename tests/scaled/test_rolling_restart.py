"""A rolling restart under load: one replica gets SIGTERM (as `docker stop` sends it) while
clients stream and post through nginx, then starts again. Nothing is lost: every request
succeeds (a client retries what nginx itself refused: a connect error or nginx's own 502),
the stopping replica answers what it had accepted and exits 0, and the activity records are
exactly the answered requests."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import httpx
import pytest

from tests.scaled.cluster import Cluster, add_user, records, wait_until

pytestmark = pytest.mark.xdist_group("scaled")

CLIENTS = 6
MAX_TRIES = 30
CHUNKS = 8
CHUNK_DELAY_S = 0.05  # a stream lasts ~0.4 s


@dataclass
class Load:
    """Client threads sending chats (every other one streamed) through nginx until stopped."""

    url: str
    token: str
    stop: threading.Event = field(default_factory=threading.Event)
    answered: list[str] = field(default_factory=list)  # X-Request-ID of each success
    failures: list[str] = field(default_factory=list)
    retries: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> Load:
        for n in range(CLIENTS):
            thread = threading.Thread(target=self._client, args=(n,), daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(60)
        assert not any(t.is_alive() for t in self.threads)

    def _client(self, n: int) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.url, headers=headers, timeout=30) as client:
            sent = 0
            while not self.stop.is_set():
                self._one(client, stream=(n + sent) % 2 == 0)
                sent += 1

    def _one(self, client: httpx.Client, *, stream: bool) -> None:
        body = {
            "model": "m",
            "stream": stream,
            "messages": [{"role": "user", "content": "hi"}],
            "fake_chunks": CHUNKS,
            "fake_chunk_delay": CHUNK_DELAY_S,
        }
        for _ in range(MAX_TRIES):
            try:
                with client.stream("POST", "/v1/chat/completions", json=body) as response:
                    content = response.read()
            except (httpx.ConnectError, httpx.RemoteProtocolError):
                self._retried()  # nothing reached a replica, or nginx dropped it before
                continue
            request_id = response.headers.get("x-request-id")
            if request_id is None:  # nginx's own answer (502): no replica took it
                self._retried()
                continue
            self._settle(response.status_code, request_id, content, stream)
            return
        with self.lock:
            self.failures.append("gave up after retries")

    def _retried(self) -> None:
        with self.lock:
            self.retries += 1
        time.sleep(0.05)

    def _settle(self, status: int, request_id: str, content: bytes, stream: bool) -> None:
        complete = content.rstrip().endswith(b"data: [DONE]") if stream else b'"choices"' in content
        with self.lock:
            if status == 200 and complete and b'"error"' not in content:
                self.answered.append(request_id)
            else:
                self.failures.append(f"{status} {request_id}: {content[-300:]!r}")


def test_a_rolling_restart_under_load_loses_no_request_and_no_record(
    cluster: Cluster, upstream_factory, add_node
):
    fake = upstream_factory(["m"])
    add_node(fake)
    username, token = add_user(cluster)
    assert wait_until(
        lambda: (
            httpx.get(f"{cluster.url}/v1/models", headers={"Authorization": f"Bearer {token}"}).status_code
            == 200
        ),
        2,
    )
    stopping = cluster.replicas[0]
    load = Load(cluster.url, token).start()
    try:
        time.sleep(1.5)
        before = len(load.answered)
        started = time.monotonic()
        assert stopping.terminate() == 0, stopping.log()[-3000:]
        stop_took = time.monotonic() - started
        during = len(load.answered)
        cluster.restart(0)
        time.sleep(1.5)
    finally:
        load.finish()
    print(f"answered {len(load.answered)}, client retries {load.retries}, stop took {stop_took:.1f} s")
    assert load.failures == []
    assert before > 0 and during > before and len(load.answered) > during
    assert stop_took < 15, f"the replica took {stop_took:.1f} s to stop"
    log = stopping.log()
    assert log.count("stop requested") >= 2 and log.count("runtime stopped") >= 2  # both workers
    # Exactly the answered requests have a record: none lost, none doubled, none extra.
    answered = set(load.answered)
    assert len(answered) == len(load.answered)
    took = wait_until(lambda: {rid for rid, _ in records(cluster, username)} == answered, 15)
    stored = records(cluster, username)
    assert took is not None, (len(stored), len(answered), sorted({rid for rid, _ in stored} ^ answered)[:10])
    assert sorted(status for _, status in stored) == [200] * len(answered)
