"""The runtime of this process, as seen by the dashboard.

The dashboard runs in the same process as the gateway. The composition root registers the
one `Runtime` here; UI code reaches it only through `maestro_app.ui.data`.
"""

from __future__ import annotations

from maestro_app.runtime import Runtime

_runtime: Runtime | None = None


def set_runtime(runtime: Runtime) -> None:
    global _runtime
    _runtime = runtime


def get_runtime() -> Runtime:
    if _runtime is None:
        raise RuntimeError("No runtime registered: maestro_app.maestro_app sets it at import")
    return _runtime
