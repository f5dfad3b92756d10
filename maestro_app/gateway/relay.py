"""Relaying a streamed upstream answer to the client, chunk by chunk.

Upstream bytes -> frames (SSE or NDJSON) -> the leg's transform (rename, bridge, tap
usage) -> client frames. The first upstream chunk was already read by the pipeline (so a
failure before it could still fail over). After that the stream is never replayed: a
break ends it with an explicit error event in the client's dialect.

Client framings ("dialects" here): `openai` SSE `data:` lines ending with `[DONE]`, `ollama`
NDJSON lines, `responses` SSE events named by their `type` (no `[DONE]`; a break ends the
stream with the transform's own `response.failed`, so sequence numbers stay in order).

`Exchange.close()` is the one place that releases the upstream connection, the node's
in-flight slot and writes the activity record; it is idempotent and runs whether the
stream ends, breaks, or the client goes away before the first byte.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol, TypeVar, runtime_checkable

import anyio
import orjson
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from maestro_app.gateway.errors import anthropic_error_body
from maestro_app.gateway.legs import StreamTransform
from maestro_app.gateway.upstream import UpstreamError, UpstreamResponse
from maestro_app.providers.sse import SSE_DONE, NDJSONDecoder, SSEDecoder, ndjson_line, sse_data, sse_event
from maestro_app.providers.types import Usage

logger = logging.getLogger(__name__)
T = TypeVar("T")

CLIENT_CLOSED = 499
ENCODERS: dict[str, Callable[[dict[str, Any]], bytes]] = {
    "openai": sse_data,
    "ollama": ndjson_line,
    "responses": sse_event,
    "anthropic": sse_event,
}


@runtime_checkable
class FailingTransform(Protocol):
    """A transform that writes its own terminal error events (the Responses stream)."""

    def fail(self, message: str) -> list[dict[str, Any]]: ...


class Exchange:
    """One attempt's upstream response and what must happen when it is over."""

    def __init__(
        self,
        response: UpstreamResponse,
        *,
        on_close: Callable[[Exchange], Awaitable[None]],
    ) -> None:
        self.response = response
        self._on_close = on_close
        self._closed = False
        self.status = 200
        self.error: str | None = None
        self.usage: Usage | None = None
        # Characters of answer text sent, for an estimate when the upstream gives no usage.
        self.output_chars = 0

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.response.close()
        await self._on_close(self)

    async def close_shielded(self) -> None:
        """Close even while the request is being cancelled (client gone): the ledger write
        may await (Redis), and anyio cancellation would otherwise abort every await here."""
        if self._closed:
            return  # the usual case of the second and third call (a scope costs ~5 us)
        with anyio.CancelScope(shield=True):
            await self.close()


def content_chars(obj: dict[str, Any]) -> int:
    """Characters of answer text in an answer or stream chunk of any client dialect."""
    total = 0
    choices = obj.get("choices")
    if choices:
        for choice in choices:
            if not isinstance(choice, dict):
                continue
            part = choice.get("delta") or choice.get("message")
            text = part.get("content") if isinstance(part, dict) else choice.get("text")
            if isinstance(text, str):
                total += len(text)
        return total
    message = obj.get("message")
    if isinstance(message, dict) and isinstance(message.get("content"), str):
        return len(message["content"])
    response = obj.get("response")
    if isinstance(response, str):
        return len(response)
    return _anthropic_chars(obj) or _responses_chars(obj)


def _responses_chars(obj: dict[str, Any]) -> int:
    """Answer text in a Responses stream event (text deltas) or a whole Response object."""
    kind = obj.get("type")
    if kind == "response.output_text.delta":
        delta = obj.get("delta")
        return len(delta) if isinstance(delta, str) else 0
    if kind is not None or obj.get("object") != "response":
        return 0
    total = 0
    for item in obj.get("output") or ():
        if isinstance(item, dict) and item.get("type") == "message":
            total += sum(
                len(part.get("text") or "") for part in item.get("content") or () if isinstance(part, dict)
            )
    return total


def _anthropic_chars(obj: dict[str, Any]) -> int:
    """Answer text in an Anthropic stream event (`content_block_delta`) or Message."""
    delta = obj.get("delta")
    if isinstance(delta, dict):
        piece = delta.get("text") or delta.get("thinking") or delta.get("partial_json")
        return len(piece) if isinstance(piece, str) else 0
    content = obj.get("content") if obj.get("type") == "message" else None
    if not isinstance(content, list):
        return 0
    return sum(len(b.get("text") or b.get("thinking") or "") for b in content if isinstance(b, dict))


