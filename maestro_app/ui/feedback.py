"""What a failed dashboard action tells the admin: the reason, in one line.

Handlers build the service's input body themselves (from form text) and call the service;
both steps may refuse the input. `failure_toast` turns either refusal into an error toast
that names the reason; nothing was written in that case (the service's transaction rolled
back, or it never started).
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from pydantic import ValidationError
from reflex.event import EventSpec

from maestro_app.services.errors import InvalidInput, ServiceError

# What admins may get wrong; anything else is a bug and goes to the log (Reflex's handler).
INPUT_ERRORS: tuple[type[Exception], ...] = (ServiceError, ValidationError)
# ... and what reading an id from an event raises when the event was forged.
ID_INPUT_ERRORS: tuple[type[Exception], ...] = (*INPUT_ERRORS, TypeError, ValueError)


def _field(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc if not isinstance(part, int) or len(loc) == 1)


def error_message(exc: Exception, *, labels: dict[str, str] | None = None) -> str:
    """`ServiceError` → its message; pydantic → `field: reason` for each error, the field
    named by `labels` when it has a label there."""
    if isinstance(exc, ServiceError):
        return exc.message
    if isinstance(exc, ValidationError):
        parts = []
        for error in exc.errors(include_url=False):
            message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
            where = _field(tuple(error.get("loc", ())))
            where = (labels or {}).get(where, where)
            parts.append(f"{where}: {message}" if where else message)
        return "; ".join(parts) or "invalid input"
    return str(exc) or type(exc).__name__


def failure_toast(exc: Exception, *, labels: dict[str, str] | None = None) -> EventSpec:
    return rx.toast.error(error_message(exc, labels=labels), duration=8000)


def optional_int(text: Any, *, label: str, minimum: int = 0) -> int | None:
    """Form text → an int, or None for an empty field; `InvalidInput` naming `label`."""
    value = str(text if text is not None else "").strip().replace("_", "").replace(",", "")
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        raise InvalidInput(f"{label}: '{text}' is not a whole number") from None
    if number < minimum:
        raise InvalidInput(f"{label}: must be at least {minimum}")
    return number


def required_int(text: Any, *, label: str, minimum: int | None = None) -> int:
    value = str(text if text is not None else "").strip()
    if not value:
        raise InvalidInput(f"{label}: required")
    try:
        number = int(value.replace("_", ""))
    except ValueError:
        raise InvalidInput(f"{label}: '{text}' is not a whole number") from None
    if minimum is not None and number < minimum:
        raise InvalidInput(f"{label}: must be at least {minimum}")
    return number


def text_or_none(text: Any) -> str | None:
    value = str(text if text is not None else "").strip()
    return value or None


def checked(form: dict[str, Any], name: str) -> bool:
    """A checkbox or switch of a submitted form: present (any value but "off") = on."""
    value = form.get(name)
    return value not in (None, "", "off", False)
