"""`RelayResponse`: how a relayed stream reaches the ASGI server. The last piece goes out
with the end of the body in one message, and only after the exchange is closed (the
request recorded); a body that ends without one gets the usual empty closing message."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from maestro_app.gateway.relay import Exchange, FinalPiece, RelayResponse
from tests.gateway.relay_support import Answer

pytestmark = pytest.mark.asyncio


class Client:
    """The ASGI server's side: what was sent, and what had been recorded at each send."""

    def __init__(self, events: list[str]) -> None:
        self.events = events
        self.messages: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        raise AssertionError("a relay that finishes at once never listens for a disconnect")

    async def send(self, message: dict[str, Any]) -> None:
        self.messages.append(message)
        self.events.append("send " + ("start" if message["type"] == "http.response.start" else "body"))


async def relay(pieces: list[bytes]) -> tuple[list[dict[str, Any]], list[str]]:
    events: list[str] = []

    async def recorded(_exchange: Exchange) -> None:
        events.append("recorded")

    exchange = Exchange(Answer(), on_close=recorded)  # type: ignore[arg-type]

    async def content() -> AsyncIterator[bytes]:
        for piece in pieces:
            yield piece
        await exchange.close_shielded()  # what relay_stream's `finally` does

    client = Client(events)
    response = RelayResponse(content(), exchange, media_type="text/event-stream")
    await response({"type": "http", "asgi": {"spec_version": "2.3"}}, client.receive, client.send)
    return client.messages, events


async def test_the_last_piece_ends_the_body_after_the_request_is_recorded() -> None:
    messages, events = await relay([b"data: 1\n\n", FinalPiece(b"data: 2\n\ndata: [DONE]\n\n")])
    assert [(m["type"], m.get("body"), m.get("more_body")) for m in messages] == [
        ("http.response.start", None, None),
        ("http.response.body", b"data: 1\n\n", True),
        ("http.response.body", b"data: 2\n\ndata: [DONE]\n\n", False),
    ]
    assert events == ["send start", "send body", "recorded", "send body"]


async def test_a_body_without_a_final_piece_gets_an_empty_end_after_the_record() -> None:
    messages, events = await relay([b"data: 1\n\n"])
    assert [(m.get("body"), m.get("more_body")) for m in messages[1:]] == [
        (b"data: 1\n\n", True),
        (b"", False),
    ]
    assert events == ["send start", "send body", "recorded", "send body"]
