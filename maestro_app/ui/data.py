"""The one door from UI state handlers to the service layer.

Service functions are synchronous and take their session explicitly; `call_service` runs
one in a worker thread with a fresh session of this process's runtime, so a slow query or
a password hash never blocks the event loop that serves the gateway.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any, TypeVar

from maestro_app.ui.context import get_runtime

T = TypeVar("T")


async def call_service(service: Callable[..., T], /, **kwargs: Any) -> T:
    """`service(session=<session>, **kwargs)` in a thread; commits when it returns."""

    def run() -> T:
        with get_runtime().session() as session:
            return service(session=session, **kwargs)

    return await asyncio.to_thread(run)


def session_secret() -> str:
    """The key that signs dashboard sessions (the JWT secret)."""
    return get_runtime().settings.jwt_secret_key or ""


def configured_public_url() -> str | None:
    """`REFLEX_API_URL` when the operator set it (the app's public URL behind a proxy)."""
    url = os.environ.get("REFLEX_API_URL", "").strip().rstrip("/")
    return url or None
