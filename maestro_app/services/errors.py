"""Errors the services raise. The admin API maps them to HTTP in one place
(`admin.routing`); the dashboard shows their message as is.

    ServiceError (message)
    ├── EntityNotFound       404  a user, node, mapping or model the caller named does not exist
    ├── EntityConflict       409  the change would duplicate or contradict an existing entity
    ├── InvalidInput         422  well-formed input that cannot be accepted (unknown node id, bad filter)
    ├── InvalidCredentials   401  dashboard login with a wrong username or password
    ├── TooManyAttempts      429  dashboard login throttled (carries `retry_after`)
    └── UpstreamError        502  a node did not answer a discovery as expected
"""

from __future__ import annotations


class ServiceError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class EntityNotFound(ServiceError):
    pass


class EntityConflict(ServiceError):
    pass


class InvalidInput(ServiceError):
    pass


class InvalidCredentials(ServiceError):
    pass


class TooManyAttempts(ServiceError):
    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UpstreamError(ServiceError):
    pass