def error_event(dialect: str, message: str, *, code: str = "upstream_error") -> bytes:
    if dialect == "ollama":
        return ndjson_line({"error": message})
    if dialect == "anthropic":
        return sse_event(anthropic_error_body(502, message))
    return sse_data({"error": {"message": message, "type": "api_error", "code": code}}) + SSE_DONE


def _stream_error(dialect: str, transform: StreamTransform, message: str) -> bytes:
    if dialect == "responses" and isinstance(transform, FailingTransform):
        return b"".join(sse_event(event) for event in transform.fail(message))
    return error_event(dialect, message)


def upstream_error_message(obj: dict[str, Any]) -> str | None:
    """The message of an error object found inside an upstream stream, if this is one."""
    err = obj.get("error")
    if err is None or "choices" in obj or "message" in obj or "response" in obj:
        return None
    if isinstance(err, dict):
        return str(err.get("message") or err)
    return str(err)


async def relay_stream(
    exchange: Exchange,
    chunks: AsyncIterator[bytes],
    first: bytes,
    *,
    framing: str,
    dialect: str,
    transform: StreamTransform,
) -> AsyncIterator[bytes]:
    decoder: SSEDecoder | NDJSONDecoder = SSEDecoder() if framing == "sse" else NDJSONDecoder()
    encode = ENCODERS[dialect]
    upstream = exchange.response
    # Looked up once: every name below runs once per frame (~35 per answer).
    loads, feed, Malformed = orjson.loads, transform.feed, orjson.JSONDecodeError
    out = bytearray()
    try:
        if upstream.drained and dialect == "openai" and framing == "sse":
            # The whole answer is in `first` (usual under load): where the transform can
            # work on its bytes at once, it does (OpenAI to OpenAI, `OpenAIPassThrough.whole`).
            whole = getattr(transform, "whole", None)
            done = whole(first) if whole is not None else None
            if done is not None:
                events, parsed = done
                exchange.usage = transform.usage
                if exchange.usage is None:  # counted only for an estimate
                    exchange.output_chars = sum(map(content_chars, parsed))
                yield FinalPiece(events + SSE_DONE)
                return
        chunk: bytes | None = first
        while chunk is not None:
            for frame in decoder.feed(chunk):
                if frame == "[DONE]":
                    continue
                try:
                    obj = loads(frame)
                except Malformed:
                    logger.warning("skipping a malformed upstream stream frame")
                    continue
                if obj.__class__ is not dict:
                    continue
                if "error" in obj and (message := upstream_error_message(obj)) is not None:
                    exchange.status, exchange.error = 502, message
                    yield FinalPiece(out + _stream_error(dialect, transform, message))
                    return
                for item in feed(obj):
                    exchange.output_chars += content_chars(item)
                    out += encode(item)
            exchange.usage = transform.usage
            if out and not upstream.drained:
                yield bytes(out)
                out = bytearray()
            # else the answer is all here: what is left goes out with the end, in one write
            try:
                chunk = await chunks.__anext__()
            except StopAsyncIteration:
                chunk = None
        tail = out
        for frame in decoder.flush():
            if frame in ("[DONE]", b"[DONE]"):
                continue
            try:
                obj = orjson.loads(frame)
            except orjson.JSONDecodeError:
                continue
            if isinstance(obj, dict):
                for item in transform.feed(obj):
                    exchange.output_chars += content_chars(item)
                    tail += encode(item)
        for item in transform.finish():
            exchange.output_chars += content_chars(item)
            tail += encode(item)
        if dialect == "openai":
            tail += SSE_DONE
        exchange.usage = transform.usage
        yield FinalPiece(tail)
    except UpstreamError as exc:
        exchange.usage = transform.usage
        exchange.status, exchange.error = 502, f"upstream stream broke off: {exc}"
        yield FinalPiece(
            _stream_error(dialect, transform, "The upstream stream broke off before the answer was complete")
        )
    except (asyncio.CancelledError, GeneratorExit):
        exchange.usage = transform.usage
        exchange.status, exchange.error = CLIENT_CLOSED, "client closed the stream"
        raise
    finally:
        await exchange.close_shielded()


class FinalPiece(bytes):
    """The last bytes of a relayed stream: `RelayResponse` closes the exchange (so the
    request is recorded), then sends them with the end of the body, one ASGI message (and
    one write to the client) instead of two."""


