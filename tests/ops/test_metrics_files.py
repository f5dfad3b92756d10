"""`metrics_files.prepare_multiprocess`: the metric values keep the process id without a
system call per update, and a forked worker still writes files of its own."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from prometheus_client import CollectorRegistry, Counter
    from prometheus_client.multiprocess import MultiProcessCollector
    from maestro_app.observability.metrics_files import prepare_multiprocess

    directory = prepare_multiprocess(Path(sys.argv[1]))
    served = Counter("served_total", "requests", registry=None)
    served.inc()  # in the parent, before the fork: its file is open
    child = os.fork()
    if child == 0:
        served.inc(10)
        os._exit(0)
    os.waitpid(child, 0)
    served.inc(100)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(directory))
    total = registry.get_sample_value("served_total")
    files = sorted(p.name for p in directory.iterdir())
    print(total, os.getpid(), child, " ".join(files))
    """
)


def test_a_forked_worker_writes_its_own_file_and_every_update_counts(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    total, parent, child, *files = done.stdout.split()
    assert float(total) == 111.0
    assert files == sorted([f"counter_{parent}.db", f"counter_{child}.db"])
