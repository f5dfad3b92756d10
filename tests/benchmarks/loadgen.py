"""The benchmark's load client and a canned server to measure the client's own ceiling.

A closed-loop HTTP/1.1 keep-alive client on raw asyncio protocols (no httpx, no aiohttp
client: every microsecond it spends is a microsecond the measured server does not get on a
shared core). `concurrency` connections each send one request, wait for the complete answer
(Content-Length or chunked), and send the next. Per request it records the send time, the
time the first body byte arrived (time to first chunk) and the time the answer was complete.

    python -m tests.benchmarks.loadgen serve --port P     # the canned server (ceiling runs)

Not collected by pytest (`tests/benchmarks` is excluded in pyproject.toml).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

perf = time.perf_counter


@dataclass
class LoadResult:
    concurrency: int
    starts: list[float] = field(default_factory=list)
    firsts: list[float] = field(default_factory=list)
    ends: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    window: tuple[float, float] = (0.0, 0.0)

    def completed_in_window(self) -> float:
        """Requests completed per window, edge requests counted by the part inside it
        (a closed loop's throughput without the quantisation of whole requests)."""
        t0, t1 = self.window
        total = 0.0
        for s, e in zip(self.starts, self.ends, strict=True):
            if e <= t0 or s >= t1:
                continue
            span = e - s
            total += 1.0 if span <= 0 else (min(e, t1) - max(s, t0)) / span
        return total

    def rps(self) -> float:
        t0, t1 = self.window
        return self.completed_in_window() / (t1 - t0) if t1 > t0 else 0.0

    def in_window(self) -> list[int]:
        t0, t1 = self.window
        return [i for i, s in enumerate(self.starts) if t0 <= s < t1]

    def latencies_ms(self) -> list[float]:
        return sorted((self.ends[i] - self.starts[i]) * 1000.0 for i in self.in_window())

    def ttfb_ms(self) -> list[float]:
        return sorted((self.firsts[i] - self.starts[i]) * 1000.0 for i in self.in_window())


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(q / 100.0 * (len(sorted_values) - 1))))
    return sorted_values[k]


def build_request(host: str, port: int, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    head = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", "Content-Type: application/json"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


class _Conn(asyncio.Protocol):
    """One keep-alive connection; parses exactly one answer per request."""

    def __init__(self, expect: bytes) -> None:
        self.transport: asyncio.Transport | None = None
        self.expect = expect  # must appear in the tail of a good answer
        self.buf = bytearray()
        self.body = bytearray()
        self.waiter: asyncio.Future[str | None] | None = None
        self.first = 0.0
        self.state = 0  # 0 headers, 1 content-length body, 2 chunked body
        self.status = 0
        self.length = 0
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(f"connection lost ({exc})")

    def send(self, request: bytes, waiter: asyncio.Future[str | None]) -> None:
        self.waiter = waiter
        self.first = 0.0
        self.state = 0
        self.body.clear()
        assert self.transport is not None
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        now = perf()
        buf = self.buf
        buf += data
        if self.state == 0:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end]).lower()
            del buf[: end + 4]
            self.status = int(head[9:12])
            if b"transfer-encoding: chunked" in head:
                self.state = 2
            else:
                i = head.find(b"content-length:")
                self.length = int(head[i + 15 : head.find(b"\r\n", i) if head.find(b"\r\n", i) > 0 else None])
                self.state = 1
        if buf and not self.first:
            self.first = now
        if self.state == 1:
            if len(buf) >= self.length:
                self.body += buf[: self.length]
                del buf[: self.length]
                self._done()
            return
        while True:  # chunked
            nl = buf.find(b"\r\n")
            if nl < 0:
                return
            size = int(buf[:nl].split(b";", 1)[0], 16)
            if size == 0:
                if len(buf) < nl + 4:
                    return
                del buf[: nl + 4]
                self._done()
                return
            if len(buf) < nl + 2 + size + 2:
                return
            self.body += buf[nl + 2 : nl + 2 + size]
            del buf[: nl + 4 + size]

    def _done(self) -> None:
        if not self.first:
            self.first = perf()
        error: str | None = None
        if self.status != 200:
            error = f"HTTP {self.status}: {bytes(self.body[:200])!r}"
        elif self.expect not in self.body[-64:] and self.expect not in self.body:
            error = f"incomplete answer: {bytes(self.body[-120:])!r}"
        self.state = 0
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(error)


