"""Test doubles for Model Maestro's collaborators (LLM upstreams).

The names are imported lazily so that ``python -m tests.fakes.upstream`` does not
import the module twice (runpy warns when the package already imported it).
"""

from typing import Any

__all__ = ["FakeModel", "FakeUpstream", "RecordedRequest"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import upstream

        return getattr(upstream, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
