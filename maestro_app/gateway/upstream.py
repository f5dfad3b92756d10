"""The one shared upstream client of a worker: a pool of kept-alive HTTP/1.1 connections.

Not httpx, and no longer aiohttp: measured on one core as the gateway's client, httpx
serves a fraction of aiohttp's rate (DESIGN.md), and aiohttp's client machinery was still
about a quarter of the event loop's busy time under load. `gateway.http1` speaks the
protocol; this module pools its connections per node address and maps its errors to the
three kinds the pipeline acts on:

    UpstreamError
    ├── UpstreamConnectError   nothing was sent or the peer reset before answering
    ├── UpstreamTimeoutError   connect or read took longer than allowed
    └── UpstreamReadError      the answer broke off mid-way

A reused connection that the node closes in order before any byte of the answer (its idle
timeout crossed our request) is retried once on a fresh connection; a reset is not.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections import deque
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from maestro_app.gateway.http1 import (
    BrokenAnswer,
    ClosedUnanswered,
    Connection,
    ExchangeError,
    Headers,
    NotAnswered,
    ReadTimeout,
)


class UpstreamError(Exception):
    pass


class UpstreamConnectError(UpstreamError):
    pass


class UpstreamTimeoutError(UpstreamError):
    pass


class UpstreamReadError(UpstreamError):
    pass


@dataclass(frozen=True, slots=True)
class Timeouts:
    connect: float = 5.0
    read: float = 600.0
    # How long an idle connection is kept for reuse.
    keepalive: float = 30.0


@dataclass(frozen=True, slots=True)
class _Target:
    key: tuple[str, str, int]  # scheme, host, port: one pool per node address
    host: str
    port: int
    tls: bool
    host_header: str
    path: str


@functools.lru_cache(maxsize=1024)
def _target(url: str) -> _Target:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url}")
    tls = parts.scheme == "https"
    port = parts.port or (443 if tls else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Target(
        key=(parts.scheme, parts.hostname, port),
        host=parts.hostname,
        port=port,
        tls=tls,
        host_header=parts.netloc.rpartition("@")[2],
        path=path,
    )


def _head(method: str, target: _Target, headers: Mapping[str, str] | None, body: bytes | None) -> bytes:
    lines = [f"{method} {target.path} HTTP/1.1\r\nHost: {target.host_header}\r\n"]
    if headers:
        for name, value in headers.items():
            if "\r" in value or "\n" in value or "\r" in name or "\n" in name or ":" in name:
                raise ValueError(f"header {name!r} cannot be sent")
            lines.append(f"{name}: {value}\r\n")
    if body is not None or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body) if body else 0}\r\n")
    lines.append("\r\n")
    return "".join(lines).encode("utf-8")


class UpstreamResponse:
    """An answer whose head has arrived. `read` or `iter_chunks` takes the body; `close`
    gives the connection back (kept alive after a complete body, else closed, which
    cancels the node's work)."""

    __slots__ = ("status", "headers", "_conn", "_pool", "_released", "_body")

    def __init__(self, status: int, headers: Headers, conn: Connection, pool: _Pool) -> None:
        self.status = status
        self.headers = headers
        self._conn = conn
        self._pool = pool
        self._released = False
        self._body: bytes | None = None

    async def read(self) -> bytes:
        """The whole body (kept: a second call returns it again)."""
        if self._body is not None:
            return self._body
        try:
            body = await self._conn.read_body()
        except ExchangeError as exc:
            raise self._failed(exc, "answer") from exc
        self.close()
        self._body = body
        return body

    async def iter_chunks(self) -> AsyncIterator[bytes]:
        conn = self._conn
        while True:
            try:
                piece = await conn.next_piece()
            except ExchangeError as exc:
                raise self._failed(exc, "stream") from exc
            if piece is None:
                break
            yield piece
        self.close()

    @property
    def drained(self) -> bool:
        """All of the body has been read: the chunk iterator ends without waiting."""
        return not self._released and self._conn.drained

    def _failed(self, exc: ExchangeError, what: str) -> UpstreamError:
        self.close()
        if isinstance(exc, ReadTimeout):
            return UpstreamTimeoutError("upstream read timed out")
        return UpstreamReadError(f"upstream {what} broke off: {exc}")

    def close(self) -> None:
        if not self._released:
            self._released = True
            self._pool.release(self._conn)


class _Pool:
    """Kept-alive connections per node address; at most `limit` open at once."""

    def __init__(self, *, limit: int, connect_timeout: float, keepalive: float) -> None:
        self.limit = limit
        self.connect_timeout = connect_timeout
        self.keepalive = keepalive
        self.open = 0
        self.idle: dict[tuple[str, str, int], deque[Connection]] = {}
        self.in_use: set[Connection] = set()
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._tls: ssl.SSLContext | None = None

    async def acquire(self, target: _Target) -> Connection:
        while True:
            conn = self._take_idle(target.key)
            if conn is not None:
                return conn
            if self.open < self.limit or self._close_oldest_idle():
                break
            # Every connection is busy: wait for one to come back (ours, or a slot).
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
                elif waiter.done() and not waiter.cancelled():
                    self._wake_one()  # woken, then cancelled: pass the turn on
                raise
        self.open += 1
        try:
            conn = await self._connect(target)
        except BaseException:
            self.open -= 1
            self._wake_one()
            raise
        self.in_use.add(conn)
        return conn

    def _take_idle(self, key: tuple[str, str, int]) -> Connection | None:
        idle = self.idle.get(key)
        if idle:
            now = asyncio.get_running_loop().time()
            while idle:
                conn = idle.pop()  # the most recently used: the likeliest to be alive
                if conn.open and now - conn.idle_since < self.keepalive:
                    self.in_use.add(conn)
                    return conn
                self._drop(conn)
        return None

    async def _connect(self, target: _Target) -> Connection:
        loop = asyncio.get_running_loop()
        tls = None
        if target.tls:
            if self._tls is None:
                self._tls = ssl.create_default_context()
            tls = self._tls
        async with asyncio.timeout(self.connect_timeout):
            _, conn = await loop.create_connection(
                lambda: Connection(loop, target.key), target.host, target.port, ssl=tls
            )
        return conn

    def release(self, conn: Connection) -> None:
        """Back to the pool after a complete answer, else closed (which cancels the node's
        work on an unfinished one)."""
        self.in_use.discard(conn)
        if conn.reusable:
            conn.idle_since = conn.loop.time()
            idle = self.idle.setdefault(conn.key, deque())
            idle.append(conn)
            # Let connections that stayed idle too long go (they sit at the old end).
            while idle and (idle[0].lost or conn.idle_since - idle[0].idle_since >= self.keepalive):
                self._drop(idle.popleft())
        else:
            self._drop(conn)
        self._wake_one()

    def _drop(self, conn: Connection) -> None:
        conn.close()
        self.open -= 1

    def _close_oldest_idle(self) -> bool:
        oldest: deque[Connection] | None = None
        for idle in self.idle.values():
            if idle and (oldest is None or idle[0].idle_since < oldest[0].idle_since):
                oldest = idle
        if oldest is None:
            return False
        self._drop(oldest.popleft())
        return True

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def break_in_use(self, reason: str) -> int:
        broken = 0
        for conn in list(self.in_use):
            if not conn.lost:
                conn.abort(BrokenAnswer(reason))
                broken += 1
        return broken

    def close(self) -> None:
        for idle in self.idle.values():
            while idle:
                self._drop(idle.popleft())
        for conn in list(self.in_use):
            conn.close()


def _unanswered(url: str, exc: ExchangeError) -> UpstreamError:
    """What an exchange that broke before the answer's head is to the pipeline."""
    if isinstance(exc, ReadTimeout):
        return UpstreamTimeoutError(f"upstream {url} did not answer in time")
    if isinstance(exc, NotAnswered):
        return UpstreamConnectError(f"cannot reach {url}: {exc}")
    return UpstreamConnectError(f"upstream {url} answered badly: {exc}")


class UpstreamClient:
    def __init__(self, *, timeouts: Timeouts, max_connections: int = 512) -> None:
        self._timeouts = timeouts
        self._pool = _Pool(
            limit=max_connections, connect_timeout=timeouts.connect, keepalive=timeouts.keepalive
        )
        # Set by abort(): why no upstream call may start any more.
        self._refusal: str | None = None

    @property
    def open_connections(self) -> int:
        return self._pool.open

    async def send(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        read_timeout: float | None = None,
    ) -> UpstreamResponse:
        if self._refusal is not None:
            raise UpstreamConnectError(self._refusal)
        try:
            target = _target(url)
            request = _head(method, target, headers, body)
        except ValueError as exc:
            raise UpstreamConnectError(f"cannot call {url}: {exc}") from None
        if body:
            request += body
        timeout = self._timeouts.read if read_timeout is None else read_timeout
        pool = self._pool
        for attempt in (1, 2):
            try:
                conn = await pool.acquire(target)
            except TimeoutError as exc:
                raise UpstreamTimeoutError(f"upstream {url} did not accept a connection in time") from exc
            except OSError as exc:
                raise UpstreamConnectError(f"cannot reach {url}: {exc or type(exc).__name__}") from exc
            if self._refusal is not None:  # abort() ran while we connected
                pool.release(conn)
                raise UpstreamConnectError(self._refusal)
            reused = conn.uses > 0
            try:
                conn.start(request, timeout)
                status, resp_headers = await conn.head()
            except ExchangeError as exc:
                pool.release(conn)
                if reused and attempt == 1 and isinstance(exc, ClosedUnanswered):
                    # The keep-alive race (the node closed the idle connection as our request
                    # went out; it never read it): once more on a fresh connection. A reset
                    # after the node took the request is its failure, not retried here.
                    continue
                raise _unanswered(url, exc) from exc
            except BaseException:
                pool.release(conn)  # cancelled (the client left): closed, the node's work too
                raise
            return UpstreamResponse(status, resp_headers, conn, pool)
        raise AssertionError("unreachable")  # pragma: no cover

    async def abort(self, reason: str) -> None:
        """End every open upstream call and refuse new ones: a stopping process whose grace
        period is over. Open streams break off (the relay ends them with an error event in
        the client's dialect and records them); a failover attempt fails with `reason`."""
        self._refusal = reason
        if self._pool.break_in_use(reason):
            await asyncio.sleep(0)  # let the readers see it before the pool closes
        await self.close()

    async def close(self) -> None:
        self._pool.close()
