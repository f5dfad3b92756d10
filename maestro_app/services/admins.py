"""Dashboard administrators: credential checks, login throttling and session tokens, shared by
the dashboard and `/admin/auth/login`.

A dashboard session is a JWT signed with the JWT secret, marked `typ: admin_session` and
carrying `sub: "admin:<id>"` (never a bare number, so a session can never pass for a user
token). It expires after 12 hours and dies at once when its admin is deactivated or deleted.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

import jwt
from sqlmodel import Session, select

from maestro_app.db.models import DashboardAdmin, utcnow
from maestro_app.services.audit import record_audit
from maestro_app.services.errors import InvalidCredentials, TooManyAttempts
from maestro_app.services.passwords import hash_password, verify_password

logger = logging.getLogger(__name__)

ADMIN_SESSION_TYP = "admin_session"
ADMIN_SESSION_LIFETIME_S = 12 * 3600
ALGORITHM = "HS256"
ISSUER = "model-maestro"
_SUBJECT_PREFIX = "admin:"
# Bound on remembered throttle keys, so random usernames cannot grow memory without limit.
MAX_TRACKED_KEYS = 10_000


@cache
def _dummy_hash() -> str:
    """Verified against when the username is unknown, so that a miss costs as much time as
    a hit and response timing does not reveal which usernames exist."""
    return hash_password("maestro-timing-equaliser")


def authenticate_admin(*, session: Session, username: str, password: str) -> DashboardAdmin | None:
    """The active admin with these credentials (its `last_login_at` set to now), or None.

    The caller's session commits the `last_login_at` update.
    """
    admin = session.exec(select(DashboardAdmin).where(DashboardAdmin.username == username.strip())).first()
    if admin is None:
        verify_password(_dummy_hash(), password)
        return None
    if not verify_password(admin.password_hash, password) or not admin.is_active:
        return None
    admin.last_login_at = utcnow()
    session.add(admin)
    return admin


# -- login throttling ------------------------------------------------------------------


class LoginThrottle:
    """Failed logins per key (client address + username) in a sliding window.

    After `max_failures` failures within `window_s`, the key is refused until the oldest of
    them leaves the window. In-process: each worker throttles on its own.
    """

    def __init__(
        self,
        *,
        max_failures: int = 5,
        window_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, key: str) -> int | None:
        """Seconds until `key` may try again, or None when it may try now."""
        with self._lock:
            recent = self._recent(key)
            if len(recent) < self.max_failures:
                return None
            wait = recent[0] + self.window_s - self._clock()
            return max(1, int(wait + 0.999))

    def failed(self, key: str) -> None:
        with self._lock:
            self._recent(key).append(self._clock())

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def _recent(self, key: str) -> deque[float]:
        now = self._clock()
        if key not in self._failures and len(self._failures) >= MAX_TRACKED_KEYS:
            self._forget_stale(now)
        # Only the last `max_failures` failures can decide a refusal.
        recent = self._failures.setdefault(key, deque(maxlen=self.max_failures))
        while recent and recent[0] <= now - self.window_s:
            recent.popleft()
        return recent

    def _forget_stale(self, now: float) -> None:
        horizon = now - self.window_s
        for key in [k for k, v in self._failures.items() if not v or v[-1] <= horizon]:
            del self._failures[key]
        if len(self._failures) >= MAX_TRACKED_KEYS:
            # Under a flood of distinct keys keep the most recently failing half.
            newest = sorted(self._failures.items(), key=lambda kv: kv[1][-1])
            self._failures = dict(newest[len(newest) // 2 :])


# -- sessions ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AdminSession:
    token: str
    expires_at: datetime
    username: str


@dataclass(frozen=True, slots=True)
class SessionCheck:
    """`username` is set when the session is good; `expired` tells a stale one apart."""

    username: str | None
    expired: bool = False


def issue_admin_session(
    *, admin: DashboardAdmin, secret: str, lifetime_s: int = ADMIN_SESSION_LIFETIME_S
) -> AdminSession:
    now = int(time.time())
    expires = now + lifetime_s
    claims = {
        "sub": f"{_SUBJECT_PREFIX}{admin.id}",
        "name": admin.username,
        "typ": ADMIN_SESSION_TYP,
        "jti": secrets.token_urlsafe(12),
        "iat": now,
        "exp": expires,
        "iss": ISSUER,
    }
    token = jwt.encode(claims, secret, algorithm=ALGORITHM)
    return AdminSession(token, datetime.fromtimestamp(expires, UTC), admin.username)


def verify_admin_session(*, session: Session, token: str, secret: str) -> SessionCheck:
    """Whose dashboard session `token` is, if it is one that is signed, current and active."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["sub", "typ", "exp", "iat"]},
        )
    except jwt.ExpiredSignatureError:
        return SessionCheck(None, expired=True)
    except jwt.PyJWTError:
        return SessionCheck(None)
    subject = str(claims.get("sub", ""))
    if claims.get("typ") != ADMIN_SESSION_TYP or not subject.startswith(_SUBJECT_PREFIX):
        return SessionCheck(None)
    try:
        admin_id = int(subject[len(_SUBJECT_PREFIX) :])
    except ValueError:
        return SessionCheck(None)
    admin = session.get(DashboardAdmin, admin_id)
    if admin is None or not admin.is_active:
        return SessionCheck(None)
    return SessionCheck(admin.username)


def login(
    *,
    session: Session,
    username: str,
    password: str,
    secret: str,
    throttle: LoginThrottle,
    client: str,
) -> AdminSession:
    """A new dashboard session for good credentials; raises `TooManyAttempts` while the
    client is throttled and `InvalidCredentials` otherwise. Audited on success."""
    key = f"{client}|{username.strip().lower()}"
    wait = throttle.retry_after(key)
    if wait is not None:
        raise TooManyAttempts(f"Too many failed logins; try again in {wait} seconds", retry_after=wait)
    admin = authenticate_admin(session=session, username=username, password=password)
    if admin is None:
        throttle.failed(key)
        logger.warning("failed dashboard login for %r from %s", username[:128], client)
        raise InvalidCredentials("Wrong username or password")
    throttle.succeeded(key)
    issued = issue_admin_session(admin=admin, secret=secret)
    record_audit(
        session=session,
        actor=admin.username,
        action="admin.login",
        entity_type="dashboard_admin",
        entity_id=admin.id,
        details={"client": client},
    )
    return issued