async def run_load(
    host: str,
    port: int,
    request: bytes,
    *,
    concurrency: int,
    expect: bytes,
    warmup: float = 1.0,
    duration: float | None = 5.0,
    total: int | None = None,
    on_window_start: Callable[[], None] | None = None,
    on_window_end: Callable[[], None] | None = None,
    max_errors: int = 20,
) -> LoadResult:
    """Closed loop of `concurrency` connections for `warmup` + `duration` seconds (or until
    `total` requests were sent). Requests in flight when the window ends are completed."""
    loop = asyncio.get_running_loop()
    result = LoadResult(concurrency)
    starts, firsts, ends, errors = result.starts, result.firsts, result.ends, result.errors
    stop = False
    sent = 0

    async def connect() -> _Conn:
        _, proto = await loop.create_connection(lambda: _Conn(expect), host, port)
        return proto

    async def worker() -> None:
        nonlocal sent
        conn = await connect()
        try:
            while not stop and (total is None or sent < total):
                sent += 1
                waiter: asyncio.Future[str | None] = loop.create_future()
                t0 = perf()
                conn.send(request, waiter)
                error = await waiter
                if error is not None:
                    errors.append(error)
                    if len(errors) >= max_errors:
                        return
                    if conn.lost or conn.transport is None or conn.transport.is_closing():
                        conn = await connect()
                    continue
                starts.append(t0)
                firsts.append(conn.first)
                ends.append(perf())
                if conn.lost:
                    conn = await connect()
        finally:
            if conn.transport is not None:
                conn.transport.close()

    tasks = [asyncio.ensure_future(worker()) for _ in range(concurrency)]
    begin = perf()
    if duration is not None:
        await asyncio.sleep(warmup)
        t0 = perf()
        if on_window_start:
            on_window_start()
        await asyncio.sleep(duration)
        t1 = perf()
        if on_window_end:
            on_window_end()
        stop = True
        result.window = (t0, t1)
        await asyncio.gather(*tasks)
    else:
        await asyncio.gather(*tasks)
        result.window = (begin, perf())
    return result


# -- the canned server: answers without doing anything, to find the client's ceiling ----------


def canned_answers(chunks: int = 32) -> tuple[bytes, bytes]:
    """Non-streamed and streamed answers shaped like the fake upstream's (same sizes)."""
    cid = "chatcmpl-" + "0" * 32
    text = "".join(f"w{i} " for i in range(chunks))
    body = json.dumps(
        {
            "id": cid,
            "object": "chat.completion",
            "created": 1700000000,
            "model": "qwen2.5-coder:7b",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": chunks, "total_tokens": chunks + 1},
        },
        separators=(",", ":"),
    ).encode()
    plain = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )
    frames = [("", "assistant")] + [(f"w{i} ", None) for i in range(chunks)]
    out = [b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"]
    for content, role in frames:
        delta = '{"role":"assistant","content":""}' if role else f'{{"content":"{content}"}}'
        frame = (
            f'data: {{"id":"{cid}","object":"chat.completion.chunk","created":1700000000,'
            f'"model":"qwen2.5-coder:7b","choices":[{{"index":0,"delta":{delta},"logprobs":null,'
            '"finish_reason":null}]}\n\n'
        ).encode()
        out.append(b"%x\r\n%s\r\n" % (len(frame), frame))
    done = b"data: [DONE]\n\n"
    out.append(b"%x\r\n%s\r\n0\r\n\r\n" % (len(done), done))
    return plain, b"".join(out)


class _Canned(asyncio.Protocol):
    PLAIN, STREAM = canned_answers()

    def __init__(self) -> None:
        self.buf = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        while True:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end]).lower()
            i = head.find(b"content-length:")
            length = (
                int(head[i + 15 : head.find(b"\r\n", i) if head.find(b"\r\n", i) > 0 else None])
                if i >= 0
                else 0
            )
            if len(buf) < end + 4 + length:
                return
            body = bytes(buf[end + 4 : end + 4 + length])
            del buf[: end + 4 + length]
            assert self.transport is not None
            self.transport.write(self.STREAM if b'"stream":true' in body else self.PLAIN)


async def serve_canned(host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Canned, host, port, reuse_address=True)
    print(f"listening on http://{host}:{port}", flush=True)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.loadgen")
    sub = parser.add_subparsers(dest="cmd", required=True)
    serve = sub.add_parser("serve", help="the canned server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    if args.cmd == "serve":
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve_canned(args.host, args.port))


if __name__ == "__main__":
    main()
