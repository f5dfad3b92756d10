"""Config changes reach the other processes by Redis pub/sub at once, and by the version
poll when an announcement is lost. Two gateways in this process (uvicorn threads) on one
database and one Redis key prefix."""

from __future__ import annotations

import time

import pytest
import redis as redis_sync

from maestro_app import runtime as runtime_module
from maestro_app.db.engine import session_scope
from maestro_app.services import users
from maestro_app.services.snapshot import bump_config_version
from maestro_app.services.users import UserCreate
from tests.conftest import REDIS_URL
from tests.support import add_user, wait_for


def _seconds_until(predicate, timeout: float) -> float | None:  # type: ignore[no-untyped-def]
    start = time.monotonic()
    return time.monotonic() - start if wait_for(predicate, timeout) else None


def test_an_announcement_reaches_the_other_process_without_the_poll(scaled_gateway_factory, monkeypatch):
    # The version poll would only run after a minute: what arrives sooner came by pub/sub.
    monkeypatch.setattr(runtime_module, "CONFIG_POLL_INTERVAL_S", 60.0)
    writer = scaled_gateway_factory()
    reader = scaled_gateway_factory()
    assert wait_for(lambda: reader.runtime.config_bus.subscribed.is_set(), 5)
    token = add_user(writer, "fanout")
    took = _seconds_until(lambda: reader.client(token).get("/v1/models").status_code == 200, 2.0)
    assert took is not None, "the new user never reached the other process"

    rotated = writer.admin.put("/admin/users/fanout/token")
    assert rotated.status_code == 200
    took = _seconds_until(lambda: reader.client(token).get("/v1/models").status_code == 401, 2.0)
    assert took is not None, "the other process still accepts the rotated-out token"
    assert reader.client(rotated.json()["token"]).get("/v1/models").status_code == 200


def test_the_poll_catches_a_write_nobody_announced(scaled_gateway_factory):
    reader = scaled_gateway_factory()
    # A write made straight in the database (a process whose announcement was lost).
    with session_scope(reader.runtime.engine) as session:
        made = users.create_user(
            session=session,
            data=UserCreate(username="unannounced", all_models=True),
            actor="test",
            jwt_secret=reader.settings.jwt_secret_key or "",
        )
        bump_config_version(session)
    took = _seconds_until(lambda: reader.client(made.token).get("/v1/models").status_code == 200, 2.0)
    assert took is not None, "the version poll did not pick the write up"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_one_write_makes_one_announcement(scaled_gateway_factory):
    """Processes that reload because of an announcement do not announce again."""
    writer = scaled_gateway_factory()
    others = [scaled_gateway_factory() for _ in range(2)]
    assert wait_for(lambda: all(g.runtime.config_bus.subscribed.is_set() for g in (writer, *others)), 5)
    client = redis_sync.Redis.from_url(REDIS_URL)
    pubsub = client.pubsub()
    pubsub.subscribe(writer.runtime.config_bus.channel)
    pubsub.get_message(timeout=1)  # the subscribe confirmation
    add_user(writer, "once")
    version = writer.runtime.snapshot.version
    assert wait_for(lambda: all(g.runtime.snapshot.version == version for g in others), 2)
    time.sleep(0.3)
    messages = []
    while (message := pubsub.get_message(timeout=0.2)) is not None:
        messages.append(message["data"])
    pubsub.close()
    client.close()
    assert messages == [str(version).encode()]
