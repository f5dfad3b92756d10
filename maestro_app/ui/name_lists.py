"""Lists of names typed into a text area (tool names, request parameters). Pure functions.

Admins paste lists from docs or configs, one name per line or separated by commas; both are
read. Repeats are left for the service to fold (it knows whether case matters).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_SEPARATORS = re.compile(r"[,\n\r]+")


def parse_names(text: Any) -> list[str]:
    """ "Read, Grep\\n  Bash" → ["Read", "Grep", "Bash"]; blanks dropped, order kept."""
    raw = str(text if text is not None else "")
    return [name.strip() for name in _SEPARATORS.split(raw) if name.strip()]


def names_text(names: Iterable[str] | None) -> str:
    """The text area's content for `names`: one per line."""
    return "\n".join(names or ())
