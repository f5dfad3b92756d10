"""Driving `relay_stream` by hand, as the relay tests and `tests/benchmarks/relay_stream.py`
do: the upstream answer as the exchange sees it, and one stream relayed at once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from maestro_app.gateway.legs import StreamTransform
from maestro_app.gateway.relay import Exchange, relay_stream


class Answer:
    """The upstream answer as the exchange sees it: whether all of it is read; closing it."""

    def __init__(self, drained: bool = False) -> None:
        self.drained = drained
        self.closed = False

    def close(self) -> None:
        self.closed = True


async def _not_recorded(_exchange: Exchange) -> None:
    return None


def relay_at_once(
    reads: list[bytes],
    transform: StreamTransform,
    *,
    drained: bool,
    on_close: Callable[[Exchange], Awaitable[None]] = _not_recorded,
) -> tuple[list[bytes], Exchange]:
    """An OpenAI SSE answer arriving in `reads` through `relay_stream`: what it yields and
    the exchange. Driven without a loop turn (nothing in it waits), inside a running task
    (closing the exchange enters an anyio scope)."""
    exchange = Exchange(Answer(drained), on_close=on_close)  # type: ignore[arg-type]

    async def more() -> AsyncIterator[bytes]:
        for read in reads[1:]:
            yield read

    async def relayed() -> list[bytes]:
        stream = relay_stream(
            exchange, more(), reads[0], framing="sse", dialect="openai", transform=transform
        )
        return [piece async for piece in stream]

    run = relayed()
    try:
        run.send(None)
    except StopIteration as done:
        return done.value, exchange
    run.close()
    raise RuntimeError("the relay waited")
