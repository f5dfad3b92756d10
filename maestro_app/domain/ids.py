"""Request ids: unique across processes and restarts, and cheap to make.

An id keys the idempotent activity ledger, so two requests must never share one. Each
process draws 48 random bits once (again in a forked child) and counts from there: 32 hex
characters like a UUID's, without a `uuid4()` and its integer arithmetic on every request.
"""

from __future__ import annotations

import itertools
import os


def _reset() -> None:
    global _prefix, _counter
    _prefix = os.urandom(6).hex()
    _counter = itertools.count()


_prefix = ""
_counter = itertools.count()
_reset()
os.register_at_fork(after_in_child=_reset)


def new_request_id() -> str:
    return f"{_prefix}{next(_counter):020x}"
