"""The Dockerfile builds, and its image serves the dashboard, the gateway and the admin API on
one port. No Docker engine runs here: tests/deploy/dockerfile.py runs the same steps in the
same order, each stage in a throwaway overlay root, then starts the image's CMD as its USER
and runs its HEALTHCHECK (what is and is not reproduced: that module's docstring and
docs/OPERATIONS.md). A few minutes: a fresh virtualenv, `npm install` and a vite build."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import free_port
from tests.deploy.dockerfile_syntax import parse

ROOT = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT_S = 1200

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None,
    reason="reproducing image builds needs root (mount namespace, overlay, chroot)",
)


def _report(workspace: Path) -> dict[str, Any]:
    path = workspace / "report.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _wait_healthy(proc: subprocess.Popen[bytes], workspace: Path, log: Path) -> dict[str, Any]:
    deadline = time.monotonic() + BUILD_TIMEOUT_S
    while time.monotonic() < deadline:
        report = _report(workspace)
        if "healthy_after_s" in report.get("app", {}):
            return report
        if proc.poll() is not None:
            raise AssertionError(
                f"the build or the app failed: {report.get('error')}\n{log.read_text()[-4000:]}"
            )
        time.sleep(1)
    raise AssertionError(f"not healthy after {BUILD_TIMEOUT_S} s:\n{log.read_text()[-4000:]}")


def test_the_image_builds_and_serves_everything_on_one_port(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    workspace = tmp_path / "workspace"
    log = tmp_path / "steps.log"
    command = [
        *("unshare", "--mount", "--propagation", "private"),
        *(
            sys.executable,
            "-m",
            "tests.deploy.dockerfile",
            "--context",
            str(ROOT),
            "--workspace",
            str(workspace),
        ),
        *("--build-arg", f"REFLEX_API_URL=http://localhost:{port}"),
        *("--env", f"MAESTRO_PORT={port}", "--env", "MAESTRO_HOST=127.0.0.1"),
    ]
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        report = _wait_healthy(proc, workspace, log)
        _check_the_build(report, port)
        _check_the_running_image(report, workspace, url)
        proc.send_signal(signal.SIGTERM)  # `docker stop`: the image's STOPSIGNAL to its CMD
        assert proc.wait(120) == 0
        assert _report(workspace)["app"]["exit_code"] == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)
        if (workspace / "app.log").exists():
            shutil.copy(workspace / "app.log", tmp_path / "app.log")
        shutil.rmtree(workspace, ignore_errors=True)  # ~600 MB of stage roots


def _check_the_build(report: dict[str, Any], port: int) -> None:
    # Every instruction ran, in the Dockerfile's order.
    expected = [str(i) for i in parse((ROOT / "Dockerfile").read_text())]
    assert [s["step"] for s in report["steps"]] == expected
    image = report["image"]
    assert image["user"] == "maestro" and image["workdir"] == "/app"
    assert image["volumes"] == ["/data"] and image["expose"] == ["3000"]
    assert image["cmd"] == ["python", "-m", "maestro_app.serve"]
    upper = Path(report["upper"])  # what the final stage added to its base image
    client = upper / "app/.web/build/client"
    assert (client / "index.html").is_file()
    # The dashboard was built for the URL given at build time.
    bundles = "".join(p.read_text(errors="replace") for p in client.rglob("*.js"))
    assert f"localhost:{port}" in bundles
    # No Node, no build-time data dir (nor its generated secrets) in the image.
    assert not (upper / "opt/venv/bin/node").exists()
    assert not (upper / "tmp/build-data").exists()


def _check_the_running_image(report: dict[str, Any], workspace: Path, url: str) -> None:
    assert report["app"]["uid"] == 10001  # not root
    ready = httpx.get(f"{url}/health/ready", timeout=10)
    assert ready.status_code == 200 and ready.json()["checks"]["database"] == "ok"
    for page in ("/", "/login/"):
        html = httpx.get(url + page, timeout=10)
        assert html.status_code == 200 and html.headers["content-type"].startswith("text/html"), page
        assert "<script" in html.text
    models = httpx.get(f"{url}/v1/models", timeout=10)
    assert models.status_code == 401 and models.json()["error"]["code"]
    assert httpx.get(f"{url}/admin/users", timeout=10).status_code == 401
    assert httpx.get(f"{url}/api/version", timeout=10).json()["version"]
    # The frontend was not rebuilt at start, and the app wrote only to its data volume.
    app_log = (workspace / "app.log").read_text(errors="replace")
    assert "Creating Production Build" not in app_log and "vite" not in app_log.lower()
    data = Path(report["upper"]) / "data"
    assert (data / "secrets.json").stat().st_uid == 10001
    assert (data / "maestro.db").exists()
