"""A fake LLM upstream: a real HTTP server on a loopback port.

It speaks the Ollama native API (``/api/*``) and the OpenAI API as vLLM serves it
(``/v1/*``, ``/health``) on the same instance, produces deterministic text, and can be
told to misbehave (error status, connection reset, cut stream, slow or hanging answer).

In tests::

    with FakeUpstream(["llama3:latest"], chunks=3) as up:
        httpx.post(f"{up.url}/api/chat", json={...})
        up.fail_next("reset")
        assert up.hits["/api/chat"] == 1

As a process (benchmarks)::

    python -m tests.fakes.upstream --port 9001 --chunks 32 --chunk-delay-ms 0 --models m1,m2
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import hashlib
import ipaddress
import signal
import socket
import struct
import sys
import threading
import time
import uuid
import zlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Self

import orjson
from aiohttp import web

__all__ = ["FAIL_MODES", "FakeModel", "FakeUpstream", "RecordedRequest", "main"]

FAIL_MODES = frozenset({"status", "reset", "cut", "slow", "hang"})

# Probe routes: fail_health() applies to them; fail_next() does not (the header does).
PROBE_PATHS = frozenset({"/health", "/api/version", "/api/tags", "/v1/models"})
# Also spared by fail_next() without `paths=`: the gateway's background discovery and health
# jobs call them at times a test does not control, and must not eat a failure meant for an
# inference request.
BACKGROUND_PATHS = frozenset({"/api/show", "/api/ps"})
# GET routes that answer without the API key.
OPEN_PATHS = frozenset({"/health", "/api/version"})

OLLAMA_VERSION = "0.12.0"
THINKING_TEXT = "thinking..."
NDJSON = "application/x-ndjson"
SSE = "text/event-stream"

_OPENAI_ERROR_TYPES = {
    400: "BadRequestError",
    401: "AuthenticationError",
    403: "PermissionDeniedError",
    404: "NotFoundError",
    405: "MethodNotAllowedError",
    408: "TimeoutError",
    409: "ConflictError",
    413: "RequestTooLargeError",
    422: "UnprocessableEntityError",
    429: "RateLimitError",
    500: "InternalServerError",
    502: "BadGatewayError",
    503: "ServiceUnavailableError",
    504: "GatewayTimeoutError",
}

_STARTED_AT = datetime.now(UTC).replace(microsecond=0)
_MODIFIED_AT = _STARTED_AT.isoformat().replace("+00:00", "Z")
_CREATED_TS = int(_STARTED_AT.timestamp())


@dataclass
class FakeModel:
    """One model the fake serves."""

    name: str
    context_length: int = 8192
    family: str = "llama"
    capabilities: list[str] = field(default_factory=lambda: ["completion"])
    size: int = 4_000_000_000
    embedding_dim: int = 8


@dataclass
class RecordedRequest:
    """One request as the fake received it."""

    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    json: Any  # parsed body, or None (no body / not JSON)
    time: float  # time.monotonic() at arrival
    query: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass
class _Failure:
    mode: str
    status: int = 500
    after_chunks: int = 2
    delay: float = 0.0
    body: object | None = None
    remaining: int = 1
    paths: frozenset[str] | None = None


class _Ctx:
    """Per-request state."""

    __slots__ = ("aborted", "cut", "dialect", "resp")

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.aborted = False  # the fake itself dropped the connection
        self.cut: int | None = None  # "cut" failure: frames to send before aborting
        self.resp: web.StreamResponse | None = None


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# --------------------------------------------------------------------------- helpers


def _dumps(obj: Any) -> bytes:
    return orjson.dumps(obj)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


@lru_cache(maxsize=1024)
def _digest(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def _details(model: FakeModel) -> dict[str, Any]:
    return {
        "parent_model": "",
        "format": "gguf",
        "family": model.family,
        "families": [model.family],
        "parameter_size": f"{model.size * 2 / 1e9:.1f}B",
        "quantization_level": "Q4_0",
    }


def _normalize_models(models: Iterable[FakeModel | str] | None) -> list[FakeModel]:
    out: list[FakeModel] = []
    for m in models or ():
        if isinstance(m, FakeModel):
            out.append(m)
        elif isinstance(m, str):
            out.append(FakeModel(m))
        else:
            raise TypeError(f"models must be FakeModel or str, got {type(m).__name__}")
    return out


def _part_text(content: Any) -> str:
    """Text of a message content: a string, or a list of OpenAI-style parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)]
        return " ".join(texts)
    return ""


def _words(text: str) -> int:
    return len(text.split())


def _message_words(messages: list[Any]) -> int:
    return sum(_words(_part_text(m.get("content"))) for m in messages if isinstance(m, dict))


def _last_user_text(messages: list[Any]) -> str:
    for m in reversed(messages):
        if isinstance(m, dict) and m.get("role") == "user":
            return _part_text(m.get("content"))
    return ""


def _openai_image_count(messages: list[Any]) -> int:
    n = 0
    for m in messages:
        if isinstance(m, dict) and isinstance(m.get("content"), list):
            n += sum(1 for p in m["content"] if isinstance(p, dict) and p.get("type") == "image_url")
    return n


def _ollama_image_count(messages: list[Any]) -> int:
    return sum(
        len(m["images"]) for m in messages if isinstance(m, dict) and isinstance(m.get("images"), list)
    )


def _first_tool_name(tools: Any, messages: list[Any] | None = None) -> str | None:
    """The tool the fake calls: the first one offered, unless the conversation ends with a
    tool's result (then it answers in text, as a model reading the result would)."""
    if not isinstance(tools, list) or not tools:
        return None
    if messages and isinstance(messages[-1], dict) and messages[-1].get("role") == "tool":
        return None
    tool = tools[0]
    if isinstance(tool, dict):
        fn = tool.get("function")
        if isinstance(fn, dict) and isinstance(fn.get("name"), str):
            return fn["name"]
        if isinstance(tool.get("name"), str):
            return tool["name"]
    return "tool"


