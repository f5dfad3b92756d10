"""A scaled deployment on loopback: replicas (`reflex run --env prod --backend-only`, several
Granian workers each) on one PostgreSQL database and one Redis key prefix, with nginx in
front running the shipped `deploy/nginx.conf` (rendered with loopback addresses).

Everything here is a child process of the test run, on 127.0.0.1, and is stopped by the
fixture that made it.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from tests.conftest import PG_ADMIN_URL, ProcessGateway, free_port

ROOT = Path(__file__).resolve().parents[2]
NGINX_SITE = ROOT / "deploy" / "nginx.conf"


class Replica(ProcessGateway):
    """One replica: the reflex CLI process is Granian's main process; its workers are forks."""

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM to the main process only, as `docker stop` does; its exit code."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGTERM)
        code = self.proc.wait(timeout)
        self.proc = None
        return code

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def render_site(site: str, *, listen_port: int, replica_ports: list[int]) -> str:
    """deploy/nginx.conf with loopback addresses instead of the compose service names."""
    servers = re.findall(r"server replica-\d+:3000", site)
    assert len(servers) == len(replica_ports), servers
    for name, port in zip(servers, replica_ports, strict=True):
        site = site.replace(name, f"server 127.0.0.1:{port}", 1)
    assert site.count("listen 80;") == 1
    return site.replace("listen 80;", f"listen 127.0.0.1:{listen_port};")


@dataclass
class Nginx:
    """nginx as a non-daemon child process with a configuration of its own."""

    workdir: Path
    replica_ports: list[int]
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self) -> str:
        temp = {name: self.workdir / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
        site = render_site(NGINX_SITE.read_text(), listen_port=self.port, replica_ports=self.replica_ports)
        # Workers of a root master run as `nobody`, who cannot enter pytest's 0700 tmp dirs.
        user = "user root;\n" if os.geteuid() == 0 else ""
        return (
            f"{user}worker_processes 1;\npid {self.workdir / 'nginx.pid'};\n"
            "events { worker_connections 1024; }\n"
            "http {\n"
            f"  access_log {self.workdir / 'access.log'};\n"
            f"  client_body_temp_path {temp['body']};\n  proxy_temp_path {temp['proxy']};\n"
            f"  fastcgi_temp_path {temp['fastcgi']};\n  uwsgi_temp_path {temp['uwsgi']};\n"
            f"  scgi_temp_path {temp['scgi']};\n"
            f"{site}\n}}\n"
        )

    def start(self, timeout: float = 15) -> Nginx:
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "nginx.conf"
        conf.write_text(self.config())
        error_log = self.workdir / "error.log"
        cmd = [binary, "-p", str(self.workdir), "-e", str(error_log), "-c", str(conf), "-g", "daemon off;"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(error_log, "ab"))  # noqa: SIM115
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited: {error_log.read_text()[-2000:]}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.05)
        raise RuntimeError("nginx did not start listening")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful: finish what is in flight
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None


@dataclass
class Cluster:
    replicas: list[Replica]
    nginx: Nginx
    admin_token: str
    redis_prefix: str
    database_url: str

    @property
    def url(self) -> str:
        return self.nginx.url

    def admin(self, base_url: str | None = None) -> httpx.Client:
        return httpx.Client(
            base_url=base_url or self.url, headers={"Authorization": f"Bearer {self.admin_token}"}, timeout=30
        )

    def restart(self, index: int) -> Replica:
        replica = self.replicas[index]
        replica.start()
        return replica


def fresh_get(url: str, token: str, path: str = "/v1/models") -> int:
    """A request on a new connection, so that successive calls reach different workers."""
    with httpx.Client(timeout=10, headers={"Authorization": f"Bearer {token}", "Connection": "close"}) as c:
        return c.get(url + path).status_code


def all_workers_answer(
    url: str, token: str, status: int, *, path: str = "/v1/models", tries: int = 8
) -> bool:
    """`tries` fresh connections all answer `status` (with two workers sharing the socket,
    eight connections miss one of them with probability 2 x 2^-8)."""
    return all(fresh_get(url, token, path) == status for _ in range(tries))


def unique(stem: str) -> str:
    return f"{stem}-{secrets.token_hex(3)}"


def add_user(cluster: Cluster, base_url: str | None = None, **fields: Any) -> tuple[str, str]:
    """A user made through the admin API (of `base_url`, default nginx): (username, token)."""
    username = unique("u")
    with cluster.admin(base_url) as admin:
        made = admin.post("/admin/users", json={"username": username, "all_models": True, **fields})
        assert made.status_code == 201, made.text
        return username, made.json()["token"]


def wait_until(predicate: Callable[[], object], timeout: float) -> float | None:
    """Seconds until `predicate()` held, or None if it never did within `timeout`."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.02)
    return None


def records(cluster: Cluster, username: str) -> list[tuple[str, int]]:
    """(request id, status) of the user's activity records, straight from PostgreSQL."""
    dbname = cluster.database_url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + dbname) as conn:
        rows = conn.execute(
            "SELECT request_id, status_code FROM activity_records WHERE username = %s", (username,)
        ).fetchall()
    return [(str(r[0]), int(r[1])) for r in rows]
