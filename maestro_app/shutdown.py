"""Hearing the stop signal without taking it from the server.

Granian stops a worker with SIGTERM: the worker stops accepting, waits for every open
request, then runs the ASGI lifespan shutdown (our `Runtime.stop`). It does not bound that
wait, and the application hears nothing until it is over. `on_termination` lets the runtime
start its own grace-period clock at the moment the signal arrives.

How: asyncio's `loop.add_signal_handler` (which Granian uses) is dispatched through the
signal wakeup fd, whatever Python-level handler is installed; so a Python-level handler of
ours runs *as well as* the loop's, not instead of it. We chain to the handler that was
there, and only on signals that already had a callable one (never replacing the default
action, which would make the process ignore SIGTERM).
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable
from types import FrameType

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def on_termination(loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> Callable[[], None]:
    """Call `callback` on `loop` when a stop signal arrives; returns a function that puts the
    previous handlers back. Signals reach the main thread only: elsewhere (a server run in a
    test thread) nothing is installed."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    installed: dict[int, Callable[[int, FrameType | None], object]] = {}
    for sig in STOP_SIGNALS:
        prior = signal.getsignal(sig)
        if not callable(prior):
            continue

        def handler(signum: int, frame: FrameType | None, prior: Callable[..., object] = prior) -> None:
            if not loop.is_closed():
                loop.call_soon_threadsafe(callback)
            prior(signum, frame)

        installed[sig] = prior
        signal.signal(sig, handler)

    def restore() -> None:
        for sig, prior in installed.items():
            signal.signal(sig, prior)

    return restore
