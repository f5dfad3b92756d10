"""Errors the gateway answers with. One hierarchy; each wire format maps it in one place
(`gateway.errors`).

    GatewayError (status, message, code, param)
    ├── BadRequest             400  body not JSON / not an object / missing or mistyped field
    ├── Unauthorized           401  header missing or malformed, token invalid/expired/revoked, user inactive
    ├── Forbidden              403  model not in the allowlist, permission missing
    ├── NotFound               404  unknown model, node code or path
    ├── PayloadTooLarge        413  body above `max_body_bytes`
    ├── RateLimited            429  daily limit reached (carries `retry_after`)
    ├── UpstreamFailed         502  every eligible node failed
    ├── ServiceUnavailable     503  no healthy node, maintenance mode
    └── UpstreamTimeout        504  the upstream did not answer in time
"""

from __future__ import annotations


class GatewayError(Exception):
    status: int = 500
    code: str = "internal_error"
    type: str = "server_error"
    param: str | None = None  # the request field at fault, when one is (OpenAI's `param`)

    def __init__(self, message: str, *, code: str | None = None, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.param = param

    def headers(self) -> dict[str, str]:
        return {}


class BadRequest(GatewayError):
    status, code, type = 400, "invalid_request", "invalid_request_error"


class Unauthorized(GatewayError):
    status, code, type = 401, "invalid_api_key", "authentication_error"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class Forbidden(GatewayError):
    status, code, type = 403, "model_not_allowed", "permission_error"


class NotFound(GatewayError):
    status, code, type = 404, "model_not_found", "not_found_error"


class PayloadTooLarge(GatewayError):
    status, code, type = 413, "payload_too_large", "invalid_request_error"


class RateLimited(GatewayError):
    status, code, type = 429, "rate_limit_exceeded", "rate_limit_error"

    def __init__(self, message: str, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class UpstreamFailed(GatewayError):
    status, code, type = 502, "upstream_error", "api_error"


class ServiceUnavailable(GatewayError):
    status, code, type = 503, "service_unavailable", "api_error"


class UpstreamTimeout(GatewayError):
    status, code, type = 504, "upstream_timeout", "api_error"
