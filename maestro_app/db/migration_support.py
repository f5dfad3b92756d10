"""Helpers for migrations in `alembic/versions` (imported by them, never by the app)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

VERSIONS = Path(__file__).resolve().parents[2] / "alembic" / "versions"


def sibling_migration(file_name: str) -> ModuleType:
    """Another migration's module, for SQL it defines (a file name starting with a digit
    cannot be imported by name)."""
    path = VERSIONS / file_name
    spec = importlib.util.spec_from_file_location(f"_maestro_migration_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
