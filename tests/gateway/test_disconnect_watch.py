"""`DisconnectWatch`: one helper task guards every wait of a request on its node, started
only once a wait has lasted `after` seconds."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from maestro_app.gateway.relay import ClientGone, DisconnectWatch

pytestmark = pytest.mark.asyncio


class Connection:
    """ASGI `receive` of a client whose request body was read: the next message is the
    disconnect, whenever the client leaves."""

    def __init__(self) -> None:
        self.left = asyncio.Event()
        self.receives = 0

    async def receive(self) -> dict[str, Any]:
        self.receives += 1
        await self.left.wait()
        return {"type": "http.disconnect"}


async def test_waits_finish_while_the_client_stays_and_one_task_watches_them_all() -> None:
    conn = Connection()
    watch = DisconnectWatch(conn.receive, after=0.01)
    tasks_before = len(asyncio.all_tasks())
    assert await watch.guard(asyncio.sleep(0.05, "headers")) == "headers"
    assert watch.watching and len(asyncio.all_tasks()) == tasks_before + 1  # kept for the next wait
    assert await watch.guard(asyncio.sleep(0.05, "body")) == "body"
    assert conn.receives == 1 and len(asyncio.all_tasks()) == tasks_before + 1
    watch.close()
    await asyncio.sleep(0)
    assert len(asyncio.all_tasks()) == tasks_before and not watch.gone


async def test_a_quick_answer_starts_no_task() -> None:
    conn = Connection()
    watch = DisconnectWatch(conn.receive, after=0.05)
    tasks_before = len(asyncio.all_tasks())
    assert await watch.guard(asyncio.sleep(0.001, "headers")) == "headers"
    assert await watch.guard(asyncio.sleep(0.001, "body")) == "body"
    watch.close()
    await asyncio.sleep(0.08)  # past `after`: the timer was cancelled with the watch
    assert not watch.watching and conn.receives == 0 and len(asyncio.all_tasks()) == tasks_before


async def test_a_client_that_left_before_the_watch_began_is_noticed_when_it_begins() -> None:
    conn = Connection()
    conn.left.set()  # gone already: noticed `after` into the wait, not at its end
    watch = DisconnectWatch(conn.receive, after=0.02)
    loop = asyncio.get_running_loop()
    began = loop.time()
    with pytest.raises(ClientGone):
        await watch.guard(asyncio.sleep(30))
    assert loop.time() - began < 10 and watch.gone
    watch.close()


async def test_a_client_leaving_cancels_the_wait() -> None:
    conn = Connection()
    watch = DisconnectWatch(conn.receive, after=0)
    cancelled = asyncio.Event()

    async def node() -> str:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "never"

    asyncio.get_running_loop().call_later(0.02, conn.left.set)
    with pytest.raises(ClientGone):
        await watch.guard(node())
    assert cancelled.is_set() and watch.gone
    # The calling task itself was not left cancelled: it goes on (to record the 499).
    assert await asyncio.sleep(0, "still running") == "still running"
    watch.close()


async def test_a_client_that_left_between_waits_fails_the_next_one_at_once() -> None:
    conn = Connection()
    watch = DisconnectWatch(conn.receive, after=0)
    assert await watch.guard(asyncio.sleep(0, "headers")) == "headers"
    conn.left.set()
    for _ in range(3):
        await asyncio.sleep(0)
    assert watch.gone
    never_awaited = asyncio.sleep(30)
    with pytest.raises(ClientGone):
        await watch.guard(never_awaited)
    assert never_awaited.cr_frame is None  # closed, not left to warn "never awaited"
    watch.close()


async def test_a_cancellation_from_elsewhere_is_not_taken_for_a_disconnect() -> None:
    conn = Connection()
    watch = DisconnectWatch(conn.receive, after=0)
    waiting = asyncio.ensure_future(watch.guard(asyncio.sleep(30)))
    await asyncio.sleep(0.01)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert not watch.gone
    watch.close()
