"""Reading and checking request bodies: size limit, JSON object, required fields, types.

Every failure is a BadRequest or PayloadTooLarge raised before anything is routed or
recorded, so bad input changes nothing.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from maestro_app.domain.errors import BadRequest, PayloadTooLarge

# field -> (accepted types, human description); checked when present
_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "model": ((str,), "a string"),
    "stream": ((bool,), "a boolean"),
    "messages": ((list,), "an array"),
    "prompt": ((str, list), "a string or an array"),
    "input": ((str, list), "a string or an array"),
    "tools": ((list,), "an array"),
    "images": ((list,), "an array"),
    "options": ((dict,), "an object"),
    "system": ((str,), "a string"),
    "suffix": ((str,), "a string"),
    "stream_options": ((dict,), "an object"),
    "max_tokens": ((int,), "an integer"),
    "temperature": ((int, float), "a number"),
    "top_p": ((int, float), "a number"),
    "n": ((int,), "an integer"),
    "keep_alive": ((str, int, float), "a duration"),
}

MAX_MODEL_NAME = 256

REQUIRED: dict[str, tuple[str, ...]] = {
    "openai.chat": ("model", "messages"),
    "openai.completion": ("model", "prompt"),
    "openai.embed": ("model", "input"),
    "ollama.chat": ("model",),
    "ollama.generate": ("model",),
    "ollama.embed": ("model", "input"),
    "ollama.embed_legacy": ("model", "prompt"),
}


async def read_limited(request: Request, max_bytes: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLarge(f"Request body is larger than {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(f"Request body is larger than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_object(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        raise BadRequest("Request body is empty; expected a JSON object")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"Request body is not valid JSON: {exc.args[0] if exc.args else exc}") from None
    if not isinstance(body, dict):
        raise BadRequest("Request body must be a JSON object")
    return body


def check_fields(body: dict[str, Any], required: tuple[str, ...]) -> None:
    for name in required:
        if name not in body or body[name] is None:
            raise BadRequest(f"Missing required field '{name}'", code="missing_field")
    for name, value in body.items():
        spec = _TYPES.get(name)
        if spec is None or value is None:
            continue
        types, description = spec
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise BadRequest(f"Field '{name}' must be {description}", code="invalid_type")
    model = body.get("model")
    if isinstance(model, str) and not model.strip():
        raise BadRequest("Field 'model' must not be empty", code="invalid_value")
    if isinstance(model, str) and len(model) > MAX_MODEL_NAME:
        # No model, mapping or group name is longer (their columns hold 256 characters).
        raise BadRequest(f"Field 'model' must be at most {MAX_MODEL_NAME} characters", code="invalid_value")
    messages = body.get("messages")
    if isinstance(messages, list):
        for i, message in enumerate(messages):
            if not isinstance(message, dict):
                raise BadRequest(f"messages[{i}] must be an object", code="invalid_type")
            role = message.get("role")
            if not isinstance(role, str):
                raise BadRequest(f"messages[{i}].role must be a string", code="invalid_type")
