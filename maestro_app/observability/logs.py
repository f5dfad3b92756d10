"""Process logging: one handler on the root logger, text or JSON lines, with the request id.

`configure_logging(level=, fmt=)` is called by the composition root before anything logs.
Every record passes `RequestIdFilter`, which stamps `record.request_id` with the id of the
request being served (the one sent back in `X-Request-ID`; `-` outside a request), so every
line about a request carries it, whichever module wrote it.

    text  2026-12-02 10:00:00,123 WARNING maestro_app.gateway.pipeline [3f2a...]: node a failed ...
    json  {"time": "2026-12-02T10:00:00.123+00:00", "level": "WARNING", "logger": "...",
           "message": "...", "request_id": "3f2a..."}           (+ "exception" when there is one)
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Literal

import orjson

from maestro_app.observability.request_ids import current_ids

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
NO_REQUEST = "-"
# One line per finished gateway request when LOG_REQUESTS is on.
request_logger = logging.getLogger("maestro_app.requests")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            ids = current_ids()
            record.request_id = ids.shown if ids is not None else NO_REQUEST
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", NO_REQUEST)
        if request_id != NO_REQUEST:
            entry["request_id"] = request_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def make_handler(fmt: Literal["text", "json"], stream: object = None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    return handler


def configure_logging(*, level: str = "INFO", fmt: Literal["text", "json"] = "text") -> None:
    """Replace the root logger's handlers with one writing `fmt` lines to stderr."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(make_handler(fmt))
    root.setLevel(level.upper())


def log_request(
    *,
    endpoint: str,
    model: str | None,
    node: str | None,
    user: str | None,
    source: str,
    status: int,
    duration_s: float,
    tokens: tuple[int, int],
    error: str | None,
) -> None:
    """The request log line (`Gateway.record` calls it; the filter adds the request id)."""
    request_logger.info(
        "%s model=%s node=%s user=%s source=%s status=%d %.0f ms tokens=%d+%d%s",
        endpoint,
        model,
        node or "-",
        user or "-",
        source,
        status,
        duration_s * 1000.0,
        tokens[0],
        tokens[1],
        f" error={error[:200]!r}" if error else "",
    )