def _pieces(n: int, prefix: str) -> list[str]:
    pieces = [f"w{i} " for i in range(n)]
    if prefix:
        if pieces:
            pieces[0] = prefix + pieces[0]
        else:
            pieces = [prefix]
    return pieces


def _vector(text: str, dim: int) -> list[float]:
    h = zlib.crc32(text.encode()) + 1
    return [((h * (i + 1) * 2654435761) % 1000003) / 1000003 for i in range(dim)]


def _embedding_inputs(value: Any) -> list[tuple[str, int]]:
    """(text used for the vector, token count) for each input of an embeddings request."""
    if isinstance(value, str):
        return [(value, max(1, _words(value)))]
    if isinstance(value, list):
        if value and all(isinstance(v, int) for v in value):  # one token array
            return [(str(value), max(1, len(value)))]
        out: list[tuple[str, int]] = []
        for v in value:
            if isinstance(v, str):
                out.append((v, max(1, _words(v))))
            elif isinstance(v, list):
                out.append((str(v), max(1, len(v))))
            else:
                raise _BadRequest(400, "invalid input")
        return out
    raise _BadRequest(400, "input is required")


def _parse_fail_header(value: str) -> _Failure:
    spec = _Failure(mode="")
    for raw in value.split(";"):
        item = raw.strip()
        if not item:
            continue
        key, sep, val = item.partition("=")
        key = key.strip().lower()
        val = val.strip()
        if not sep:
            key, val = "mode", key
        try:
            if key == "mode":
                spec.mode = val.lower()
            elif key == "status":
                spec.status = int(val)
            elif key in ("after_chunks", "after-chunks"):
                spec.after_chunks = int(val)
            elif key == "delay":
                spec.delay = float(val)
            elif key == "body":
                spec.body = val
            else:
                raise _BadRequest(400, f"X-Fake-Fail: unknown key {key!r}")
        except ValueError as exc:
            raise _BadRequest(400, f"X-Fake-Fail: bad value for {key!r}") from exc
    if spec.mode not in FAIL_MODES:
        raise _BadRequest(400, f"X-Fake-Fail: unknown mode {spec.mode!r}")
    return spec


def _check_loopback(host: str) -> None:
    if host == "localhost":
        return
    try:
        ok = ipaddress.ip_address(host).is_loopback
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"FakeUpstream binds loopback addresses only, not {host!r}")


# --------------------------------------------------------------------------- the server


