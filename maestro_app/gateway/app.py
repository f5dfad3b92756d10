"""The FastAPI app that Reflex mounts (`rx.App(api_transformer=...)`).

Built by a factory because Reflex adds its middleware to the app when it is called. The
proxy endpoints are also answered, faster, by `fastpath.FastPath` around this app. The
root `/docs`, `/redoc` and `/openapi.json` are off; docs live under `/api/docs` behind
basic auth. Unknown `/v1/*`, `/api/*`, `/admin/*` paths answer JSON 404 instead of falling
through to the dashboard's HTML.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from sqlalchemy import text
from starlette.types import ASGIApp, Message

from maestro_app.admin.deps import new_admin_throttle
from maestro_app.admin.router import build_admin_router
from maestro_app.gateway import (
    anthropic_endpoints,
    grafana_endpoints,
    metrics_endpoint,
    ollama_endpoints,
    openai_endpoints,
)
from maestro_app.gateway.errors import install_error_handlers
from maestro_app.gateway.pipeline import Gateway
from maestro_app.runtime import Runtime

_basic = HTTPBasic(realm="Model Maestro API docs")


def create_gateway_app(runtime: Runtime) -> FastAPI:
    app = FastAPI(
        title="Model Maestro",
        summary="LLM gateway: OpenAI-, Ollama- and Anthropic-compatible endpoints and the admin API",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.runtime = runtime
    app.state.gateway = Gateway(runtime)
    app.state.admin_throttle = new_admin_throttle()
    install_error_handlers(app)

    app.include_router(openai_endpoints.router)
    app.include_router(ollama_endpoints.router)
    app.include_router(grafana_endpoints.router)
    app.include_router(anthropic_endpoints.router)
    app.include_router(build_admin_router())
    app.include_router(metrics_endpoint.router)
    _add_operations(app, runtime)
    _add_docs(app, runtime)
    _add_json_catch_alls(app)
    return app


async def build_routes(app: ASGIApp) -> None:
    """Have FastAPI build its routes' matching state before the first client comes.

    FastAPI (0.16x) builds it on the first request that walks past each route, under a lock:
    about 0.3 s of CPU here, seconds on a loaded machine, and the first client waited for
    all of it (a test's first request timed out after 5 s in CI). One request in process
    for a path no route answers walks them all. It is never seen on the wire.
    """
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/.maestro-build-routes",
        "raw_path": b"/.maestro-build-routes",
        "root_path": "",
        "query_string": b"",
        "headers": [],
        "client": ("127.0.0.1", 0),
        "server": ("127.0.0.1", 0),
        "state": {},
    }

    # The (empty) body, then the client gone: a response that listens for the disconnect
    # (Starlette's file and streaming responses, e.g. the dashboard's 404 page when the
    # built frontend is mounted) must see one, or it would spin on `receive()` for ever.
    messages = iter([{"type": "http.request", "body": b"", "more_body": False}])

    async def receive() -> Message:
        return next(messages, {"type": "http.disconnect"})

    async def send(message: Message) -> None:
        return None

    await app(scope, receive, send)


def _add_operations(app: FastAPI, runtime: Runtime) -> None:
    @app.get("/health", tags=["operations"])
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/health/ready", tags=["operations"])
    async def ready() -> JSONResponse:
        checks: dict[str, str] = {}
        try:
            import asyncio

            await asyncio.to_thread(_ping_db, runtime)
            checks["database"] = "ok"
        except Exception as exc:  # the answer must say what is down, never crash
            checks["database"] = f"error: {type(exc).__name__}"
        if runtime.redis is not None:
            try:
                await runtime.redis.ping()  # type: ignore[misc]
                checks["redis"] = "ok"
            except Exception as exc:
                checks["redis"] = f"error: {type(exc).__name__}"
        checks["runtime"] = "draining" if runtime.draining else "ok" if runtime.started else "starting"
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ready" if ok else "not_ready", "checks": checks},
            status_code=200 if ok else 503,
        )


def _ping_db(runtime: Runtime) -> None:
    with runtime.engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def _add_docs(app: FastAPI, runtime: Runtime) -> None:
    def check(credentials: Annotated[HTTPBasicCredentials, Depends(_basic)]) -> None:
        user, password = runtime.settings.docs_credentials
        ok_user = secrets.compare_digest(credentials.username.encode(), user.encode())
        ok_pass = secrets.compare_digest(credentials.password.encode(), password.encode())
        if not (ok_user and ok_pass and password):
            raise HTTPException(401, "Wrong docs credentials", {"WWW-Authenticate": "Basic"})

    guard = [Depends(check)]

    @app.get("/api/openapi.json", include_in_schema=False, dependencies=guard)
    async def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/api/docs", include_in_schema=False, dependencies=guard)
    async def docs():  # type: ignore[no-untyped-def]
        return get_swagger_ui_html(openapi_url="/api/openapi.json", title="Model Maestro API")

    @app.get("/api/redoc", include_in_schema=False, dependencies=guard)
    async def redoc():  # type: ignore[no-untyped-def]
        return get_redoc_html(openapi_url="/api/openapi.json", title="Model Maestro API")


def _add_json_catch_alls(app: FastAPI) -> None:
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]

    @app.api_route("/v1/{path:path}", methods=methods, include_in_schema=False)
    async def openai_not_found(request: Request, path: str) -> JSONResponse:
        return JSONResponse(
            {
                "error": {
                    "message": f"Unknown endpoint {request.method} /v1/{path}",
                    "type": "invalid_request_error",
                    "code": "not_found",
                }
            },
            status_code=404,
        )

    @app.api_route("/api/{path:path}", methods=methods, include_in_schema=False)
    async def ollama_not_found(request: Request, path: str) -> JSONResponse:
        return JSONResponse({"error": f"Unknown endpoint {request.method} /api/{path}"}, status_code=404)

    @app.api_route("/admin/{path:path}", methods=methods, include_in_schema=False)
    async def admin_not_found(request: Request, path: str) -> JSONResponse:
        return JSONResponse({"detail": f"Unknown endpoint {request.method} /admin/{path}"}, status_code=404)
