"""User tokens: HS256 JWTs carrying `sub` (user id), `jti`, `iat` and an optional `exp`.

Only sha256(jti) is stored; a token is valid while its jti hash is the user's current one.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import jwt

ALGORITHM = "HS256"
ISSUER = "model-maestro"


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    jti_hash: str
    issued_at: datetime
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: int
    jti_hash: str
    expires_at: float | None


def hash_jti(jti: str) -> str:
    return hashlib.sha256(jti.encode()).hexdigest()


def issue_token(*, user_id: int, secret: str, lifetime_s: int | None = None) -> IssuedToken:
    now = int(time.time())
    jti = secrets.token_urlsafe(16)
    claims: dict[str, object] = {"sub": str(user_id), "jti": jti, "iat": now, "iss": ISSUER}
    expires_at = None
    if lifetime_s:
        claims["exp"] = now + lifetime_s
        expires_at = datetime.fromtimestamp(now + lifetime_s, UTC)
    token = jwt.encode(claims, secret, algorithm=ALGORITHM)
    return IssuedToken(token, hash_jti(jti), datetime.fromtimestamp(now, UTC), expires_at)


def decode_token(token: str, *, secret: str) -> TokenClaims | None:
    """The token's claims, or None when the token is malformed or forged.

    Expiry is not checked here: `TokenClaims.expires_at` is, at every use, by the caller
    (the gateway caches decoded tokens, so a token can expire after it was decoded), which
    also lets it say "expired" rather than "invalid"."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["sub", "jti", "iat"], "verify_exp": False},
            issuer=ISSUER,
        )
        user_id = int(claims["sub"])
        jti = str(claims["jti"])
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        return None
    exp = claims.get("exp")
    if exp is not None and (isinstance(exp, bool) or not isinstance(exp, int | float)):
        return None
    return TokenClaims(user_id, hash_jti(jti), float(exp) if exp is not None else None)
