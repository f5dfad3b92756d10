"""`python -m maestro_app.serve` (the image's command) serves a frontend built beforehand and
refuses to start without one, instead of building it at start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_serve_refuses_to_start_without_a_built_frontend(tmp_path):
    env = {
        **os.environ,
        "REFLEX_WEB_WORKDIR": str(tmp_path / ".web"),
        "REFLEX_STATES_WORKDIR": str(tmp_path / ".states"),
        "MAESTRO_DATA_DIR": str(tmp_path / "data"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "maestro_app.serve", "--port", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "no built frontend" in done.stderr and "reflex export --frontend-only --no-zip" in done.stderr
    assert not (tmp_path / ".web").exists()  # nothing was built
