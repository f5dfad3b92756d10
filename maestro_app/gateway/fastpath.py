"""The proxy endpoints served straight from ASGI, in front of the FastAPI app.

Every chat, completion, generate and embedding request is the hot path; the FastAPI stack
around it (its own error and CORS middleware, body-limit and exit-stack middleware, route
matching over every admin route, dependency solving) cost about a fifth of the gateway's CPU
per request and did nothing for these routes: they take no parameters, validate their own
bodies and answer errors in their own dialect. So `FastPath` wraps the FastAPI app (as a
second `api_transformer` in the Reflex app, and in the tests' server) and answers those
POSTs itself; everything else — listings, management routes, the admin API, the docs, the
JSON 404s — goes on to FastAPI. The FastAPI routes for the same paths stay (the OpenAPI
document lists them, and a path the fast path does not match exactly, such as a trailing
slash, still gets FastAPI's answer).

It also owns the `/t/<token>/...` rewrite (see `path_token`), so a token in the base URL
reaches both the fast path and FastAPI.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from fastapi import FastAPI
from starlette.requests import ClientDisconnect, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from maestro_app.domain.errors import GatewayError
from maestro_app.gateway import ollama_endpoints, openai_endpoints
from maestro_app.gateway.errors import error_response
from maestro_app.gateway.path_token import PREFIX, with_path_token
from maestro_app.gateway.pipeline import Endpoint, Gateway

PROXY_ENDPOINTS: tuple[Endpoint, ...] = (
    openai_endpoints.CHAT,
    openai_endpoints.COMPLETIONS,
    openai_endpoints.EMBEDDINGS,
    ollama_endpoints.CHAT,
    ollama_endpoints.GENERATE,
    ollama_endpoints.EMBED,
    ollama_endpoints.EMBEDDINGS,
)


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
        if ep is None:
            await self.app(scope, receive, send)
            return
        try:
            response = await self.gateway.handle(Request(scope, receive), ep)
        except GatewayError as err:
            response = error_response(err, dialect=ep.dialect)
        except ClientDisconnect:
            return  # gone while sending its body: nothing was routed, nobody to answer
        await response(scope, receive, send)


def fast_path(app: FastAPI) -> Callable[[ASGIApp], ASGIApp]:
    """The transformer that puts `FastPath` (with the gateway of `app`) around an ASGI app."""
    gateway: Gateway = app.state.gateway
    endpoints = {ep.path: ep for ep in PROXY_ENDPOINTS}
    return lambda inner: FastPath(inner, gateway, endpoints)
