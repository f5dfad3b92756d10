"""The dashboard logged in through one replica works through the other: Reflex keeps UI state
in Redis. Driven at the protocol level, as the browser does it: a Socket.IO client on the
Reflex websocket (`/_event`, the tab's client token in the query) sending state events.
(No browser: a frontend build per replica would cost minutes; the page only renders what
these events answer.)"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
import redis as redis_sync
import socketio

from maestro_app.ui.pages.login import LoginState
from maestro_app.ui.pages.status import StatusState
from tests.conftest import REDIS_URL, TEST_ADMIN_PASSWORD
from tests.scaled.cluster import Cluster

pytestmark = pytest.mark.xdist_group("scaled")

LOGIN = f"{LoginState.get_full_name()}.submit"
# A guarded handler with a visible effect: it stamps `refreshed_at`, or redirects to login.
REFRESH = f"{StatusState.get_full_name()}.refresh"
SOCKET_RECORD = "token_manager_socket_record_"
# The frontend connects `io("<backend>/_event", {path: "/_event"})`: engine.io path and
# Socket.IO namespace are both `/_event`.
NAMESPACE = "/_event"
Updates = list[dict[str, Any]]


async def _tab(url: str, token: str, name: str, payload: dict[str, Any], path: str) -> Updates:
    """Open a tab's websocket with client token `token`, send one event (handler name,
    payload, page path) and return the updates the server sent until the event's outcome
    (a change of `admin_name` or `refreshed_at`, an error, or a redirect) arrived."""
    client = socketio.AsyncClient(reconnection=False)
    updates: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    client.on("event", updates.put, namespace=NAMESPACE)
    await client.connect(
        f"{url}?token={token}", socketio_path=NAMESPACE, namespaces=[NAMESPACE], transports=["websocket"]
    )
    received: Updates = []
    try:
        router_data = {"pathname": path, "asPath": path, "query": {}}
        data = {"name": name, "payload": payload, "router_data": router_data}
        await client.emit("event", data, namespace=NAMESPACE)
        while not _outcome(received):
            received.append(await asyncio.wait_for(updates.get(), 20))
    finally:
        await client.disconnect()
    return received


def _changed(updates: Updates, var: str) -> list[Any]:
    """Every value the server sent for state var `var` (Reflex suffixes `_rx_state_`)."""
    return [
        value
        for update in updates
        for substate in (update.get("delta") or {}).values()
        for key, value in substate.items()
        if key == f"{var}_rx_state_"
    ]


def _outcome(updates: Updates) -> bool:
    return bool(
        _redirects(updates)
        or any(_changed(updates, "admin_name"))
        or _changed(updates, "refreshed_at")
        or any(_changed(updates, "error"))
    )


def _redirects(updates: Updates) -> list[str]:
    return [
        str(event.get("payload", {}).get("path"))
        for update in updates
        for event in update.get("events") or []
        if event.get("name") == "_redirect"
    ]


def _run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def _wait_disconnected(client: redis_sync.Redis, token: str) -> None:
    """A tab that closes drops its socket record; the next replica then keeps its token."""
    for _ in range(100):
        if not client.exists(SOCKET_RECORD + token):
            return
        asyncio.run(asyncio.sleep(0.05))
    raise AssertionError("the socket record of the closed tab stayed")


@pytest.fixture
def tab_tokens():  # type: ignore[no-untyped-def]
    """Client tokens of this test's tabs; Reflex's keys of theirs are removed afterwards
    (Reflex names them `<token>_<state>`, `<token>_lock`, `token_manager_socket_record_<token>`)."""
    made: list[str] = []

    def make() -> str:
        made.append(str(uuid.uuid4()))
        return made[-1]

    yield make
    client = redis_sync.Redis.from_url(REDIS_URL)
    for token in made:
        keys = [*client.scan_iter(match=f"{token}*"), *client.scan_iter(match=f"{SOCKET_RECORD}{token}")]
        if keys:
            client.delete(*keys)
    client.close()


def test_a_dashboard_login_through_one_replica_works_through_the_other(cluster: Cluster, tab_tokens):
    first, second = cluster.replicas
    redis = redis_sync.Redis.from_url(REDIS_URL)
    tab = tab_tokens()
    form = {"form": {"username": "admin", "password": TEST_ADMIN_PASSWORD}}
    login = _run(_tab(first.url, tab, LOGIN, form, "/login"))
    assert _changed(login, "admin_name") == ["admin"], login
    _wait_disconnected(redis, tab)

    # The same tab, reconnected to the other replica (and then through nginx): signed in.
    for url in (second.url, cluster.url):
        again = _run(_tab(url, tab, REFRESH, {}, "/"))
        assert _redirects(again) == [] and _changed(again, "refreshed_at"), again
        _wait_disconnected(redis, tab)

    # A tab that never logged in is sent to the login page by either replica.
    stranger = tab_tokens()
    for url in (first.url, second.url):
        refused = _run(_tab(url, stranger, REFRESH, {}, "/"))
        assert _redirects(refused) == ["/login"] and not _changed(refused, "refreshed_at"), refused
        _wait_disconnected(redis, stranger)

    # Reflex's keys are its own: none of them uses our prefix, and ours all do.
    reflex_keys = [k.decode() for k in redis.scan_iter(match=f"{tab}*")]
    assert reflex_keys and not any(k.startswith(cluster.redis_prefix) for k in reflex_keys)
    redis.close()
