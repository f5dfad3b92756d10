"""HTTP/1.1 to the nodes on a bare asyncio protocol: one `Connection` per TCP connection.

The gateway's hot path is one request and one answer per upstream call, over a kept-alive
connection to a handful of nodes. aiohttp's client did that with a request object, a
payload registry, a connector, a timer rescheduled per read, a stream reader and a task per
connect; profiled under load it was about a quarter of the event loop's busy time. This
module keeps only what that exchange needs:

- the request is written with one `transport.write` (head and body together);
- the answer is parsed by llhttp (`httptools`, the parser uvicorn uses): status, headers,
  content-length, chunked or until-close bodies, keep-alive;
- body pieces are buffered in the protocol and handed to the one reader waiting for them,
  with back-pressure (reading pauses above `HIGH_WATER` buffered bytes);
- the read timeout is one timer per connection that re-arms itself from the time of the
  last data, not a timer rescheduled on every packet.

Errors are plain exceptions of this module; `gateway.upstream` maps them to the kinds the
pipeline acts on. `NotAnswered` means the connection broke before any byte of the answer:
on a reused connection that is the keep-alive race (the node closed it as idle while the
request was on its way: `ClosedUnanswered`, an orderly close rather than a reset), which
the pool retries once on a fresh connection.
"""

from __future__ import annotations

import asyncio
import zlib
from collections import deque
from typing import Final

import httptools

HIGH_WATER: Final = 256 * 1024
LOW_WATER: Final = 64 * 1024


class ExchangeError(Exception):
    """The exchange failed; the connection is unusable."""


class NotAnswered(ExchangeError):
    """The connection broke before the first byte of the answer."""


class ClosedUnanswered(NotAnswered):
    """The node closed the connection in order (no reset) before answering: on a reused
    connection, its idle timeout crossing our request."""


class BrokenAnswer(ExchangeError):
    """The answer broke off, or was not HTTP."""


class ReadTimeout(ExchangeError):
    """The node sent nothing for longer than the read timeout."""


