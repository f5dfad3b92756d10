"""End-to-end fixtures: the whole app under `reflex run --env prod`, and Chromium.

`maestro_server` starts one production server for the session on a free port (dashboard,
websocket, gateway and admin API all on that port) with a fresh data dir and known admin
credentials. `MAESTRO_E2E_DATABASE_URL` / `MAESTRO_E2E_REDIS_URL`, when set, point it at
PostgreSQL / Redis; otherwise it runs embedded (SQLite in the data dir).

Nothing here imports Reflex: the server is a separate process, so this works with or
without `import rxconfig` in tests/conftest.py.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("MAESTRO_E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A cold start installs the frontend's npm packages; later starts take a few seconds.
START_TIMEOUT_S = float(os.environ.get("MAESTRO_E2E_START_TIMEOUT", "300"))
STOP_TIMEOUT_S = 20.0
PAGE_TIMEOUT_MS = 15_000
# Assertions wait as long as actions: both wait for the page to reach a state, and a busy CI
# machine (or a parallel test run) can take seconds to re-render after an event.
expect.set_options(timeout=PAGE_TIMEOUT_MS)


@dataclass(frozen=True)
class MaestroServer:
    base_url: str
    admin_token: str
    admin_username: str
    admin_password: str
    data_dir: Path
    log_path: Path

    def admin_client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url, timeout=30, headers={"Authorization": f"Bearer {self.admin_token}"}
        )

    def log_tail(self, lines: int = 60) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_env(data_dir: Path, *, admin_password: str, admin_token: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "REFLEX_API_URL")}
    env.update(
        MAESTRO_DATA_DIR=str(data_dir),
        ADMIN_USERNAME="admin",
        ADMIN_PASSWORD=admin_password,
        ADMIN_TOKEN=admin_token,
        JWT_SECRET_KEY=secrets.token_urlsafe(48),
        OLLAMA_BASE_URL="",
        PYTHONUNBUFFERED="1",
    )
    if url := os.environ.get("MAESTRO_E2E_DATABASE_URL"):
        env["DATABASE_URL"] = url
    if url := os.environ.get("MAESTRO_E2E_REDIS_URL"):
        env["REDIS_URL"] = url
    return env


def _wait_until_serving(proc: subprocess.Popen[bytes], server: MaestroServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    with httpx.Client(base_url=server.base_url, timeout=2) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"reflex run exited with {proc.returncode}:\n{server.log_tail()}")
            try:
                if client.get("/ping").status_code == 200 and client.get("/health").json() == {
                    "status": "ok"
                }:
                    return
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.25)
    raise TimeoutError(f"no answer on {server.base_url} after {START_TIMEOUT_S:.0f} s:\n{server.log_tail()}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the whole process group (reflex, granian and its workers), then SIGKILL."""
    if proc.poll() is not None:
        return
    pgid = os.getpgid(proc.pid)
    os.killpg(pgid, signal.SIGTERM)
    try:
        proc.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(pgid, signal.SIGKILL)
        proc.wait(STOP_TIMEOUT_S)


@pytest.fixture(scope="session")
def maestro_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MaestroServer]:
    data_dir = tmp_path_factory.mktemp("maestro-e2e")
    port = _free_port()
    server = MaestroServer(
        base_url=f"http://127.0.0.1:{port}",
        admin_token="e2e-admin-" + secrets.token_urlsafe(24),
        admin_username="admin",
        admin_password="e2e-pass-" + secrets.token_urlsafe(12),
        data_dir=data_dir,
        log_path=data_dir / "reflex-run.log",
    )
    env = _server_env(data_dir, admin_password=server.admin_password, admin_token=server.admin_token)
    with server.log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "reflex",
                "run",
                "--env",
                "prod",
                "--frontend-port",
                str(port),
                "--backend-host",
                "127.0.0.1",
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        _wait_until_serving(proc, server)
        yield server
    finally:
        _stop(proc)


# Module scope, not session: while Playwright's sync API is active it keeps an asyncio loop
# running on the main thread, which breaks `asyncio.run` and pytest-asyncio in any test that
# runs after this module.
@pytest.fixture(scope="module")
def chromium(maestro_server: MaestroServer) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: apt-get install -y chromium (or set MAESTRO_E2E_CHROMIUM)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        _warm_up(browser, maestro_server)
        yield browser
        browser.close()


def _warm_up(browser: Browser, server: MaestroServer) -> None:
    """The first page a fresh server renders pays for loading and compiling the app's
    JavaScript and opening the state websocket (tens of seconds on a busy 2-core machine).
    Pay it once here, with a start-up allowance, so each test keeps the normal timeout."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(server.base_url + "/login", timeout=START_TIMEOUT_S * 1000)
        page.locator("#username").wait_for(timeout=START_TIMEOUT_S * 1000)
    finally:
        context.close()


@pytest.fixture
def browser_page(chromium: Browser) -> Iterator[Page]:
    """A fresh browser context per test: no session carried over between tests."""
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    try:
        yield page
    finally:
        context.close()
