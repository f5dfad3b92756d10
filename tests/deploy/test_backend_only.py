"""`reflex run --env prod --backend-only --backend-port N` (SPEC §0, README "API-only"): with
no configuration at all it generates and keeps its secrets, prints the admin credentials once,
migrates a fresh database, and serves the gateway and the admin API on that port without
building the frontend; `MAESTRO_ENV=prod` with weak secrets refuses to start."""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from maestro_app.settings import Settings
from tests.conftest import (
    BACKENDS,
    RUN_ID,
    ProcessGateway,
    _pg,
    _sqlalchemy_pg_url,
    backend_only_command,
    free_port,
)
from tests.fakes.upstream import FakeUpstream

ROOT = Path(__file__).resolve().parents[2]
# Every `reflex run` of the suite goes to one xdist worker (they compile Reflex's pages).
pytestmark = pytest.mark.xdist_group("reflex")

BANNER = "admin credentials (shown once)"


def bare_environment(tmp_path: Path) -> dict[str, str]:
    """The process environment without any of our settings: only the data dir (else `./data`
    in the checkout) and a Reflex build directory of the test's own."""
    ours = {name.upper() for name in Settings.model_fields} | {"REDIS_URL", "REFLEX_REDIS_URL"}
    env = {k: v for k, v in os.environ.items() if k.upper() not in ours and not k.startswith("MAESTRO_")}
    env.update(
        MAESTRO_DATA_DIR=str(tmp_path / "data"),
        REFLEX_WEB_WORKDIR=str(tmp_path / ".web"),
        REFLEX_STATES_WORKDIR=str(tmp_path / ".states"),
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture(params=[b for b in ("sqlite", "postgres") if b in BACKENDS])
def empty_database(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """The embedded default (no DATABASE_URL: SQLite in the data dir), or an empty
    PostgreSQL database: either way the process migrates it from nothing."""
    if request.param == "sqlite":
        yield {}
        return
    name = f"maestro_{RUN_ID}_bare_{secrets.token_hex(4)}"
    _pg(f'CREATE DATABASE "{name}"')
    yield {"DATABASE_URL": _sqlalchemy_pg_url(name)}
    _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_backend_only_with_no_configuration(tmp_path, empty_database, upstream_factory):
    env = {**bare_environment(tmp_path), **empty_database, "OLLAMA_BASE_URL": ""}
    port = free_port()
    first = ProcessGateway(env=env, port=port, log_path=tmp_path / "first.log")
    try:
        first.start()
        log = first.log_path.read_text()
        assert log.count(BANNER) == 1, log[-3000:]
        token = re.search(r"admin API token: (\S+)", log)
        assert token, log[-3000:]
        admin_token = token.group(1)
        stored_file = tmp_path / "data" / "secrets.json"
        stored = json.loads(stored_file.read_text())
        assert stored["admin_token"] == admin_token
        assert stat.S_IMODE(stored_file.stat().st_mode) == 0o600

        fake: FakeUpstream = upstream_factory(["real-m"])
        with httpx.Client(base_url=first.url, timeout=30) as c:
            assert c.get("/health").json() == {"status": "ok"}
            assert c.get("/admin/users").status_code == 401
            assert c.get("/admin/users", headers={"Authorization": "Bearer wrong"}).status_code == 403
            c.headers["Authorization"] = f"Bearer {admin_token}"
            node = c.post("/admin/nodes", json={"name": "n", "base_url": fake.url, "node_type": "vllm"})
            assert node.status_code == 201, node.text
            assert c.post(f"/admin/nodes/{node.json()['id']}/discover").status_code == 200
            mapping = c.post("/admin/model-mappings", json={"display_name": "m", "real_name": "real-m"})
            assert mapping.status_code == 201, mapping.text
            user = c.post("/admin/users", json={"username": "u", "all_models": True})
            assert user.status_code == 201, user.text
            user_token = user.json()["token"]
            c.headers["Authorization"] = f"Bearer {user_token}"
            chat = c.post(
                "/v1/chat/completions", json={"model": "m", "messages": [{"role": "user", "content": "hi"}]}
            )
            assert chat.status_code == 200 and chat.json()["model"] == "m", chat.text
            load = c.post("/api/chat", json={"model": "m", "stream": False, "messages": []})
            assert load.status_code == 200, load.text
            assert c.get("/v1/nope").status_code == 404 and "error" in c.get("/v1/nope").json()
        assert fake.requests[-1].json["model"] == "real-m"
        # Gateway and admin API only: no frontend was installed or built.
        web = tmp_path / ".web"
        assert not (web / "node_modules").exists() and not (web / "build").exists()
    finally:
        first.kill(signal.SIGTERM)

    # A restart on the same data dir keeps the secrets and prints nothing again.
    second = ProcessGateway(env=env, port=port, log_path=tmp_path / "second.log")
    try:
        second.start()
        assert BANNER not in second.log_path.read_text()
        with httpx.Client(base_url=second.url, timeout=30) as c:
            assert (
                c.get("/admin/users", headers={"Authorization": f"Bearer {admin_token}"}).status_code == 200
            )
            chat = c.post(
                "/v1/chat/completions",
                json={"model": "m", "messages": [{"role": "user", "content": "again"}]},
                headers={"Authorization": f"Bearer {user_token}"},
            )
            assert chat.status_code == 200, chat.text
    finally:
        second.kill(signal.SIGTERM)


def test_prod_env_with_weak_secrets_refuses_to_start(tmp_path):
    env = {
        **bare_environment(tmp_path),
        "MAESTRO_ENV": "prod",
        "OLLAMA_BASE_URL": "",
        "JWT_SECRET_KEY": secrets.token_urlsafe(48),
        "SECRETS_ENCRYPTION_KEY": secrets.token_urlsafe(32),
        "ADMIN_TOKEN": "changeme",
        "ADMIN_PASSWORD": "admin",
    }
    port = free_port()
    done = subprocess.run(
        backend_only_command(port),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0, output[-3000:]
    assert "MAESTRO_ENV=prod refuses to start" in output, output[-3000:]
    assert "ADMIN_TOKEN is weak or a known default" in output and "ADMIN_PASSWORD" in output
    assert "JWT_SECRET_KEY" not in output.split("refuses to start", 1)[1].split("Generate", 1)[0]
    assert not (tmp_path / "data" / "secrets.json").exists()
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
