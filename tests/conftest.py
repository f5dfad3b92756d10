"""Shared fixtures: a database per test (SQLite file or a PostgreSQL clone), the gateway
served by uvicorn on a loopback port, and fake upstream nodes.

Backends: every test using `database_url` runs on SQLite and on PostgreSQL. PostgreSQL
tests clone a template database migrated once per run (fast), named with this run's
random prefix so parallel runs never collide. `MAESTRO_TEST_BACKENDS=sqlite` limits the run.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pytest
import uvicorn

import rxconfig  # noqa: F401  (Reflex test harness expects the config importable)
from maestro_app.db.engine import make_engine, run_migrations, session_scope
from maestro_app.gateway.app import build_routes, create_gateway_app
from maestro_app.gateway.fastpath import fast_path
from maestro_app.runtime import Runtime
from maestro_app.services.bootstrap import seed_first_start
from maestro_app.settings import Settings, load_settings
from tests.fakes.upstream import FakeModel, FakeUpstream

PG_ADMIN_URL = os.environ.get("MAESTRO_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
RUN_ID = secrets.token_hex(4)
# One dashboard-admin password for every test database: the templates are seeded with its
# argon2 hash once, so a test start does not spend 0.3 s hashing it again.
TEST_ADMIN_PASSWORD = "test-password-" + RUN_ID
BACKENDS = [b for b in os.environ.get("MAESTRO_TEST_BACKENDS", "sqlite,postgres").split(",") if b]


def _pg(sql: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


def _sqlalchemy_pg_url(dbname: str) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{dbname}"


@pytest.fixture(scope="session")
def pg_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    name = f"maestro_tpl_{RUN_ID}"
    _pg(f'CREATE DATABASE "{name}"')
    _prepare_template(_sqlalchemy_pg_url(name), tmp_path_factory.mktemp("pg-template"))
    yield name
    _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sqlite-template")
    _prepare_template(f"sqlite:///{folder / 'template.db'}", folder)
    return folder / "template.db"


def _prepare_template(url: str, folder: Path) -> None:
    engine = make_engine(url)
    run_migrations(engine, data_dir=folder)
    settings = Settings(maestro_data_dir=folder, ollama_base_url="", admin_password=TEST_ADMIN_PASSWORD)
    with session_scope(engine) as session:
        seed_first_start(session, settings=settings)
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        target = tmp_path / "maestro.db"
        shutil.copyfile(template, target)
        yield f"sqlite:///{target}"
        return
    template = request.getfixturevalue("pg_template")
    name = f"maestro_{RUN_ID}_{secrets.token_hex(4)}"
    _pg(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    yield _sqlalchemy_pg_url(name)
    _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


REDIS_URL = os.environ.get("MAESTRO_TEST_REDIS", "redis://127.0.0.1:6379/0")


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    import redis as redis_sync

    prefix = f"maestro-test-{RUN_ID}-{secrets.token_hex(4)}"
    yield prefix
    client = redis_sync.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def scaled_gateway_factory(redis_prefix, gateway_factory):  # type: ignore[no-untyped-def]
    # redis_prefix first: its teardown (deleting the keys) must run after the gateways stop.
    """Gateways in scaled mode: Redis at REDIS_URL under this test's key prefix."""

    def make(**overrides: object) -> LiveGateway:
        return gateway_factory(redis_url=REDIS_URL, redis_key_prefix=redis_prefix, **overrides)  # type: ignore[no-any-return]

    return make


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveGateway:
    """The gateway FastAPI app served by uvicorn in a thread, on a real loopback socket."""

    runtime: Runtime
    url: str = ""
    loop: asyncio.AbstractEventLoop | None = None
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None
    _clients: list[httpx.Client] = field(default_factory=list)

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    def start(self) -> LiveGateway:
        # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose
        # listening socket says TCP explicitly; with proto 0 every response waits ~40 ms for
        # a delayed ACK (Nagle), which made each test request take 45 ms.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        api = create_gateway_app(self.runtime)
        app = fast_path(api)(api)  # the stack the Reflex app serves (maestro_app.py)
        config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=3)
        self._server = uvicorn.Server(config)
        ready = threading.Event()
        errors: list[BaseException] = []

        async def serve() -> None:
            self.loop = asyncio.get_running_loop()
            try:
                await self.runtime.start()
                await build_routes(api)  # as maestro_app.serving does before the first client
            except BaseException as exc:  # surface start-up failures in the test thread
                errors.append(exc)
                ready.set()
                return
            ready.set()
            try:
                assert self._server is not None
                await self._server.serve(sockets=[sock])
            finally:
                await self.runtime.stop()

        self._thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
        self._thread.start()
        ready.wait(60)
        if errors:
            raise errors[0]
        for _ in range(200):
            if self._server.started:
                break
            threading.Event().wait(0.02)
        return self

    def stop(self) -> None:
        for c in self._clients:
            c.close()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(15)

    def client(self, token: str | None = None, **kwargs: object) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        c = httpx.Client(base_url=self.url, headers=headers, timeout=30, **kwargs)  # type: ignore[arg-type]
        self._clients.append(c)
        return c

    @property
    def admin(self) -> httpx.Client:
        return self.client(self.settings.admin_token)

    def run(self, coro):  # type: ignore[no-untyped-def]
        """Run a coroutine on the gateway's event loop (e.g. flush the activity queue)."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def flush_activity(self) -> None:
        self.run(self.runtime.ledger.flush())


def make_settings(tmp_path: Path, database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "maestro_data_dir": tmp_path / "data",
        "database_url": database_url,
        "ollama_base_url": "",
        "admin_token": "test-admin-token-" + secrets.token_hex(8),
        "admin_password": TEST_ADMIN_PASSWORD,
        "jwt_secret_key": secrets.token_urlsafe(32),
        "upstream_read_timeout_s": 5.0,
        "upstream_connect_timeout_s": 2.0,
    }
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture
def gateway_factory(tmp_path: Path, database_url: str) -> Iterator[object]:
    started: list[LiveGateway] = []
    # Gateways of one test share their secrets, as replicas of one deployment do.
    shared = {
        "admin_token": "test-admin-token-" + secrets.token_hex(8),
        "jwt_secret_key": secrets.token_urlsafe(32),
    }

    def make(**overrides: object) -> LiveGateway:
        settings = make_settings(tmp_path, database_url, **{**shared, **overrides})
        live = LiveGateway(Runtime(settings)).start()
        started.append(live)
        return live

    yield make
    for live in started:
        live.stop()
        live.runtime.engine.dispose()


@pytest.fixture
def gateway(gateway_factory) -> LiveGateway:  # type: ignore[no-untyped-def]
    return gateway_factory()  # type: ignore[no-any-return]


@pytest.fixture
def upstream_factory() -> Iterator[object]:
    started: list[FakeUpstream] = []

    def make(models: list[FakeModel] | list[str] | None = None, **kwargs: object) -> FakeUpstream:
        fake = FakeUpstream(models, **kwargs).start()  # type: ignore[arg-type]
        started.append(fake)
        return fake

    yield make
    for fake in started:
        fake.stop()


def backend_only_command(port: int) -> list[str]:
    """`reflex run --env prod --backend-only` on a loopback port (README's API-only mode)."""
    return [
        sys.executable, "-m", "reflex", "run", "--env", "prod",
        "--backend-only", "--backend-port", str(port), "--backend-host", "127.0.0.1",
    ]  # fmt: skip


@dataclass
class ProcessGateway:
    """The real thing in its own process: `reflex run --env prod --backend-only`."""

    env: dict[str, str]
    port: int
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def admin_token(self) -> str:
        return self.env["ADMIN_TOKEN"]

    def start(self, timeout: float = 90) -> ProcessGateway:
        root = Path(__file__).resolve().parents[1]
        log = open(self.log_path, "ab")  # noqa: SIM115 (the child owns it)
        self.proc = subprocess.Popen(
            backend_only_command(self.port),
            cwd=root,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gateway exited: {self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/health/ready", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gateway did not become ready: {self.log_path.read_text()[-3000:]}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group (reflex CLI, granian and its workers)."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(30)
        self.proc = None


@pytest.fixture
def process_gateway_factory(tmp_path: Path, database_url: str) -> Iterator[object]:
    """Start gateway processes on this test's database; every one shares secrets and data dir
    unless told otherwise. `make(**env)` adds environment variables."""
    started: list[ProcessGateway] = []
    base = {
        **os.environ,
        "MAESTRO_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": database_url,
        "OLLAMA_BASE_URL": "",
        "ADMIN_TOKEN": "test-admin-token-" + RUN_ID,
        "ADMIN_PASSWORD": TEST_ADMIN_PASSWORD,
        "JWT_SECRET_KEY": "test-jwt-secret-" + RUN_ID + "-" + "x" * 24,
        "LOG_LEVEL": "WARNING",
        # One Granian worker unless a test asks for more: with REDIS_URL set, Reflex would
        # start 2 x cores + 1.
        "GRANIAN_WORKERS": "1",
    }

    def make(port: int | None = None, **env: str) -> ProcessGateway:
        # A build directory of its own: a backend-only compile into the project's `.web`
        # leaves it half-initialised, and the next full `reflex run` (the browser tests)
        # then serves a frontend that never renders.
        workdir = tmp_path / f"reflex-{len(started)}"
        dirs = {
            "REFLEX_WEB_WORKDIR": str(workdir / ".web"),
            "REFLEX_STATES_WORKDIR": str(workdir / ".states"),
        }
        gw = ProcessGateway(
            env={**base, **dirs, **env},
            port=port or free_port(),
            log_path=tmp_path / f"gateway-{len(started)}.log",
        )
        started.append(gw)
        return gw.start()

    yield make
    for gw in started:
        gw.kill()


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook turns the group marks into node ids
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that run `reflex run` share the project's `.web` build directory: under
    pytest-xdist (`--dist loadgroup`) they all go to one worker, one after another."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        in_e2e = item.nodeid.startswith("tests/e2e/") or item.get_closest_marker("e2e") is not None
        if in_e2e or "process_gateway_factory" in fixtures or "maestro_server" in fixtures:
            item.add_marker(pytest.mark.xdist_group("reflex"))
