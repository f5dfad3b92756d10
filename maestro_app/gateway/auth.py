"""Token authentication against the snapshot: no database query.

A decoded token is cached by its string (JWT verification costs ~20 µs); validity is
still checked against the snapshot on every request, so rotation and deactivation take
effect the moment the snapshot is rebuilt.

The token comes as `Authorization: Bearer <token>`; Anthropic clients may send it as
`x-api-key: <token>` instead (the Anthropic SDK's `api_key`, Claude Code's
`ANTHROPIC_API_KEY`), which endpoints of that dialect accept (`request_token`).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping

from maestro_app.domain.errors import Forbidden, Unauthorized
from maestro_app.domain.snapshot import Snapshot, UserView
from maestro_app.services.tokens import TokenClaims, decode_token

_CACHE_MAX = 10_000


class Authenticator:
    def __init__(self, *, jwt_secret: str, admin_token: str | None) -> None:
        self._secret = jwt_secret
        self._admin_token = (admin_token or "").encode()
        self._cache: dict[str, TokenClaims | None] = {}

    def _claims(self, token: str) -> TokenClaims | None:
        try:
            return self._cache[token]
        except KeyError:
            pass
        claims = decode_token(token, secret=self._secret)
        if len(self._cache) >= _CACHE_MAX:
            self._cache.clear()
        self._cache[token] = claims
        return claims

    def is_admin_token(self, token: str) -> bool:
        return bool(self._admin_token) and secrets.compare_digest(token.encode(), self._admin_token)

    def user(self, authorization: str | None, snapshot: Snapshot) -> UserView:
        """The active user owning the bearer token, or Unauthorized."""
        return self.token_user(bearer_token(authorization), snapshot)

    def request_user(self, headers: Mapping[str, str], snapshot: Snapshot, *, api_key: bool) -> UserView:
        """The active user of a request's token; `api_key`: `x-api-key` is accepted too."""
        return self.token_user(request_token(headers, api_key=api_key), snapshot)

    def token_user(self, token: str, snapshot: Snapshot) -> UserView:
        """The active user owning `token`, or Unauthorized."""
        claims = self._claims(token)
        if claims is None:
            raise Unauthorized("Invalid API token")
        if claims.expires_at is not None and claims.expires_at <= time.time():
            raise Unauthorized("API token has expired")
        user = snapshot.users.get(claims.user_id)
        if user is None or user.jti_hash != claims.jti_hash:
            raise Unauthorized("API token has been revoked")
        if not user.is_active:
            raise Unauthorized("User is inactive")
        return user

    def manager(self, authorization: str | None, snapshot: Snapshot) -> UserView | None:
        """For model management: the admin token (None) or a user with the permission."""
        token = bearer_token(authorization)
        if self.is_admin_token(token):
            return None
        user = self.user(authorization, snapshot)
        if not user.can_manage_models:
            raise Forbidden(
                "Managing models needs the can_manage_models permission", code="permission_denied"
            )
        return user


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthorized("Missing Authorization header (expected 'Bearer <token>')")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("Malformed Authorization header (expected 'Bearer <token>')")
    return token


def request_token(headers: Mapping[str, str], *, api_key: bool) -> str:
    """The token of a request: `Authorization: Bearer` when present, else (when `api_key`)
    `x-api-key`."""
    authorization = headers.get("authorization")
    if authorization or not api_key:
        return bearer_token(authorization)
    token = (headers.get("x-api-key") or "").strip()
    if not token:
        raise Unauthorized("Missing API key (send 'x-api-key: <token>' or 'Authorization: Bearer <token>')")
    return token
