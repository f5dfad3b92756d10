"""Validated field types of node bodies, and how node secrets are shown (masked).

Secrets (the API key, every header value) are shown as their first 3 and last 4 characters
around `…`; secrets shorter than 12 characters as `…` alone.
"""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, StringConstraints

from maestro_app.services.common import TRIM

CODE_PATTERN = r"^[a-z0-9_-]{1,64}$"
MASK = "…"
# A secret shorter than this is masked completely: showing 7 of its characters would give
# most of it away.
MIN_PARTLY_SHOWN = 12
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$")
_RESERVED_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "content-type",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "upgrade",
        "te",
        "trailer",
        "proxy-connection",
    }
)
PRIORITY_BOUND = 1_000_000


def mask_secret(value: str | None) -> str | None:
    """`sk-abcdefgh1234` -> `sk-…1234`; short secrets -> `…`."""
    if value is None:
        return None
    if len(value) < MIN_PARTLY_SHOWN:
        return MASK
    return f"{value[:3]}{MASK}{value[-4:]}"


def check_http_url(value: str) -> str:
    """An absolute http(s) URL with a host, without the trailing slash."""
    value = value.strip()
    if not value or len(value) > 512 or any(c.isspace() or ord(c) < 32 for c in value):
        raise ValueError("must be an http:// or https:// URL of at most 512 characters")
    try:
        parts = urlsplit(value)
        port_ok = parts.port is None or parts.port > 0
    except ValueError as exc:
        raise ValueError(f"is not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise ValueError("must be an http:// or https:// URL with a host, like http://10.0.0.5:11434")
    if parts.query or parts.fragment:
        raise ValueError("must not carry a query string or fragment")
    return value.rstrip("/")


def _check_probe_url(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.startswith("/"):
        if len(value) > 512 or any(c.isspace() or ord(c) < 32 for c in value):
            raise ValueError("must be a path like /health or an http(s) URL")
        return value
    return check_http_url(value)


def _check_secret(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("must not contain control characters")
    return value


def _check_headers(value: dict[str, str] | None) -> dict[str, str] | None:
    if value is None:
        return None
    seen: set[str] = set()
    for name, header_value in value.items():
        if not _HEADER_NAME.match(name):
            raise ValueError(f"{name!r} is not a valid header name")
        if name.lower() in _RESERVED_HEADERS:
            raise ValueError(f"header {name!r} is set by the gateway itself")
        if name.lower() in seen:
            raise ValueError(f"header {name!r} is given twice")
        seen.add(name.lower())
        if len(header_value) > 4096 or _check_secret(header_value) != header_value:
            raise ValueError(f"header {name!r} needs a value without control characters")
    return value


HttpUrl = Annotated[str, AfterValidator(check_http_url)]
ProbeUrl = Annotated[str | None, AfterValidator(_check_probe_url)]
Secret = Annotated[str | None, Field(max_length=4096), AfterValidator(_check_secret)]
Headers = Annotated[dict[str, str], Field(max_length=64), AfterValidator(_check_headers)]
NodeName = Annotated[str, StringConstraints(min_length=1, max_length=128), TRIM]
Code = Annotated[str | None, StringConstraints(pattern=CODE_PATTERN)]
Priority = Annotated[int, Field(ge=-PRIORITY_BOUND, le=PRIORITY_BOUND)]
Weight = Annotated[int, Field(ge=0, le=PRIORITY_BOUND)]
