"""docker-compose.yml and deploy/nginx.conf agree with each other and with the app (no
Docker engine here to run them; tests/scaled runs the same nginx.conf in front of replicas)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from maestro_app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
services = compose["services"]
replicas = {name: svc for name, svc in services.items() if name.startswith("replica-")}


def _seconds(value: str) -> float:
    return float(value.rstrip("s"))


def test_two_replicas_of_one_image_on_postgres_and_redis():
    assert set(services) == {"postgres", "redis", "nginx", *replicas} and len(replicas) == 2
    for svc in replicas.values():
        env = svc["environment"]
        assert (
            env["DATABASE_URL"].startswith("postgresql+psycopg://")
            and "@postgres:5432/" in env["DATABASE_URL"]
        )
        assert env["REDIS_URL"].startswith("redis://redis:6379")
        assert svc["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert svc["depends_on"]["redis"]["condition"] == "service_healthy"
        assert [v.split(":")[1] for v in svc["volumes"]] == ["/data"]  # each its own data volume
    assert len({svc["volumes"][0] for svc in replicas.values()}) == len(replicas)


def test_every_variable_given_to_a_replica_is_one_the_app_reads():
    known = {name.upper() for name in Settings.model_fields} | {"GRANIAN_WORKERS"}
    for svc in replicas.values():
        assert set(svc["environment"]) <= known, set(svc["environment"]) - known


def test_stopping_waits_longer_than_the_grace_period():
    default_grace = Settings.model_fields["shutdown_grace_s"].default
    for svc in replicas.values():
        grace = re.search(r":-(\d+)", svc["environment"]["SHUTDOWN_GRACE_S"])
        assert grace and float(grace.group(1)) == default_grace
        assert _seconds(svc["stop_grace_period"]) > default_grace + 10


def test_nginx_fronts_exactly_the_replicas():
    nginx = services["nginx"]
    assert "./deploy/nginx.conf:/etc/nginx/conf.d/default.conf:ro" in nginx["volumes"]
    assert set(nginx["depends_on"]) == set(replicas)
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    servers = re.findall(r"^\s*server ([\w.-]+):(\d+)", site, re.M)
    assert {host for host, _ in servers} == set(replicas)
    assert {port for _, port in servers} == {"3000"}  # the image's port
