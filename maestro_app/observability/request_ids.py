"""Request ids: one per HTTP request, on every response, in every log line about it.

    RequestIdMiddleware   outermost ASGI middleware: takes the client's `X-Request-ID` when
                          it is usable, else makes one; sets `current_ids` for the request's
                          task (log lines, the activity record) and adds `X-Request-ID` to the
                          response, errors, admin and health routes included
    current_ids()         the ids of the request being served (None outside a request)

Two ids, because the activity ledger is keyed by the request id and must never collapse two
requests into one: `own` is always ours (unique, the ledger key); `client` is what the
client sent, if anything. The response and the logs carry `shown` (the client's when given,
so its correlation works end to end); the activity record stores both.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from maestro_app.domain.ids import new_request_id

HEADER = b"x-request-id"
MAX_CLIENT_ID = 128


@dataclass(frozen=True, slots=True)
class RequestIds:
    own: str
    client: str | None = None

    @property
    def shown(self) -> str:
        return self.client or self.own


_current: ContextVar[RequestIds | None] = ContextVar("maestro_request_ids", default=None)


def current_ids() -> RequestIds | None:
    return _current.get()


def own_id() -> str:
    """Ours, unique across processes and restarts (see `domain.ids`)."""
    return new_request_id()


def new_ids() -> RequestIds:
    """Ids for work outside the middleware (a request the middleware did not see)."""
    return RequestIds(own_id())


def usable_client_id(raw: bytes) -> str | None:
    """The client's id when it is 1-128 visible ASCII characters (no spaces or controls, so
    it cannot break a log line or a header), else None."""
    if not raw or len(raw) > MAX_CLIENT_ID or not all(0x21 <= b <= 0x7E for b in raw):
        return None
    return raw.decode("ascii")


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = None
        for name, value in scope["headers"]:
            if name == HEADER:
                client = usable_client_id(value)
                break
        ids = RequestIds(own_id(), client)
        header = (HEADER, ids.shown.encode("ascii"))

        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [h for h in message.get("headers", ()) if h[0].lower() != HEADER]
                headers.append(header)
                message["headers"] = headers
            await send(message)

        token = _current.set(ids)
        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            if not started:
                # The server's own 500 would come from outside this middleware, without the
                # id; answer it here (the server then only logs the exception).
                await _send_error(send, header)
            raise
        finally:
            _current.reset(token)


async def _send_error(send: Send, header: tuple[bytes, bytes]) -> None:
    body = b"Internal Server Error"
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"21"), header]
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": body})
