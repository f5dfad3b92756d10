"""FLOOR: the least a Python gateway can do — a raw ASGI pass-through proxy.

No framework, no auth, no parsing: read the client's body, send it to the same path on the
upstream through one shared aiohttp session, relay status, content type and body (whole
when the upstream gave a Content-Length, chunk by chunk otherwise). Served by granian, the
server `reflex run --env prod` uses, with the same interface (ASGI) and one worker, so the
comparison with MAESTRO is about the application, not the server.

    python -m tests.benchmarks.floor_proxy --port 8100 --upstream http://127.0.0.1:9001

Not collected by pytest (`tests/benchmarks` is excluded in pyproject.toml).
"""

from __future__ import annotations

import argparse
import os
from typing import Any

import aiohttp

UPSTREAM = os.environ.get("FLOOR_UPSTREAM", "http://127.0.0.1:9001")
_session: aiohttp.ClientSession | None = None


def _client() -> aiohttp.ClientSession:
    global _session
    if _session is None:  # made in the worker's own event loop, on first use
        _session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=512, limit_per_host=0, keepalive_timeout=30),
            timeout=aiohttp.ClientTimeout(total=None, connect=5, sock_read=600),
            auto_decompress=False,
            skip_auto_headers=("User-Agent",),
        )
    return _session


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if _session is not None:
                await _session.close()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["type"] != "http":
        return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    async with _client().request(
        scope["method"],
        UPSTREAM + scope["path"],
        data=body,
        headers={"Content-Type": "application/json"},
        allow_redirects=False,
    ) as resp:
        ctype = resp.headers.get("Content-Type", "application/octet-stream").encode("latin-1")
        if resp.headers.get("Content-Length") is not None:
            data = await resp.read()
            headers = [(b"content-type", ctype), (b"content-length", str(len(data)).encode())]
            await send({"type": "http.response.start", "status": resp.status, "headers": headers})
            await send({"type": "http.response.body", "body": data})
            return
        await send(
            {"type": "http.response.start", "status": resp.status, "headers": [(b"content-type", ctype)]}
        )
        async for chunk in resp.content.iter_any():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.floor_proxy")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    os.environ["FLOOR_UPSTREAM"] = args.upstream.rstrip("/")  # the worker imports this module anew

    # As reflex.utils.exec.run_granian_backend_prod starts granian (minus Reflex's factory).
    from granian.constants import Interfaces
    from granian.log import LogLevels
    from granian.server import Server

    Server(
        target="tests.benchmarks.floor_proxy:app",
        address=args.host,
        port=args.port,
        interface=Interfaces.ASGI,
        log_level=LogLevels.warning,
        workers=args.workers,
    ).serve()


if __name__ == "__main__":
    main()
