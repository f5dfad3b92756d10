"""The scaled deployment of tests/scaled: two replicas, two Granian workers each, on a fresh
PostgreSQL database (the replicas migrate and seed it together at start) and a Redis key
prefix of this run, with nginx in front. One deployment for the package: starting replicas
is the slow part."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import redis as redis_sync

from tests.conftest import REDIS_URL, RUN_ID, TEST_ADMIN_PASSWORD, _pg, _sqlalchemy_pg_url, free_port
from tests.scaled.cluster import Cluster, Nginx, Replica, unique

WORKERS_PER_REPLICA = 2
# Long enough for every stream of the rolling-restart load to finish.
GRACE_S = 20


def _replica(tmp: Path, index: int, env: dict[str, str]) -> Replica:
    own = tmp / f"replica-{index}"
    return Replica(
        env={
            **env,
            # Each replica has its own data dir and build dirs, as containers would.
            "MAESTRO_DATA_DIR": str(own / "data"),
            "REFLEX_WEB_WORKDIR": str(own / ".web"),
            "REFLEX_STATES_WORKDIR": str(own / ".states"),
        },
        port=free_port(),
        log_path=tmp / f"replica-{index}.log",
    )


def _delete_prefix(prefix: str) -> None:
    client = redis_sync.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(scope="package")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    tmp = tmp_path_factory.mktemp("cluster")
    dbname = f"maestro_{RUN_ID}_cluster_{secrets.token_hex(3)}"
    _pg(f'CREATE DATABASE "{dbname}"')  # empty: the replicas migrate it, together
    prefix = f"maestro-test-{RUN_ID}-{secrets.token_hex(4)}"
    env = {
        **os.environ,
        "DATABASE_URL": _sqlalchemy_pg_url(dbname),
        "REDIS_URL": REDIS_URL,
        "REDIS_KEY_PREFIX": prefix,
        "GRANIAN_WORKERS": str(WORKERS_PER_REPLICA),
        "OLLAMA_BASE_URL": "",
        "ADMIN_TOKEN": "test-admin-token-" + RUN_ID,
        "ADMIN_PASSWORD": TEST_ADMIN_PASSWORD,
        "JWT_SECRET_KEY": "test-jwt-secret-" + RUN_ID + "-" + "x" * 24,
        "SHUTDOWN_GRACE_S": str(GRACE_S),
        "LEDGER_CLAIM_IDLE_S": "2",
        "UPSTREAM_READ_TIMEOUT_S": "30",
        "LOG_LEVEL": "INFO",
    }
    replicas = [_replica(tmp, i, env) for i in range(2)]
    nginx = Nginx(tmp / "nginx", [r.port for r in replicas])
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:  # started together, as compose does
            list(pool.map(lambda r: r.start(timeout=180), replicas))
        nginx.start()
        yield Cluster(replicas, nginx, env["ADMIN_TOKEN"], prefix, env["DATABASE_URL"])
    finally:
        nginx.stop()
        for replica in replicas:
            replica.kill()
        _pg(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        _delete_prefix(prefix)


@pytest.fixture
def add_node(cluster: Cluster) -> Iterator[Callable[..., dict[str, Any]]]:
    """Register a fake as a node (discovered); removed after the test, so that the next
    test's routing and jobs see only its own nodes."""
    made: list[int] = []

    def add(fake: Any, node_type: str = "vllm", **fields: Any) -> dict[str, Any]:
        with cluster.admin() as admin:
            body = {"name": unique("n"), "base_url": fake.url, "node_type": node_type, **fields}
            node = admin.post("/admin/nodes", json=body)
            assert node.status_code == 201, node.text
            made.append(node.json()["id"])
            found = admin.post(f"/admin/nodes/{node.json()['id']}/discover")
            assert found.status_code == 200, found.text
            return node.json()  # type: ignore[no-any-return]

    yield add
    with cluster.admin() as admin:
        for node_id in made:
            admin.delete(f"/admin/nodes/{node_id}")
