"""What both fuzz tests share: the seed of a run, the backend they run on, how long they run."""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, seed, settings

from tests.conftest import BACKENDS

# Random per run, printed with any failure; set it to replay that run.
FUZZ_SEED = int(os.environ.get("MAESTRO_FUZZ_SEED") or random.randrange(2**32))
# One backend is enough (the code under test is the same); PostgreSQL when there is one, as
# it refuses more than SQLite (NUL characters, text longer than its column, 32-bit overflow).
FUZZ_BACKEND = "postgres" if "postgres" in BACKENDS else BACKENDS[0]


def bounded(examples: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Hypothesis settings of a fuzz run: `examples` cases, this run's seed, no deadline (a
    busy CI machine is slow), no example database (the seed replays a run)."""

    def apply(test: Callable[..., Any]) -> Callable[..., Any]:
        limited = settings(
            max_examples=examples,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )(test)
        return seed(FUZZ_SEED)(limited)

    return apply
