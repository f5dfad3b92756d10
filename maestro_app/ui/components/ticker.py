"""`ticker`: an event every few seconds while the page is open and its tab visible (live
refresh without reloading; a local React component, no npm package)."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.event import no_args_event_spec


class Ticker(rx.Component):
    library = rx.asset("ticker.jsx", shared=True).importable_path
    tag = "Ticker"

    interval_ms: rx.Var[int]

    on_tick: rx.EventHandler[no_args_event_spec]


def ticker(*, on_tick: Any, interval_ms: int = 10_000) -> rx.Component:
    return Ticker.create(on_tick=on_tick, interval_ms=interval_ms)
