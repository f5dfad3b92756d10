"""Test set-up through the real admin API (what an operator would do), and activity written
the way the gateway writes it."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine

from maestro_app.db.models import ActivityRecord
from maestro_app.stores.ledger import insert_records
from tests.conftest import LiveGateway
from tests.fakes.upstream import FakeUpstream


def add_node(
    live: LiveGateway,
    fake: FakeUpstream,
    *,
    name: str,
    node_type: str = "ollama",
    discover: bool = True,
    **fields: Any,
) -> dict[str, Any]:
    body = {"name": name, "base_url": fake.url, "node_type": node_type, **fields}
    resp = live.admin.post("/admin/nodes", json=body)
    assert resp.status_code == 201, resp.text
    node = resp.json()
    # An added node is health-checked and discovered in the background: let that end first,
    # so that it does not count among the requests a test expects the node to get.
    live.run(live.runtime.new_nodes_checked())
    if discover:
        found = live.admin.post(f"/admin/nodes/{node['id']}/discover")
        assert found.status_code == 200, found.text
    return node  # type: ignore[no-any-return]


def add_user(live: LiveGateway, username: str = "alice", **fields: Any) -> str:
    body = {"username": username, "all_models": True, **fields}
    resp = live.admin.post("/admin/users", json=body)
    assert resp.status_code == 201, resp.text
    return resp.json()["token"]  # type: ignore[no-any-return]


def add_mapping(live: LiveGateway, display: str, real: str, **fields: Any) -> dict[str, Any]:
    resp = live.admin.post(
        "/admin/model-mappings", json={"display_name": display, "real_name": real, **fields}
    )
    assert resp.status_code == 201, resp.text
    return resp.json()  # type: ignore[no-any-return]


def set_settings(live: LiveGateway, **values: Any) -> None:
    resp = live.admin.put("/admin/settings", json=values)
    assert resp.status_code == 200, resp.text


def activity(live: LiveGateway, **params: Any) -> list[dict[str, Any]]:
    live.flush_activity()
    resp = live.admin.get("/admin/activity", params={"limit": 500, **params})
    assert resp.status_code == 200, resp.text
    return resp.json()["items"]  # type: ignore[no-any-return]


def wait_for(predicate: Any, timeout: float = 5.0) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    return predicate()


_ACTIVITY_COLUMNS = tuple(c.name for c in ActivityRecord.__table__.columns if c.name != "id")  # type: ignore[attr-defined]


def store_activity(engine: Engine, records: list[ActivityRecord]) -> None:
    """Write activity records as the gateway does: through the ledger's `insert_records`, the
    request log's only writer (on SQLite it also keeps the hourly rollups: the table has no
    insert trigger there, migration 0008)."""
    insert_records(engine, [{name: getattr(r, name) for name in _ACTIVITY_COLUMNS} for r in records])