class Headers(dict[str, str]):
    """The answer's headers, names in lower case (repeated ones joined with ', ')."""

    __slots__ = ()

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return dict.get(self, key.lower(), default)

    def __getitem__(self, key: str) -> str:
        return dict.__getitem__(self, key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and dict.__contains__(self, key.lower())


class Connection(asyncio.Protocol):
    """One kept-alive connection; one exchange at a time (`start`, `head`, `next_piece`)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, key: tuple[str, str, int]) -> None:
        self.loop = loop
        self.key = key  # the pool this connection belongs to: scheme, host, port
        self.transport: asyncio.Transport | None = None
        self.lost = False
        self.uses = 0  # exchanges started on this connection
        self.idle_since = 0.0
        self._parser: httptools.HttpResponseParser | None = None  # None until the first exchange
        self._pieces: deque[bytes] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._paused = False
        self._timer: asyncio.TimerHandle | None = None
        self._new_exchange(read_timeout=0.0)

    def _new_exchange(self, *, read_timeout: float) -> None:
        self._raw_headers: list[tuple[bytes, bytes]] = []
        self._status = 0
        self._headers: Headers | None = None
        self._pieces.clear()
        self._buffered = 0
        self._complete = False
        self._keep_alive = False
        self._until_eof = False
        self._got_bytes = False
        self._error: ExchangeError | None = None
        self._decoder: zlib._Decompress | None = None
        self._read_timeout = read_timeout
        self._last_data = self.loop.time()

    # -- asyncio.Protocol -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self._parser is None or self._complete:
            # Bytes outside an exchange: the node is not speaking HTTP/1.1 to us.
            self._break(BrokenAnswer("the node sent data without being asked"))
            return
        self._got_bytes = True
        self._last_data = self.loop.time()
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._break(BrokenAnswer("the node switched protocols"))
        except httptools.HttpParserError as exc:
            self._break(BrokenAnswer(f"the node's answer is not valid HTTP/1.1 ({exc})"))

    def eof_received(self) -> bool:
        return False  # close our side too; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self._cancel_timer()
        if self._parser is None or self._complete or self._error is not None:
            return
        if self._headers is not None and self._until_eof and exc is None:
            self._finish(keep_alive=False)  # a body delimited by the end of the connection
            return
        reason = f": {exc}" if exc else ""
        if not self._got_bytes:
            if exc is None:
                self._fail(ClosedUnanswered("connection closed before the answer"))
            else:
                self._fail(NotAnswered(f"connection broken before the answer{reason}"))
        else:
            self._fail(BrokenAnswer(f"connection closed mid-answer{reason}"))

    # -- llhttp callbacks -------------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        self._raw_headers.append((name, value))

    def on_headers_complete(self) -> None:
        assert self._parser is not None
        status = self._parser.get_status_code()
        if status < 200:  # 1xx interim answers: the real head follows
            self._raw_headers = []
            return
        headers = Headers()
        for raw_name, raw_value in self._raw_headers:
            name = raw_name.decode("latin-1").lower()
            value = raw_value.decode("latin-1")
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        self._raw_headers = []
        self._status = status
        self._headers = headers
        chunked = "chunked" in (headers.get("transfer-encoding") or "").lower()
        self._until_eof = not chunked and "content-length" not in headers and status not in (204, 304)
        encoding = (headers.get("content-encoding") or "").strip().lower()
        if encoding in ("gzip", "x-gzip"):
            self._decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._decoder = zlib.decompressobj()
        self._wake()

    def on_body(self, body: bytes) -> None:
        if self._status < 200:
            return
        if self._decoder is not None:
            try:
                body = self._decoder.decompress(body)
            except zlib.error as exc:
                self._break(BrokenAnswer(f"the node's compressed body is corrupt ({exc})"))
                return
            if not body:
                return
        self._pieces.append(body)
        self._buffered += len(body)
        if self._buffered > HIGH_WATER and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        if self._status < 200:
            return
        assert self._parser is not None
        if self._decoder is not None:
            tail = self._decoder.flush()
            if tail:
                self._pieces.append(tail)
                self._buffered += len(tail)
        self._finish(keep_alive=self._parser.should_keep_alive())

    # -- the exchange -----------------------------------------------------------------------

    def start(self, request: bytes, read_timeout: float) -> None:
        """Write the request and begin waiting for its answer."""
        assert self.transport is not None and not self.lost
        self.uses += 1
        self._parser = httptools.HttpResponseParser(self)
        self._new_exchange(read_timeout=read_timeout)
        self._timer = self.loop.call_at(self._last_data + read_timeout, self._on_timer)
        self.transport.write(request)

    async def head(self) -> tuple[int, Headers]:
        while self._headers is None:
            await self._wait()
        return self._status, self._headers

    async def next_piece(self) -> bytes | None:
        """What arrived of the body since the last call (all of it joined), or None at its end."""
        while not self._pieces:
            if self._complete:
                return None
            await self._wait()
        if len(self._pieces) == 1:
            piece = self._pieces.popleft()
        else:
            piece = b"".join(self._pieces)
            self._pieces.clear()
        self._buffered = 0
        if self._paused and self.transport is not None and not self.lost:
            self._paused = False
            self.transport.resume_reading()
        return piece

    async def read_body(self) -> bytes:
        pieces = []
        while (piece := await self.next_piece()) is not None:
            pieces.append(piece)
        return b"".join(pieces)

    @property
    def open(self) -> bool:
        """Usable for a next exchange as far as we know (the node has not closed it)."""
        return not self.lost and self.transport is not None and not self.transport.is_closing()

    @property
    def drained(self) -> bool:
        """The answer is complete and every piece of it has been taken: the next
        `next_piece` returns None at once."""
        return self._complete and not self._pieces and self._error is None

    @property
    def reusable(self) -> bool:
        """The last exchange ended cleanly and the node keeps the connection open."""
        return self._complete and self._keep_alive and not self.lost and self._error is None

    def close(self) -> None:
        self._cancel_timer()
        if self.transport is not None and not self.lost:
            self.transport.close()
        self.lost = True

    def abort(self, error: ExchangeError) -> None:
        """Break the connection now; a reader waiting on it gets `error`."""
        self._break(error)

    # -- internals --------------------------------------------------------------------------

    async def _wait(self) -> None:
        if self._error is not None:
            raise self._error
        waiter = self._waiter = self.loop.create_future()
        try:
            await waiter
        finally:
            self._waiter = None
        if self._error is not None:
            raise self._error

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _finish(self, *, keep_alive: bool) -> None:
        self._complete = True
        self._keep_alive = keep_alive
        self._cancel_timer()
        self._wake()

    def _fail(self, error: ExchangeError) -> None:
        if self._error is None:
            self._error = error
        self._cancel_timer()
        self._wake()

    def _break(self, error: ExchangeError) -> None:
        self._fail(error)
        self.lost = True
        if self.transport is not None:
            self.transport.abort()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _on_timer(self) -> None:
        self._timer = None
        if self._complete or self._error is not None or self.lost:
            return
        now = self.loop.time()
        if self._paused or self._pieces:
            # Our reader is behind, not the node: look again later.
            self._timer = self.loop.call_at(now + self._read_timeout, self._on_timer)
            return
        due = self._last_data + self._read_timeout
        if now < due:
            self._timer = self.loop.call_at(due, self._on_timer)
            return
        self._break(ReadTimeout(f"the node sent nothing for {self._read_timeout:g} s"))
