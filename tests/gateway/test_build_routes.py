"""`build_routes`: the in-process request that has FastAPI build its routes before the first
client must come back whatever answers the path no route has."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from maestro_app.gateway.app import build_routes, create_gateway_app


def finishes(app: ASGIApp, within: float = 30) -> bool:
    """Whether `build_routes(app)` returns. In a thread of its own: a response spinning on
    `receive()` never gives its event loop back, so no timeout inside that loop could fire."""
    done = threading.Event()

    def run() -> None:
        asyncio.run(build_routes(app))
        done.set()

    threading.Thread(target=run, daemon=True, name="build-routes").start()
    return done.wait(within)


def test_a_mounted_frontend_answering_the_path_does_not_hold_it(tmp_path: Path) -> None:
    """`python -m maestro_app.serve` mounts the built dashboard at `/`: the unknown path gets
    its 404 page as a file response, which listens for the client's disconnect (Starlette,
    ASGI spec < 2.4). Without one, start-up spun on `receive()` and never served (the
    image's health check in tests/deploy waited 20 minutes)."""
    (tmp_path / "index.html").write_text("<html>dashboard</html>")
    (tmp_path / "404.html").write_text("<html>not found</html>")
    app = FastAPI()

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    app.mount("/", StaticFiles(directory=tmp_path, html=True))
    assert finishes(app)


def test_the_gateway_app(gateway) -> None:  # type: ignore[no-untyped-def]
    assert finishes(create_gateway_app(gateway.runtime))
