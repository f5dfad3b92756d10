"""Where the workers of one start keep their metrics: prometheus_client's multiprocess mode.

Several Granian workers serve one port and a scrape reaches any one of them, so each worker
writes its counters and histograms to memory-mapped files (`<type>_<pid>.db`) in one
directory, and the scraping worker sums them all. The directory is new at every start
(`<data dir>/metrics/<pid of the starting process>-<random>`): files of an earlier start
must not be added to this one's, and a fresh directory needs no wiping while other
processes might be writing. The first process that imports the composition root (the
`reflex run` process, before it forks or spawns workers) makes it and exports
`PROMETHEUS_MULTIPROC_DIR`; the workers inherit the variable and use the same directory.
An operator who sets `PROMETHEUS_MULTIPROC_DIR` owns that directory (and must empty it at
each start, as prometheus_client documents).

Directories of earlier starts are removed when the process that made them is gone.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import shutil
from pathlib import Path

from prometheus_client import values
from prometheus_client.multiprocess import mark_process_dead

logger = logging.getLogger(__name__)

ENV = "PROMETHEUS_MULTIPROC_DIR"
_RUN_DIR = re.compile(r"^(\d+)-[0-9a-f]+$")
_LIVE_GAUGE_FILE = re.compile(r"^gauge_live\w*?_(\d+)\.db$")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def prepare_multiprocess(data_dir: Path) -> Path:
    """The metrics directory of this start (made here, or inherited from the parent), with
    prometheus_client switched to multiprocess values in this process."""
    inherited = os.environ.get(ENV)
    if inherited:
        directory = Path(inherited)
        directory.mkdir(parents=True, exist_ok=True)
    else:
        root = data_dir / "metrics"
        root.mkdir(parents=True, exist_ok=True)
        _remove_dead_runs(root)
        directory = root / f"{os.getpid()}-{secrets.token_hex(4)}"
        directory.mkdir()
        os.environ[ENV] = str(directory.resolve())
    # prometheus_client picks its value class from the environment when first imported;
    # set it explicitly so the order of imports does not matter.
    if not getattr(values.ValueClass, "_cached_pid", False):
        values.ValueClass = values.MultiProcessValue(process_identifier=_process_id)
        values.ValueClass._cached_pid = True  # type: ignore[attr-defined]
    return directory


# The process id, kept up to date across forks: each metric update checks it against the
# file it writes to, and `os.getpid()` is a system call (0.97 -> 0.66 us per update, seven
# or so per request).
_pid = os.getpid()


def _process_id() -> int:
    return _pid


def _forked() -> None:
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_forked)


def _remove_dead_runs(root: Path) -> None:
    for entry in root.iterdir():
        match = _RUN_DIR.match(entry.name)
        if match and entry.is_dir() and not pid_alive(int(match.group(1))):
            shutil.rmtree(entry, ignore_errors=True)


def forget_dead_workers(directory: Path) -> int:
    """Drop the live-gauge files of workers that died (a crash, a respawn), so that their
    last in-flight counts stop adding up. Counters and histograms are kept: totals must not
    go backwards."""
    dead = set()
    for entry in directory.iterdir():
        match = _LIVE_GAUGE_FILE.match(entry.name)
        if match and not pid_alive(int(match.group(1))):
            dead.add(int(match.group(1)))
    for pid in dead:
        mark_process_dead(pid, str(directory))
    if dead:
        logger.info("metrics: forgot the in-flight gauges of %d dead worker(s)", len(dead))
    return len(dead)