class FakeUpstream:
    """Fake Ollama + OpenAI (vLLM-like) upstream on a loopback port.

    Knobs (``chunks``, ``chunk_delay``, ``models``, ``fail_next``, ``fail_health``) may be
    changed from any thread at any time; they apply to requests that arrive afterwards.
    """

    def __init__(
        self,
        models: Iterable[FakeModel | str] | None = None,
        *,
        name: str = "fake",
        api_key: str | None = None,
        chunks: int = 5,
        chunk_delay: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
        record: bool = True,
    ) -> None:
        _check_loopback(host)
        self.name = name
        self.api_key = api_key
        self.chunks = chunks
        self.chunk_delay = chunk_delay
        # When set, chat and generate answers say exactly these pieces (one per chunk when
        # streamed) instead of "w0 w1 ...": for tests of what the gateway does to the text.
        self.script: list[str] | None = None
        # When set, a chat request with tools calls these (name, arguments) instead of its
        # first tool with {"query": <last user text>}, all in one answer.
        self.tool_script: list[tuple[str, dict[str, Any]]] | None = None
        # When true, a chat whose last message is a tool result answers with text, as a
        # model does once it has what it asked for (default: it calls the tool again).
        self.text_after_tool_result = False
        self.host = host
        self.port = port
        self.record = record
        self.url = ""

        self._lock = threading.Lock()
        self._models: list[FakeModel] = _normalize_models(models)
        self._fails: list[_Failure] = []
        self._health_failing = False

        self.requests: list[RecordedRequest] = []
        self.hits: collections.Counter[str] = collections.Counter()
        self.cancelled = 0
        self.in_flight = 0
        self._loaded: dict[str, FakeModel] = {}

        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.BaseRunner | None = None
        self._stop_event: asyncio.Event | None = None
        self._stopping = False

        get, post, delete = "GET", "POST", "DELETE"
        self._routes: dict[
            tuple[str, str],
            Callable[[web.BaseRequest, _Ctx, Any], Awaitable[web.StreamResponse]],
        ] = {
            (get, "/health"): self._h_health,
            (get, "/api/version"): self._h_version,
            (get, "/api/tags"): self._h_tags,
            (get, "/api/ps"): self._h_ps,
            (post, "/api/show"): self._h_show,
            (post, "/api/chat"): self._h_ollama_chat,
            (post, "/api/generate"): self._h_ollama_generate,
            (post, "/api/embed"): self._h_embed,
            (post, "/api/embeddings"): self._h_embeddings_legacy,
            (post, "/api/pull"): self._h_pull,
            (post, "/api/push"): self._h_push,
            (post, "/api/create"): self._h_create,
            (post, "/api/copy"): self._h_copy,
            (delete, "/api/delete"): self._h_delete,
            (get, "/v1/models"): self._h_v1_models,
            (post, "/v1/chat/completions"): self._h_v1_chat,
            (post, "/v1/completions"): self._h_v1_completions,
            (post, "/v1/embeddings"): self._h_v1_embeddings,
        }
        self._known_paths = frozenset(path for _, path in self._routes)

    def __repr__(self) -> str:
        return f"<FakeUpstream {self.name} {self.url or 'stopped'}>"

    # ------------------------------------------------------------------ knobs

    @property
    def models(self) -> list[FakeModel]:
        """The served models; empty means every model name is accepted."""
        return self._models

    @models.setter
    def models(self, value: Iterable[FakeModel | str] | None) -> None:
        normalized = _normalize_models(value)
        with self._lock:
            self._models = normalized

    def fail_next(
        self,
        mode: str,
        *,
        times: int = 1,
        status: int = 500,
        after_chunks: int = 2,
        delay: float = 0.0,
        body: object | None = None,
        paths: Iterable[str] | None = None,
    ) -> None:
        """Make the next ``times`` inference/management requests misbehave.

        ``paths`` (extension) restricts the failure to requests for those paths.
        Failures queue up: a second call applies after the first is used up.
        """
        if mode not in FAIL_MODES:
            raise ValueError(f"unknown failure mode {mode!r}; expected one of {sorted(FAIL_MODES)}")
        if times < 1:
            raise ValueError("times must be >= 1")
        spec = _Failure(
            mode=mode,
            status=status,
            after_chunks=after_chunks,
            delay=delay,
            body=body,
            remaining=times,
            paths=frozenset(paths) if paths is not None else None,
        )
        with self._lock:
            self._fails.append(spec)

    def clear_failures(self) -> None:
        """Drop every queued fail_next()."""
        with self._lock:
            self._fails.clear()

    def fail_health(self, on: bool) -> None:
        """While on, /health, /api/version, /api/tags and /v1/models answer 503."""
        self._health_failing = bool(on)

    def reset_stats(self) -> None:
        """Clear requests, hits, cancelled and the /api/ps loaded-model list."""
        with self._lock:
            self.requests.clear()
            self.hits.clear()
            self.cancelled = 0
            self._loaded.clear()

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 2.0) -> bool:
        """Poll ``predicate`` until true or ``timeout`` seconds pass; returns its last value."""
        deadline = time.monotonic() + timeout
        while True:
            if predicate():
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeUpstream:
        """Serve from a daemon thread with its own event loop; returns once listening."""
        if self._thread is not None:
            raise RuntimeError("FakeUpstream already started")
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            task = loop.create_task(self._astart())
            loop.run_until_complete(asyncio.wait([task]))
            exc = task.exception()
            if exc is not None:  # re-raised by start() in the caller's thread
                errors.append(exc)
                ready.set()
                self._close_loop(loop)
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                self._close_loop(loop)

        thread = threading.Thread(target=run, name=f"FakeUpstream-{self.name}", daemon=True)
        self._loop = loop
        self._thread = thread
        thread.start()
        ready.wait()
        if errors:
            thread.join()
            self._loop = None
            self._thread = None
            raise errors[0]
        return self

    def stop(self) -> None:
        """Stop serving: open connections are dropped, the thread and loop are closed."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if thread.is_alive() and not loop.is_closed():
            fut = asyncio.run_coroutine_threadsafe(self._astop(), loop)
            try:
                fut.result(timeout=10)
            finally:
                loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        self._loop = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    async def _astart(self) -> None:
        self._stopping = False
        self._stop_event = asyncio.Event()
        server = web.Server(self._handle, handler_cancellation=True, access_log=None)
        runner = web.ServerRunner(server, shutdown_timeout=0.25)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        addr = runner.addresses[0]
        self.port = int(addr[1])
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"http://{host}:{self.port}"

    async def _astop(self) -> None:
        self._stopping = True
        if self._stop_event is not None:
            self._stop_event.set()
        await asyncio.sleep(0)  # let hanging handlers drop their connections
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @staticmethod
    def _close_loop(loop: asyncio.AbstractEventLoop) -> None:
        tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for t in tasks:
            t.cancel()
        if tasks:
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()

    async def serve_forever(self) -> None:
        """Serve in the running loop until SIGINT/SIGTERM (process mode)."""
        await self._astart()
        print(f"listening on {self.url}", flush=True)
        done = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, done.set)
        try:
            await done.wait()
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
            await self._astop()

    # ------------------------------------------------------------------ dispatch

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        path = request.path
        method = request.method
        raw = b""
        parsed: Any = None
        bad_json = False
        if request.body_exists:
            raw = await request.content.read()
            if raw:
                try:
                    parsed = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    bad_json = True
        with self._lock:
            self.hits[path] += 1
            if self.record:
                self.requests.append(
                    RecordedRequest(
                        method=method,
                        path=path,
                        headers={k.lower(): v for k, v in request.headers.items()},
                        json=parsed,
                        time=time.monotonic(),
                        query=dict(request.query),
                        body=raw,
                    )
                )
        ctx = _Ctx("openai" if path.startswith("/v1/") or path == "/health" else "ollama")
        self.in_flight += 1
        try:
            return await self._dispatch(request, ctx, method, path, parsed, bad_json)
        except ConnectionResetError:
            # A write failed: the client went away (or we dropped the connection).
            if not ctx.aborted and not self._stopping:
                self._count_cancelled()
            return ctx.resp if ctx.resp is not None else web.Response()
        except asyncio.CancelledError:
            if not ctx.aborted and not self._stopping:
                self._count_cancelled()
            raise
        finally:
            self.in_flight -= 1

    def _count_cancelled(self) -> None:
        with self._lock:
            self.cancelled += 1

    async def _dispatch(
        self,
        request: web.BaseRequest,
        ctx: _Ctx,
        method: str,
        path: str,
        body: Any,
        bad_json: bool,
    ) -> web.StreamResponse:
        if (
            self.api_key is not None
            and not (method == "GET" and path in OPEN_PATHS)
            and request.headers.get("Authorization") != f"Bearer {self.api_key}"
        ):
            return self._error(ctx, 401, "Unauthorized: invalid or missing API key")
        handler = self._routes.get((method, path))
        if handler is None:
            if path in self._known_paths:
                return self._error(ctx, 405, f"method {method} not allowed for {path}")
            return self._error(ctx, 404, f"unknown path {path}")
        if self._health_failing and path in PROBE_PATHS:
            return self._error(ctx, 503, "fake upstream is unhealthy")
        try:
            failure = self._take_failure(request, path)
        except _BadRequest as exc:
            return self._error(ctx, exc.status, exc.message)
        if failure is not None:
            mode = failure.mode
            if mode == "status":
                return self._failure_response(ctx, failure)
            if mode == "reset":
                return await self._abort(request, ctx, rst=True)
            if mode == "hang":
                assert self._stop_event is not None
                await self._stop_event.wait()
                return await self._abort(request, ctx, rst=False)
            if mode == "slow":
                if failure.delay > 0:
                    await asyncio.sleep(failure.delay)
            else:  # cut
                ctx.cut = max(0, failure.after_chunks)
        if bad_json:
            return self._error(ctx, 400, "invalid JSON body")
        if method == "POST" and not isinstance(body, dict):
            return self._error(ctx, 400, "request body must be a JSON object")
        try:
            return await handler(request, ctx, body)
        except _BadRequest as exc:
            return self._error(ctx, exc.status, exc.message)

    def _take_failure(self, request: web.BaseRequest, path: str) -> _Failure | None:
        header = request.headers.get("X-Fake-Fail")
        if header:
            return _parse_fail_header(header)
        if not self._fails or path in PROBE_PATHS:
            return None
        with self._lock:
            for i, spec in enumerate(self._fails):
                if (spec.paths is None and path not in BACKGROUND_PATHS) or (
                    spec.paths and path in spec.paths
                ):
                    spec.remaining -= 1
                    if spec.remaining <= 0:
                        del self._fails[i]
                    return spec
        return None

    # ------------------------------------------------------------------ responses

    def _error(self, ctx: _Ctx, status: int, message: str) -> web.Response:
        if ctx.dialect == "openai":
            obj: Any = {
                "error": {
                    "message": message,
                    "type": _OPENAI_ERROR_TYPES.get(status, "APIError"),
                    "code": status,
                }
            }
        else:
            obj = {"error": message}
        return web.Response(status=status, body=_dumps(obj), content_type="application/json")

    def _failure_response(self, ctx: _Ctx, failure: _Failure) -> web.Response:
        body = failure.body
        if body is None:
            return self._error(ctx, failure.status, f"fake failure (status {failure.status})")
        if isinstance(body, bytes):
            return web.Response(status=failure.status, body=body, content_type="text/plain")
        if isinstance(body, str):
            return web.Response(status=failure.status, text=body, content_type="text/plain")
        return web.Response(status=failure.status, body=_dumps(body), content_type="application/json")

    async def _abort(self, request: web.BaseRequest, ctx: _Ctx, *, rst: bool) -> web.StreamResponse:
        """Drop the connection: an RST (``rst``) or a FIN after flushing what was written."""
        ctx.aborted = True
        transport = request.transport
        if transport is not None and not transport.is_closing():
            if rst:
                sock = transport.get_extra_info("socket")
                if sock is not None:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                deadline = time.monotonic() + 1.0
                while transport.get_write_buffer_size() and time.monotonic() < deadline:
                    await asyncio.sleep(0.001)
            transport.abort()
        # aiohttp fails to send this on the dead transport and drops it quietly.
        return ctx.resp if ctx.resp is not None else web.Response()

    async def _json(
        self, request: web.BaseRequest, ctx: _Ctx, obj: Any, status: int = 200
    ) -> web.StreamResponse:
        body = _dumps(obj)
        if ctx.cut is None:
            return web.Response(status=status, body=body, content_type="application/json")
        # "cut" on a non-streamed answer: headers and half of the body, then the connection drops.
        resp = web.StreamResponse(status=status)
        resp.content_type = "application/json"
        resp.content_length = len(body)
        ctx.resp = resp
        await resp.prepare(request)
        await resp.write(body[: len(body) // 2])
        return await self._abort(request, ctx, rst=False)

    async def _empty(self, request: web.BaseRequest, ctx: _Ctx) -> web.StreamResponse:
        if ctx.cut is not None:
            return await self._abort(request, ctx, rst=False)
        return web.Response(status=200)

    async def _stream(
        self,
        request: web.BaseRequest,
        ctx: _Ctx,
        content_type: str,
        frames: list[bytes],
        final: Callable[[], bytes],
        delay: float,
    ) -> web.StreamResponse:
        """Write ``frames`` then ``final()``, waiting ``delay`` seconds between writes."""
        resp = web.StreamResponse(status=200)
        resp.content_type = content_type
        resp.headers["Cache-Control"] = "no-cache"
        ctx.resp = resp
        await resp.prepare(request)
        limit = len(frames) if ctx.cut is None else min(ctx.cut, len(frames))
        for i in range(limit):
            if i and delay > 0:
                await asyncio.sleep(delay)
            if self._stopping:
                return await self._abort(request, ctx, rst=False)
            await resp.write(frames[i])
        if ctx.cut is not None:
            return await self._abort(request, ctx, rst=False)
        if frames and delay > 0:
            await asyncio.sleep(delay)
        await resp.write(final())
        await resp.write_eof()
        return resp

    # ------------------------------------------------------------------ request helpers

    def _find_model(self, name: str) -> FakeModel | None:
        models = self._models
        if not models:
            return FakeModel(name)
        alt = f"{name}:latest" if ":" not in name.rsplit("/", 1)[-1] else None
        for m in models:
            if m.name == name or m.name == alt:
                return m
        return None

    def _require_model(
        self, ctx: _Ctx, body: dict[str, Any], *, keys: tuple[str, ...] = ("model",)
    ) -> tuple[str, FakeModel]:
        name = next((body[k] for k in keys if isinstance(body.get(k), str) and body[k]), None)
        if name is None:
            raise _BadRequest(400, f"{keys[0]} is required")
        model = self._find_model(name)
        if model is None:
            if ctx.dialect == "openai":
                raise _BadRequest(404, f"The model `{name}` does not exist.")
            raise _BadRequest(404, f"model '{name}' not found")
        return name, model

    def _mark_loaded(self, name: str, model: FakeModel) -> None:
        self._loaded.pop(name, None)
        self._loaded[name] = model

    def _generation(self, request: web.BaseRequest, body: dict[str, Any], cap: Any) -> tuple[int, float, str]:
        """(completion tokens, chunk delay, finish reason) for this request."""
        options = body.get("options") if isinstance(body.get("options"), dict) else {}
        n: Any = self.chunks
        delay: Any = self.chunk_delay
        for src in (options, body):
            if "fake_chunks" in src:
                n = src["fake_chunks"]
            if "fake_chunk_delay" in src:
                delay = src["fake_chunk_delay"]
        header_n = request.headers.get("X-Fake-Chunks")
        header_delay = request.headers.get("X-Fake-Chunk-Delay")
        try:
            if header_n is not None:
                n = int(header_n)
            if header_delay is not None:
                delay = float(header_delay)
            n = int(n)
            delay = float(delay)
        except (TypeError, ValueError) as exc:
            raise _BadRequest(400, "bad fake chunk count or delay") from exc
        n = max(0, n)
        reason = "stop"
        if isinstance(cap, int) and not isinstance(cap, bool) and 0 <= cap < n:
            n = cap
            reason = "length"
        return n, max(0.0, delay), reason

    def _tool_calls_for(self, body: dict[str, Any], messages: list[Any]) -> list[tuple[str, dict[str, Any]]]:
        """The (name, arguments) of the tool calls a chat answers with (none: text)."""
        # No call after a tool's result: the model reads it and answers in text.
        tool = _first_tool_name(body.get("tools"), messages)
        if tool is None:
            return []
        last = messages[-1] if messages else None
        if self.text_after_tool_result and isinstance(last, dict) and last.get("role") == "tool":
            return []
        if self.tool_script:
            return [(name, dict(arguments)) for name, arguments in self.tool_script]
        return [(tool, {"query": _last_user_text(messages)})]

    def _stream_delay(self, request: web.BaseRequest, body: dict[str, Any]) -> float:
        return self._generation(request, body, None)[1]

    @staticmethod
    def _durations(started: float, prompt_tokens: int, n: int) -> dict[str, int]:
        total = max(1, int((time.monotonic() - started) * 1e9))
        return {
            "total_duration": total,
            "load_duration": total // 10,
            "prompt_eval_count": prompt_tokens,
            "prompt_eval_duration": total // 5,
            "eval_count": n,
            "eval_duration": total // 2,
        }

    # ------------------------------------------------------------------ Ollama routes

    async def _h_health(self, request: web.BaseRequest, ctx: _Ctx, body: Any) -> web.StreamResponse:
        return await self._empty(request, ctx)

    async def _h_version(self, request: web.BaseRequest, ctx: _Ctx, body: Any) -> web.StreamResponse:
        return await self._json(request, ctx, {"version": OLLAMA_VERSION})

    async def _h_tags(self, request: web.BaseRequest, ctx: _Ctx, body: Any) -> web.StreamResponse:
        models = [
            {
                "name": m.name,
                "model": m.name,
                "modified_at": _MODIFIED_AT,
                "size": m.size,
                "digest": _digest(m.name),
                "details": _details(m),
            }
            for m in self._models
        ]
        return await self._json(request, ctx, {"models": models})

    async def _h_ps(self, request: web.BaseRequest, ctx: _Ctx, body: Any) -> web.StreamResponse:
        expires = (datetime.now(UTC) + timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
        models = [
            {
                "name": name,
                "model": name,
                "size": m.size,
                "digest": _digest(m.name),
                "details": _details(m),
                "expires_at": expires,
                "size_vram": m.size,
                "context_length": m.context_length,
            }
            for name, m in list(self._loaded.items())
        ]
        return await self._json(request, ctx, {"models": models})

    async def _h_show(self, request: web.BaseRequest, ctx: _Ctx, body: dict[str, Any]) -> web.StreamResponse:
        _, m = self._require_model(ctx, body, keys=("model", "name"))
        fam = m.family
        info = {
            "general.architecture": fam,
            "general.basename": m.name.split(":")[0].rsplit("/", 1)[-1],
            "general.file_type": 2,
            "general.parameter_count": m.size * 2,
            "general.quantization_version": 2,
            f"{fam}.context_length": m.context_length,
            f"{fam}.embedding_length": m.embedding_dim,
            f"{fam}.block_count": 32,
            f"{fam}.attention.head_count": 32,
        }
        answer = {
            "modelfile": f'# Modelfile generated by "ollama show"\nFROM {m.name}\n',
            "parameters": 'stop                           "<|eot_id|>"',
            "template": "{{ .Prompt }}",
            "details": _details(m),
            "model_info": info,
            "capabilities": list(m.capabilities),
            "modified_at": _MODIFIED_AT,
        }
        return await self._json(request, ctx, answer)

    async def _h_ollama_chat(
        self, request: web.BaseRequest, ctx: _Ctx, body: dict[str, Any]
    ) -> web.StreamResponse:
        started = time.monotonic()
        name, model = self._require_model(ctx, body)
        messages = body.get("messages")
        stream = body.get("stream") is not False
        created = _now_iso()
        self._mark_loaded(name, model)
        if not isinstance(messages, list) or not messages:
            # Ollama answers an empty chat by loading the model.
            return await self._json(
                request,
                ctx,
                {
                    "model": name,
                    "created_at": created,
                    "message": {"role": "assistant", "content": ""},
                    "done_reason": "load",
                    "done": True,
                },
            )
        options = body.get("options") if isinstance(body.get("options"), dict) else {}
        n, delay, reason = self._generation(request, body, options.get("num_predict"))
        prompt_tokens = max(1, _message_words(messages))
        images = _ollama_image_count(messages)
        pieces = list(self.script) if self.script else _pieces(n, f"saw {images} images. " if images else "")
        think = bool(body.get("think"))
        tool_calls = [
            {"function": {"name": tool, "arguments": arguments}}
            for tool, arguments in self._tool_calls_for(body, messages)
        ] or None

        if not stream:
            if delay > 0 and n:
                await asyncio.sleep(delay * n)
            message: dict[str, Any] = {
                "role": "assistant",
                "content": "" if tool_calls else "".join(pieces),
            }
            if think:
                message["thinking"] = THINKING_TEXT
            if tool_calls:
                message["tool_calls"] = tool_calls
            answer = {
                "model": name,
                "created_at": created,
                "message": message,
                "done_reason": reason,
                "done": True,
            }
            answer.update(self._durations(started, prompt_tokens, n))
            return await self._json(request, ctx, answer)

        frames: list[bytes] = []
        if think:
            frames.append(
                _dumps(
                    {
                        "model": name,
                        "created_at": created,
                        "message": {
                            "role": "assistant",
                            "content": "",
                            "thinking": THINKING_TEXT,
                        },
                        "done": False,
                    }
                )
                + b"\n"
            )
        if tool_calls:
            frames.append(
                _dumps(
                    {
                        "model": name,
                        "created_at": created,
                        "message": {
                            "role": "assistant",
                            "content": "",
                            "tool_calls": tool_calls,
                        },
                        "done": False,
                    }
                )
                + b"\n"
            )
        else:
            for piece in pieces:
                frames.append(
                    _dumps(
                        {
                            "model": name,
                            "created_at": created,
                            "message": {"role": "assistant", "content": piece},
                            "done": False,
                        }
                    )
                    + b"\n"
                )

        def final() -> bytes:
            last = {
                "model": name,
                "created_at": _now_iso(),
                "message": {"role": "assistant", "content": ""},
                "done": True,
                "done_reason": reason,
            }
            last.update(self._durations(started, prompt_tokens, n))
            return _dumps(last) + b"\n"

        return await self._stream(request, ctx, NDJSON, frames, final, delay)

    async def _h_ollama_generate(
        self, request: web.BaseRequest, ctx: _Ctx, body: dict[str, Any]
    ) -> web.StreamResponse:
        started = time.monotonic()
        name, model = self._require_model(ctx, body)
        prompt = body.get("prompt")
        stream = body.get("stream") is not False
        created = _now_iso()
        self._mark_loaded(name, model)
        if not isinstance(prompt, str) or not prompt:
            # Ollama answers an empty prompt by loading the model.
            return await self._json(
                request,
                ctx,
                {
                    "model": name,
                    "created_at": created,
                    "response": "",
                    "done": True,
                    "done_reason": "load",
                },
            )
        options = body.get("options") if isinstance(body.get("options"), dict) else {}
        n, delay, reason = self._generation(request, body, options.get("num_predict"))
        prompt_tokens = max(1, _words(prompt))
        images = len(body["images"]) if isinstance(body.get("images"), list) else 0
        pieces = list(self.script) if self.script else _pieces(n, f"saw {images} images. " if images else "")
        think = bool(body.get("think"))

        if not stream:
            if delay > 0 and n:
                await asyncio.sleep(delay * n)
            answer: dict[str, Any] = {
                "model": name,
                "created_at": created,
                "response": "".join(pieces),
            }
            if think:
                answer["thinking"] = THINKING_TEXT
            answer.update({"done": True, "done_reason": reason, "context": [1, 2, 3]})
            answer.update(self._durations(started, prompt_tokens, n))
            return await self._json(request, ctx, answer)

        frames: list[bytes] = []
        if think:
            frames.append(
                _dumps(
                    {
                        "model": name,
                        "created_at": created,
                        "response": "",
                        "thinking": THINKING_TEXT,
                        "done": False,
                    }
                )
                + b"\n"
            )
        for piece in pieces:
            frames.append(
                _dumps(
                    {
                        "model": name,
                        "created_at": created,
                        "response": piece,
                        "done": False,
                    }
                )
                + b"\n"
            )

        def final() -> bytes:
            last: dict[str, Any] = {
                "model": name,
                "created_at": _now_iso(),
                "response": "",
                "done": True,
                "done_reason": reason,
                "context": [1, 2, 3],
            }
            last.update(self._durations(started, prompt_tokens, n))
            return _dumps(last) + b"\n"

        return await self._stream(request, ctx, NDJSON, frames, final, delay)

    async def _h_embed(self, request: web.BaseRequest, ctx: _Ctx, body: dict[str, Any]) -> web.StreamResponse:
        started = time.monotonic()
        name, model = self._require_model(ctx, body)
        inputs = _embedding_inputs(body.get("input"))
        dim = (
            body["dimensions"]
            if isinstance(body.get("dimensions"), int) and body["dimensions"] > 0
            else model.embedding_dim
        )
        self._mark_loaded(name, model)
        total = max(1, int((time.monotonic() - started) * 1e9))
        return await self._json(
            request,
            ctx,
            {
                "model": name,
                "embeddings": [_vector(text, dim) for text, _ in inputs],
                "total_duration": total,
                "load_duration": total // 10,
                "prompt_eval_count": sum(count for _, count in inputs),
            },
        )

    async def _h_embeddings_legacy(
        self, request: web.BaseRequest, ctx: _Ctx, body: dict[str, Any]
    ) -> web.StreamResponse:
        name, model = self._require_model(ctx, body)
        prompt = body.get("prompt")
        if not isinstance(prompt, str):
            raise _BadRequest(400, "prompt is required")
        self._mark_loaded(name, model)
        return await self._json(request, ctx, {"embedding": _vector(prompt, model.embedding_dim)})

    async def _progress(
        self,
        request: web.BaseRequest,
        ctx: _Ctx,
        body: dict[str, Any],
        steps: list[dict[str, Any]],
        on_success: Callable[[], None],
    ) -> web.StreamResponse:
        delay = self._stream_delay(request, body)
        if body.get("stream") is False:
            if delay > 0:
                await asyncio.sleep(delay * len(steps))
            on_success()
            return await self._json(request, ctx, {"status": "success"})

        def final() -> bytes:
            on_success()
            return _dumps({"status": "success"}) + b"\n"

        frames = [_dumps(s) + b"\n" for s in steps]
        return await self._stream(request, ctx, NDJSON, frames, final, delay)

    def _add_model(self, model: FakeModel) -> None:
        """Add (or replace) a model; a no-op in accept-every-model mode."""
        with self._lock:
            if not self._models:
                return
            self._models = [m for m in self._models if m.name != model.name] + [model]

    def _remove_model(self, name: str) -> bool:
        with self._lock:
            if not self._models:
                return True
            kept = [m for m in self._models if m.name != name]
            if len(kept) == len(self._models):
                return False
            self._models = kept
            self._loaded.pop(name, None)
            return True

    @staticmethod
    def _model_name(body: dict[str, Any]) -> str:
        for key in ("model", "name"):
            if isinstance(body.get(key), str) and body[key]:
                return body[key]
        raise _BadRequest(400, "model is required")

    async def _h_pull(self, request: web.BaseRequest, ctx: _Ctx, body: dict[str, Any]) -> web.StreamResponse:
        name = self._model_name(body)
        existing = self._find_model(name)
        model = existing if existing is not None else FakeModel(name)
        digest = "sha256:" + _digest(name)
        steps: list[dict[str, Any]] = [
            {"status": "pulling manifest"},
            {
                "status": f"pulling {digest[7:19]}",
                "digest": digest,
                "total": model.size,
                "completed": 0,
            },
            {
                "status": f"pulling {digest[7:19]}",
                "digest": digest,
                "total": model.size,
                "completed": model.size,
            },
            {"status": "verifying sha256 digest"},
            {"status": "writing manifest"},
        ]
        return await self._progress(request, ctx, body, steps, lambda: self._add_model(model))

    async def _h_push(self, request: web.BaseRequest, ctx: _Ctx, body: dict[str, Any]) -> web.StreamResponse:
        _, model = self._require_model(ctx, body, keys=("model", "name"))
        digest = "sha256:" + _digest(model.name)
        steps: list[dict[str, Any]] = [
            {"status": "retrieving manifest"},
            {"status": "starting upload", "digest": digest, "total": model.size},
            {
                "status": "starting upload",
                "digest": digest,
                "total": model.size,
                "completed": model.size,
            },
            {"status": "pushing manifest"},
        ]
        return await self._progress(request, ctx, body, steps, lambda: None)

    async def _h_create(
        self, request: web.BaseRequest, ctx: _Ctx, body: dict[str, Any]
    ) -> web.StreamResponse:
        name = self._model_name(body)
        base: FakeModel | None = None
        source = body.get("from")
        if isinstance(source, str) and source:
            base = self._find_model(source)
            if base is None:
                raise _BadRequest(404, f"model '{source}' not found")
        model = FakeModel(
            name,
            context_length=base.context_length if base else 8192,
            family=base.family if base else "llama",
            capabilities=list(base.capabilities) if base else ["completion"],
            size=base.size if base else 4_000_000_000,
            embedding_dim=base.embedding_dim if base else 8,
        )
        steps: list[dict[str, Any]] = [
            {"status": "reading model metadata"},
            {"status": "creating system layer"},
            {"status": f"using already created layer sha256:{_digest(name)}"},
            {"status": "writing manifest"},
        ]
        return await self._progress(request, ctx, body, steps, lambda: self._add_model(model))

    async def _h_copy(self, request: web.BaseRequest, ctx: _Ctx, body: dict[str, Any]) -> web.StreamResponse:
        source, destination = body.get("source"), body.get("destination")
        if not isinstance(source, str) or not source or not isinstance(destination, str) or not destination:
            raise _BadRequest(400, "source and destination are required")
        base = self._find_model(source)
        if base is None:
            raise _BadRequest(404, f"model '{source}' not found")
        self._add_model(
            FakeModel(
                destination,
                context_length=base.context_length,
                family=base.family,
                capabilities=list(base.capabilities),
                size=base.size,
                embedding_dim=base.embedding_dim,
            )
        )
        return await self._empty(request, ctx)

    async def _h_delete(
        self, request: web.BaseRequest, ctx: _Ctx, body: dict[str, Any]
    ) -> web.StreamResponse:
        name = self._model_name(body)
        model = self._find_model(name)
        if model is None or not self._remove_model(model.name):
            raise _BadRequest(404, f"model '{name}' not found")
        return await self._empty(request, ctx)

    # ------------------------------------------------------------------ OpenAI routes

    async def _h_v1_models(self, request: web.BaseRequest, ctx: _Ctx, body: Any) -> web.StreamResponse:
        data = [
            {
                "id": m.name,
                "object": "model",
                "created": _CREATED_TS,
                "owned_by": self.name,
                "root": m.name,
                "parent": None,
                "max_model_len": m.context_length,
            }
            for m in self._models
        ]
        return await self._json(request, ctx, {"object": "list", "data": data})

    @staticmethod
    def _openai_options(body: dict[str, Any]) -> tuple[bool, bool, Any]:
        stream = body.get("stream") is True
        stream_options = body.get("stream_options")
        include_usage = (
            stream and isinstance(stream_options, dict) and stream_options.get("include_usage") is True
        )
        cap = body.get("max_completion_tokens")
        if cap is None:
            cap = body.get("max_tokens")
        return stream, include_usage, cap

    async def _h_v1_chat(
        self, request: web.BaseRequest, ctx: _Ctx, body: dict[str, Any]
    ) -> web.StreamResponse:
        name, model = self._require_model(ctx, body)
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise _BadRequest(400, "messages is required")
        stream, include_usage, cap = self._openai_options(body)
        n, delay, reason = self._generation(request, body, cap)
        self._mark_loaded(name, model)
        prompt_tokens = max(1, _message_words(messages))
        images = _openai_image_count(messages)
        pieces = list(self.script) if self.script else _pieces(n, f"saw {images} images. " if images else "")
        reasoning = "reason" in name.lower()
        calls = [
            (f"call_{uuid.uuid4().hex[:24]}", tool, orjson.dumps(arguments).decode())
            for tool, arguments in self._tool_calls_for(body, messages)
        ]
        if calls:
            reason = "tool_calls"
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": n,
            "total_tokens": prompt_tokens + n,
        }
        cid = f"chatcmpl-{uuid.uuid4().hex}"
        created = int(time.time())

        if not stream:
            if delay > 0 and n:
                await asyncio.sleep(delay * n)
            message: dict[str, Any] = {
                "role": "assistant",
                "content": None if calls else "".join(pieces),
            }
            if reasoning:
                message["reasoning_content"] = THINKING_TEXT
            if calls:
                message["tool_calls"] = [
                    {
                        "id": call_id,
                        "type": "function",
                        "function": {"name": tool, "arguments": arguments},
                    }
                    for call_id, tool, arguments in calls
                ]
            return await self._json(
                request,
                ctx,
                {
                    "id": cid,
                    "object": "chat.completion",
                    "created": created,
                    "model": name,
                    "choices": [
                        {
                            "index": 0,
                            "message": message,
                            "logprobs": None,
                            "finish_reason": reason,
                        }
                    ],
                    "usage": usage,
                },
            )

        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            obj: dict[str, Any] = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": name,
                "choices": [
                    {
                        "index": 0,
                        "delta": delta,
                        "logprobs": None,
                        "finish_reason": finish,
                    }
                ],
            }
            if include_usage:
                obj["usage"] = None
            return b"data: " + _dumps(obj) + b"\n\n"

        frames = [chunk({"role": "assistant", "content": ""})]
        if reasoning:
            frames.append(chunk({"reasoning_content": THINKING_TEXT}))
        for index, (call_id, tool, arguments) in enumerate(calls):
            # The call's head, then its arguments in two fragments, as vLLM streams them.
            half = len(arguments) // 2
            frames.append(
                chunk(
                    {
                        "tool_calls": [
                            {
                                "index": index,
                                "id": call_id,
                                "type": "function",
                                "function": {"name": tool, "arguments": ""},
                            }
                        ]
                    }
                )
            )
            for piece in (arguments[:half], arguments[half:]):
                frames.append(chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}))
        if not calls:
            frames.extend(chunk({"content": piece}) for piece in pieces)
        frames.append(chunk({}, reason))
        if include_usage:
            frames.append(
                b"data: "
                + _dumps(
                    {
                        "id": cid,
                        "object": "chat.completion.chunk",
                        "created": created,
                        "model": name,
                        "choices": [],
                        "usage": usage,
                    }
                )
                + b"\n\n"
            )
        return await self._stream(request, ctx, SSE, frames, lambda: b"data: [DONE]\n\n", delay)

    async def _h_v1_completions(
        self, request: web.BaseRequest, ctx: _Ctx, body: dict[str, Any]
    ) -> web.StreamResponse:
        name, model = self._require_model(ctx, body)
        prompt = body.get("prompt")
        if isinstance(prompt, str):
            prompt_tokens = _words(prompt)
        elif isinstance(prompt, list) and prompt:
            prompt_tokens = sum(_words(p) if isinstance(p, str) else 1 for p in prompt)
        else:
            raise _BadRequest(400, "prompt is required")
        prompt_tokens = max(1, prompt_tokens)
        stream, include_usage, cap = self._openai_options(body)
        n, delay, reason = self._generation(request, body, cap)
        self._mark_loaded(name, model)
        pieces = list(self.script) if self.script else _pieces(n, "")
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": n,
            "total_tokens": prompt_tokens + n,
        }
        cid = f"cmpl-{uuid.uuid4().hex}"
        created = int(time.time())

        if not stream:
            if delay > 0 and n:
                await asyncio.sleep(delay * n)
            return await self._json(
                request,
                ctx,
                {
                    "id": cid,
                    "object": "text_completion",
                    "created": created,
                    "model": name,
                    "choices": [
                        {
                            "index": 0,
                            "text": "".join(pieces),
                            "logprobs": None,
                            "finish_reason": reason,
                        }
                    ],
                    "usage": usage,
                },
            )

        def chunk(text: str, finish: str | None = None) -> bytes:
            obj: dict[str, Any] = {
                "id": cid,
                "object": "text_completion",
                "created": created,
                "model": name,
                "choices": [
                    {
                        "index": 0,
                        "text": text,
                        "logprobs": None,
                        "finish_reason": finish,
                    }
                ],
            }
            if include_usage:
                obj["usage"] = None
            return b"data: " + _dumps(obj) + b"\n\n"

        frames = [chunk(piece) for piece in pieces]
        frames.append(chunk("", reason))
        if include_usage:
            frames.append(
                b"data: "
                + _dumps(
                    {
                        "id": cid,
                        "object": "text_completion",
                        "created": created,
                        "model": name,
                        "choices": [],
                        "usage": usage,
                    }
                )
                + b"\n\n"
            )
        return await self._stream(request, ctx, SSE, frames, lambda: b"data: [DONE]\n\n", delay)

    async def _h_v1_embeddings(
        self, request: web.BaseRequest, ctx: _Ctx, body: dict[str, Any]
    ) -> web.StreamResponse:
        name, model = self._require_model(ctx, body)
        inputs = _embedding_inputs(body.get("input"))
        dim = (
            body["dimensions"]
            if isinstance(body.get("dimensions"), int) and body["dimensions"] > 0
            else model.embedding_dim
        )
        as_base64 = body.get("encoding_format") == "base64"
        self._mark_loaded(name, model)
        data = []
        for index, (text, _) in enumerate(inputs):
            vec = _vector(text, dim)
            embedding: Any = base64.b64encode(struct.pack(f"<{dim}f", *vec)).decode() if as_base64 else vec
            data.append({"object": "embedding", "index": index, "embedding": embedding})
        tokens = sum(count for _, count in inputs)
        return await self._json(
            request,
            ctx,
            {
                "id": f"embd-{uuid.uuid4().hex}",
                "object": "list",
                "created": int(time.time()),
                "model": name,
                "data": data,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )


# --------------------------------------------------------------------------- process mode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakes.upstream", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--chunks", type=int, default=5)
    parser.add_argument("--chunk-delay-ms", type=float, default=0.0)
    parser.add_argument("--models", default="", help="comma-separated model names (empty: accept any)")
    parser.add_argument("--name", default="fake")
    parser.add_argument("--api-key", default=None)
    parser.add_argument(
        "--record",
        action="store_true",
        help="keep every request in memory (off by default)",
    )
    args = parser.parse_args(argv)
    upstream = FakeUpstream(
        [m.strip() for m in args.models.split(",") if m.strip()],
        name=args.name,
        api_key=args.api_key,
        chunks=args.chunks,
        chunk_delay=args.chunk_delay_ms / 1000.0,
        host=args.host,
        port=args.port,
        record=args.record,
    )
    asyncio.run(upstream.serve_forever())
    return 0


if __name__ == "__main__":
    sys.exit(main())