class RelayResponse(StreamingResponse):
    """A StreamingResponse that always closes its exchange, even if never iterated.

    Starlette's own `__call__` watches for a disconnect (ASGI spec < 2.4, which granian and
    uvicorn announce) with an anyio task group and a second task per stream; the request's
    `DisconnectWatch`, handed over by the pipeline, does the same for less (its timer is
    already running, and its one helper task, if a slow node made it start, goes on)."""

    def __init__(
        self,
        content: AsyncIterator[bytes],
        exchange: Exchange,
        *,
        watch: DisconnectWatch | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(content, **kwargs)
        self._exchange = exchange
        self._content = content
        # The request's watch, handed over by the pipeline (it ends with the response), or
        # None for one of its own.
        self.watch = watch

    def reframed(
        self, reframe: Callable[[AsyncIterator[bytes]], AsyncIterator[bytes]], **kwargs: Any
    ) -> RelayResponse:
        """The same exchange, its client stream re-encoded for an API the relay does not
        speak itself (the Grafana Assistant's events); still closed whatever happens."""
        return _ReframedResponse(reframe(self._content), self._exchange, watch=self.watch, **kwargs)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        watch = self.watch or DisconnectWatch(receive)
        try:
            await watch.guard(self.stream_response(send))
        except ClientGone:
            self._mark_gone()
        except BaseException:
            self._mark_gone()
            raise
        finally:
            watch.close()
            await self._exchange.close_shielded()

    async def stream_response(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        ended = False
        async for chunk in self.body_iterator:
            ended = chunk.__class__ is FinalPiece
            if ended:
                # Recorded before the client can see the end of its answer (an answered
                # request always has its ledger record, even if the worker dies now).
                await self._exchange.close_shielded()
            await send({"type": "http.response.body", "body": chunk, "more_body": not ended})
        if not ended:
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    def _mark_gone(self) -> None:
        if self._exchange.status == 200:
            self._exchange.status, self._exchange.error = CLIENT_CLOSED, "client went away"


class ClientGone(Exception):
    """The client disconnected while its answer was pending."""


WATCH_AFTER_S = 0.02


class DisconnectWatch:
    """Watches one request's connection while the gateway waits on a node: `guard(work)`
    awaits `work` in the calling task and cancels it (raising `ClientGone`) as soon as the
    client disconnects. One helper task serves every guarded wait of the request (the node's
    headers, the answer or first chunk, a retry on another node); `close()` ends it. A
    disconnect between two waits makes the next one raise at once.

    Work runs in the calling task itself: a second task per wait and `asyncio.wait` cost
    more per request than the rest of the proxying put together, on a small answer. The
    helper starts only once a wait has lasted `after` seconds (a timer, ~2 µs): most
    answers of a fast node come sooner, and starting, then cancelling, a task parked in
    the server's `receive()` cost ~7 % of the event loop at c=16. A client that leaves is
    noticed at most `after` late, which matters only to a wait that is long anyway."""

    __slots__ = ("_receive", "_after", "_timer", "_watcher", "_guarded", "gone")

    def __init__(self, receive: Receive, *, after: float = WATCH_AFTER_S) -> None:
        self._receive = receive
        self._after = after
        self._timer: asyncio.TimerHandle | None = None
        self._watcher: asyncio.Future[None] | None = None
        self._guarded: asyncio.Task[Any] | None = None
        self.gone = False

    async def guard(self, work: Awaitable[T]) -> T:
        if self.gone:
            close = getattr(work, "close", None)
            if close is not None:
                close()  # never awaited: say so to nobody
            raise ClientGone()
        if self._watcher is None and self._timer is None:
            if self._after > 0:
                self._timer = asyncio.get_running_loop().call_later(self._after, self._watch)
            else:
                self._watch()
        me = self._guarded = asyncio.current_task()
        assert me is not None
        try:
            return await work
        except asyncio.CancelledError:
            if self.gone and me.uncancel() == 0:
                raise ClientGone() from None
            raise
        finally:
            self._guarded = None

    @property
    def watching(self) -> bool:
        """Whether the helper task is running (it starts `after` into the first long wait)."""
        return self._watcher is not None

    def _watch(self) -> None:
        self._timer = None
        self._watcher = asyncio.ensure_future(_wait_disconnect(self._receive))
        self._watcher.add_done_callback(self._on_watch_done)

    def _on_watch_done(self, watcher: asyncio.Future[None]) -> None:
        if watcher.cancelled():
            return
        watcher.exception()  # a receive() that failed means the connection is gone too
        self.gone = True
        if self._guarded is not None:
            self._guarded.cancel()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._watcher is not None:
            self._watcher.remove_done_callback(self._on_watch_done)
            self._watcher.cancel()
            self._watcher = None


async def _wait_disconnect(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


def now_ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


class _ReframedResponse(RelayResponse):
    """Closes its re-encoding generator as soon as the response is over: a client that left
    while the generator waited at a `yield` would otherwise leave its `finally` (storing
    what was answered) to the garbage collector."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            aclose = getattr(self.body_iterator, "aclose", None)
            if aclose is not None:
                with anyio.CancelScope(shield=True):
                    await aclose()
