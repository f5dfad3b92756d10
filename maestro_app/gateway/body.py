"""Reading and checking request bodies: size limit, JSON object, required fields, types.

Every failure is a BadRequest or PayloadTooLarge raised before anything is routed or
recorded, so bad input changes nothing.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import ClientDisconnect, Request

from maestro_app.domain.errors import BadRequest, PayloadTooLarge
from maestro_app.providers.responses import ResponsesRequestError, responses_to_chat

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
    "openai.responses": ("model", "input"),
}


async def read_limited(request: Request, max_bytes: int) -> bytes:
    """The body, refused as soon as it passes `max_bytes` (before reading the rest when the
    client declared its length). Reads the ASGI messages directly: `Request.stream()` is an
    async generator, measurably slower per request for the one-message bodies clients send."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLarge(f"Request body is larger than {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    receive = request.receive
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(f"Request body is larger than {max_bytes} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def parse_json(raw: bytes, *, expected: str = "a JSON object") -> Any:
    if not raw.strip():
        raise BadRequest(f"Request body is empty; expected {expected}")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"Request body is not valid JSON: {exc.args[0] if exc.args else exc}") from None


def parse_object(raw: bytes) -> dict[str, Any]:
    body = parse_json(raw)
    if not isinstance(body, dict):
        raise BadRequest("Request body must be a JSON object")
    return body


def check_request(body: dict[str, Any], endpoint: str) -> None:
    """The checks of one endpoint (`"<dialect>.<kind>"`): fields, then the body's own shape."""
    check_fields(body, REQUIRED[endpoint])
    if endpoint == "openai.responses":
        try:
            # Translating is the check: what translates is what the node will be sent.
            responses_to_chat(body)
        except ResponsesRequestError as exc:
            raise BadRequest(exc.message, code=exc.code, param=exc.param) from None


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
