"""GatewayError -> wire format. The only place each dialect's error shape is written.

openai     {"error": {"message", "type", "code"}}
ollama     {"error": "<message>"}
anthropic  {"type": "error", "error": {"type": <by status>, "message"}}
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from maestro_app.domain.errors import GatewayError

logger = logging.getLogger(__name__)

# Anthropic names its error types by HTTP status; other statuses fall back by class.
_ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    503: "overloaded_error",
    529: "overloaded_error",
}
ANTHROPIC_PATHS = ("/anthropic/", "/v1/messages")


def anthropic_error_type(status: int) -> str:
    return _ANTHROPIC_TYPES.get(status) or ("api_error" if status >= 500 else "invalid_request_error")


def openai_error_body(err: GatewayError) -> dict[str, object]:
    return {"error": {"message": err.message, "type": err.type, "param": err.param, "code": err.code}}


def ollama_error_body(err: GatewayError) -> dict[str, object]:
    return {"error": err.message}


def anthropic_error_body(status: int, message: str) -> dict[str, object]:
    return {"type": "error", "error": {"type": anthropic_error_type(status), "message": message}}


def error_body(err: GatewayError, *, dialect: str) -> dict[str, object]:
    if dialect == "ollama":
        return ollama_error_body(err)
    if dialect == "anthropic":
        return anthropic_error_body(err.status, err.message)
    return openai_error_body(err)


def error_response(err: GatewayError, *, dialect: str) -> Response:
    return JSONResponse(error_body(err, dialect=dialect), status_code=err.status, headers=err.headers())


def dialect_of_path(path: str) -> str:
    if path.startswith("/api/"):
        return "ollama"
    return "anthropic" if path.startswith(ANTHROPIC_PATHS) else "openai"


def dialect_of_request(request: Request) -> str:
    """The path's dialect; model listings answer Anthropic clients (`anthropic-version`) in theirs."""
    dialect = dialect_of_path(request.url.path)
    if (
        dialect == "openai"
        and request.url.path.startswith("/v1/models")
        and "anthropic-version" in request.headers
    ):
        return "anthropic"
    return dialect


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(GatewayError)
    async def _gateway_error(request: Request, exc: GatewayError) -> Response:
        return error_response(exc, dialect=dialect_of_request(request))
