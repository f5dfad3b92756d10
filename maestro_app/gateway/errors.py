"""GatewayError -> wire format. The only place each dialect's error shape is written."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from maestro_app.domain.errors import GatewayError

logger = logging.getLogger(__name__)


def openai_error_body(err: GatewayError) -> dict[str, object]:
    return {"error": {"message": err.message, "type": err.type, "param": err.param, "code": err.code}}


def ollama_error_body(err: GatewayError) -> dict[str, object]:
    return {"error": err.message}


def error_response(err: GatewayError, *, dialect: str) -> Response:
    body = ollama_error_body(err) if dialect == "ollama" else openai_error_body(err)
    return JSONResponse(body, status_code=err.status, headers=err.headers())


def dialect_of_path(path: str) -> str:
    return "ollama" if path.startswith("/api/") else "openai"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(GatewayError)
    async def _gateway_error(request: Request, exc: GatewayError) -> Response:
        return error_response(exc, dialect=dialect_of_path(request.url.path))
