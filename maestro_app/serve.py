"""Serve a prebuilt dashboard, the gateway and the admin API on one port: the image's CMD.

    python -m maestro_app.serve [--host 0.0.0.0] [--port 3000]

`reflex run --env prod` recompiles the pages and runs `vite build` at every start (Reflex
0.10.1: `_run_prod` -> `build.setup_frontend_prod`), which a container must not do: it
needs Node, the npm registry and minutes of CPU at each restart. `--backend-only` starts
no build but never mounts the built frontend. This launcher does what `reflex run --env
prod` does after its build: the same Granian server (`reflex.utils.exec.run_backend_prod`,
workers from `GRANIAN_WORKERS`), with the frontend that `reflex export --frontend-only
--no-zip` left in `.web/build/client` mounted on the same port.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

logger = logging.getLogger("maestro_app.serve")

ROOT = Path(__file__).resolve().parents[1]


def static_dir() -> Path:
    """Where `reflex export` puts the built frontend (`REFLEX_WEB_WORKDIR` moves `.web`)."""
    from reflex.utils import prerequisites
    from reflex_base import constants

    return prerequisites.get_web_dir() / constants.Dirs.STATIC


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m maestro_app.serve", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default=os.environ.get("MAESTRO_HOST", "0.0.0.0"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("MAESTRO_PORT", "3000")))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.chdir(ROOT)  # Reflex finds rxconfig.py and .web relative to the working directory
    sys.path.insert(0, str(ROOT))

    from reflex.istate.manager import reset_disk_state_manager
    from reflex.utils import exec as rx_exec
    from reflex_base import constants
    from reflex_base.config import get_config
    from reflex_base.environment import environment

    import rxconfig  # noqa: F401  (PATH and the Redis URL, as `reflex run` loads them)

    index = static_dir() / "index.html"
    if not index.is_file():
        logger.error("no built frontend at %s: run `reflex export --frontend-only --no-zip` first", index)
        return 1
    environment.REFLEX_ENV_MODE.set(constants.Env.PROD)
    # Nothing to compile or link: the pages were built into static files at build time.
    environment.REFLEX_SKIP_COMPILE.set(True)
    environment.REFLEX_BACKEND_ONLY.set(True)
    config = get_config()
    config._set_persistent(frontend_port=args.port, backend_port=args.port)
    reset_disk_state_manager()  # as `reflex run`: embedded-mode UI state starts empty
    rx_exec.notify_app_running()
    rx_exec.run_backend_prod(
        args.host, args.port, config.loglevel.subprocess_level(), mount_frontend_compiled_app=True
    )
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sys.exit(main())
