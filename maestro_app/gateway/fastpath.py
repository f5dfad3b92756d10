"""The proxy endpoints served straight from ASGI, in front of everything else.

Every chat, completion, generate and embedding request is the hot path. The stacks around
it — Reflex's top app (error, CORS and context middleware, a mount), then FastAPI's (error,
CORS, body-limit and exit-stack middleware, route matching over every admin route,
dependency solving) — cost about a third of the gateway's CPU per request, and each layer
also wraps `send` for every chunk of a stream. None of it does anything for these routes:
they take no parameters, validate their own bodies and answer errors in their own dialect.

So `FastPath` sits outside both (`MaestroApp.__call__` in the composition root wraps the
ASGI app Reflex builds; the tests' server wraps the FastAPI app the same way) and answers
those POSTs itself. Everything else — listings, management routes, the admin API, the
dashboard, the docs, JSON 404s — and any request with an `Origin` header (a browser: the
CORS middleware must answer it) goes on down the stack. The FastAPI routes for the same
paths stay: the OpenAPI document lists them, and a path the fast path does not match
exactly (a trailing slash) still gets FastAPI's answer.

It also owns the `/t/<token>/...` rewrite (see `path_token`), so a token in the base URL
reaches both the fast path and the apps below.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from fastapi import FastAPI
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from maestro_app.domain.errors import GatewayError
from maestro_app.gateway import anthropic_endpoints, ollama_endpoints, openai_endpoints
from maestro_app.gateway.errors import error_response
from maestro_app.gateway.path_token import PREFIX, with_path_token
from maestro_app.gateway.pipeline import Endpoint, Gateway
from maestro_app.observability.request_ids import RequestIdMiddleware

logger = logging.getLogger(__name__)

PROXY_ENDPOINTS: tuple[Endpoint, ...] = (
    openai_endpoints.CHAT,
    openai_endpoints.COMPLETIONS,
    openai_endpoints.EMBEDDINGS,
    openai_endpoints.RESPONSES,
    ollama_endpoints.CHAT,
    ollama_endpoints.GENERATE,
    ollama_endpoints.EMBED,
    ollama_endpoints.EMBEDDINGS,
    anthropic_endpoints.MESSAGES,
)
# Clients that need a base URL of their own for Anthropic use `/anthropic`.
ALIASES = {"/anthropic/v1/messages": anthropic_endpoints.MESSAGES}


class FastPath:
    def __init__(self, app: ASGIApp, gateway: Gateway, endpoints: Mapping[str, Endpoint]) -> None:
        self.app = app
        self.gateway = gateway
        self.endpoints = dict(endpoints)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith(PREFIX):
            scope = with_path_token(scope)
        ep = self.endpoints.get(scope["path"]) if scope["method"] == "POST" else None
        if ep is None or any(name == b"origin" for name, _ in scope["headers"]):
            await self.app(scope, receive, send)
            return
        await self._serve(ep, scope, receive, send)

    async def _serve(self, ep: Endpoint, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            try:
                response: Response = await self.gateway.handle(Request(scope, receive), ep)
            except GatewayError as err:
                response = error_response(err, dialect=ep.dialect)
            except ClientDisconnect:
                return  # gone while sending its body: nothing was routed, nobody to answer
            await response(scope, receive, tracking_send)
        except Exception:
            # What the error middleware below would do, in the endpoint's own format.
            logger.exception("unhandled error on %s", ep.path)
            if not started:
                failure = GatewayError("The gateway failed on this request; it is logged")
                await error_response(failure, dialect=ep.dialect)(scope, receive, send)


def fast_path(app: FastAPI) -> Callable[[ASGIApp], ASGIApp]:
    """The wrapper that puts `FastPath`, with the gateway of `app`, around an ASGI app, and
    `RequestIdMiddleware` around both: every response, fast or not, carries its id."""
    gateway: Gateway = app.state.gateway
    endpoints = {ep.path: ep for ep in PROXY_ENDPOINTS} | ALIASES
    return lambda inner: RequestIdMiddleware(FastPath(inner, gateway, endpoints))
