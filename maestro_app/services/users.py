"""Gateway users: CRUD, token rotation, model allowlists and daily limits.

Every mutation writes its audit record and bumps the config version in the caller's
transaction; the caller commits and then reloads the routing snapshot.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator
from sqlmodel import Session, col, select

from maestro_app.db.models import User
from maestro_app.domain.names import canonical
from maestro_app.services.audit import changes, record_audit, save_audited
from maestro_app.services.common import INT32_MAX, TRIM, Body, Page, like_pattern, paginate
from maestro_app.services.errors import EntityConflict, EntityNotFound
from maestro_app.services.snapshot import bump_config_version
from maestro_app.services.tokens import issue_token

USERNAME_PATTERN = r"^[A-Za-z0-9_.@-]{1,128}$"
MAX_TOKEN_LIFETIME_S = 10 * 366 * 86400

Username = Annotated[str, StringConstraints(pattern=USERNAME_PATTERN)]
ModelName = Annotated[str, StringConstraints(min_length=1, max_length=256), TRIM]
DailyLimit = Annotated[int | None, Field(ge=0, le=INT32_MAX)]
TokenLifetime = Annotated[int | None, Field(ge=60, le=MAX_TOKEN_LIFETIME_S)]
Description = Annotated[str | None, Field(max_length=2000)]


def _merge_models(current: list[str], extra: list[str]) -> list[str]:
    """`current` plus the names of `extra` not already in it (`x` and `x:latest` are one)."""
    seen = {canonical(m) for m in current}
    merged = list(current)
    for name in extra:
        if canonical(name) not in seen:
            seen.add(canonical(name))
            merged.append(name)
    return merged


def _distinct_models(names: list[str]) -> list[str]:
    return _merge_models([], names)


# An allowlist as stored: repeats (`x` and `x:latest` are one) dropped, first spelling kept.
Allowlist = Annotated[list[ModelName], Field(max_length=1000), AfterValidator(_distinct_models)]


class UserCreate(Body):
    username: Username
    is_active: bool = True
    request_limit: DailyLimit = None
    token_limit: DailyLimit = None
    can_manage_models: bool = False
    all_models: bool = False
    allowed_models: Allowlist = Field(default_factory=list)
    token_lifetime_s: TokenLifetime = None
    description: Description = None


class UserUpdate(Body):
    non_nullable = frozenset({"is_active", "can_manage_models", "all_models", "allowed_models"})

    is_active: bool | None = None
    request_limit: DailyLimit = None
    token_limit: DailyLimit = None
    can_manage_models: bool | None = None
    all_models: bool | None = None
    allowed_models: Allowlist | None = None
    description: Description = None


class TokenRotate(Body):
    """`token_lifetime_s` omitted: the new token lives as long as the previous one did;
    `null`: the new token never expires."""

    token_lifetime_s: TokenLifetime = None


class ModelsAdd(Body):
    models: list[ModelName] = Field(min_length=1, max_length=1000)


class LimitsUpdate(Body):
    """Omitted fields keep their value; null means unlimited."""

    request_limit: DailyLimit = None
    token_limit: DailyLimit = None

    @model_validator(mode="after")
    def _something_given(self) -> LimitsUpdate:
        if not self.model_fields_set:
            raise ValueError("send request_limit and/or token_limit (null = unlimited)")
        return self


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    is_active: bool
    all_models: bool
    allowed_models: list[str]
    request_limit: int | None
    token_limit: int | None
    can_manage_models: bool
    description: str | None
    token_issued_at: datetime | None
    token_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime


class UserWithToken(UserPublic):
    token: str


class UserModels(BaseModel):
    username: str
    all_models: bool
    models: list[str]


class UserLimits(BaseModel):
    username: str
    request_limit: int | None
    token_limit: int | None


# -- lookups ------------------------------------------------------------------------------


def load_user(session: Session, username: str, *, for_update: bool = False) -> User:
    """The user row, or `EntityNotFound` (also for names no user could ever have)."""
    statement = select(User).where(User.username == username)
    if for_update:
        statement = statement.with_for_update()
    user = session.exec(statement).first() if _valid_username(username) else None
    if user is None:
        raise EntityNotFound(f"User '{username}' not found")
    return user


def _valid_username(username: str) -> bool:
    return 0 < len(username) <= 128 and "\x00" not in username


def _public(user: User) -> UserPublic:
    return UserPublic.model_validate(user)


def _with_token(user: User, token: str) -> UserWithToken:
    return UserWithToken(**_public(user).model_dump(), token=token)


def _settable(user: User) -> dict[str, Any]:
    return {
        "is_active": user.is_active,
        "request_limit": user.request_limit,
        "token_limit": user.token_limit,
        "can_manage_models": user.can_manage_models,
        "all_models": user.all_models,
        "allowed_models": list(user.allowed_models or []),
        "description": user.description,
    }


def _save(session: Session, user: User, *, actor: str, action: str, details: dict[str, Any]) -> None:
    save_audited(
        session,
        user,
        actor=actor,
        action=action,
        entity_type="user",
        details=details,
        entity_id=user.username,
    )


# -- CRUD ---------------------------------------------------------------------------------


def _insert_user(session: Session, data: UserCreate) -> User:
    if session.exec(select(User.id).where(User.username == data.username)).first() is not None:
        raise EntityConflict(f"User '{data.username}' already exists")
    user = User(
        username=data.username,
        is_active=data.is_active,
        request_limit=data.request_limit,
        token_limit=data.token_limit,
        can_manage_models=data.can_manage_models,
        all_models=data.all_models,
        allowed_models=_merge_models([], data.allowed_models),
        description=data.description,
    )
    session.add(user)
    session.flush()
    return user


def create_user(*, session: Session, data: UserCreate, actor: str, jwt_secret: str) -> UserWithToken:
    user = _insert_user(session, data)
    issued = issue_token(user_id=user.id or 0, secret=jwt_secret, lifetime_s=data.token_lifetime_s)
    user.token_jti_hash = issued.jti_hash
    user.token_issued_at = issued.issued_at
    user.token_expires_at = issued.expires_at
    _save(session, user, actor=actor, action="user.create", details=_settable(user))
    return _with_token(user, issued.token)


def create_user_without_token(*, session: Session, data: UserCreate, actor: str) -> UserPublic:
    """A user who cannot call the gateway until an admin rotates a token: a configuration
    file (config import) never carries tokens."""
    user = _insert_user(session, data)
    _save(session, user, actor=actor, action="user.create", details={**_settable(user), "token": None})
    return _public(user)


def list_users(
    *, session: Session, search: str | None = None, limit: int = 50, offset: int = 0
) -> Page[UserPublic]:
    statement = select(User)
    if search:
        statement = statement.where(col(User.username).ilike(like_pattern(search), escape="\\"))
    statement = statement.order_by(User.username)
    return paginate(
        session, statement, limit=limit, offset=offset, convert=lambda rows: [_public(u) for u in rows]
    )


def get_user(*, session: Session, username: str) -> UserPublic:
    return _public(load_user(session, username))


def update_user(*, session: Session, username: str, data: UserUpdate, actor: str) -> UserPublic:
    user = load_user(session, username, for_update=True)
    before = _settable(user)
    for name, value in data.given().items():
        if name == "allowed_models":
            value = _merge_models([], value)
        setattr(user, name, value)
    _save(
        session,
        user,
        actor=actor,
        action="user.update",
        details={"changes": changes(before, _settable(user))},
    )
    return _public(user)


def delete_user(*, session: Session, username: str, actor: str) -> None:
    user = load_user(session, username, for_update=True)
    record_audit(
        session=session,
        actor=actor,
        action="user.delete",
        entity_type="user",
        entity_id=user.username,
        details={"id": user.id},
    )
    session.delete(user)
    bump_config_version(session)
    session.flush()


def rotate_token(
    *, session: Session, username: str, actor: str, jwt_secret: str, data: TokenRotate | None = None
) -> UserWithToken:
    """A new token for the user; the old one stops working as soon as this commits."""
    user = load_user(session, username, for_update=True)
    lifetime = data.token_lifetime_s if data is not None else None
    never_expires = data is not None and "token_lifetime_s" in data.model_fields_set and lifetime is None
    if lifetime is None and not never_expires and user.token_issued_at and user.token_expires_at:
        lifetime = max(60, int((user.token_expires_at - user.token_issued_at).total_seconds()))
    issued = issue_token(user_id=user.id or 0, secret=jwt_secret, lifetime_s=lifetime)
    user.token_jti_hash = issued.jti_hash
    user.token_issued_at = issued.issued_at
    user.token_expires_at = issued.expires_at
    expires = issued.expires_at.isoformat() if issued.expires_at else None
    _save(session, user, actor=actor, action="user.rotate_token", details={"expires_at": expires})
    return _with_token(user, issued.token)


# -- model allowlist ----------------------------------------------------------------------


def _models(user: User) -> UserModels:
    return UserModels(
        username=user.username, all_models=user.all_models, models=list(user.allowed_models or [])
    )


def get_user_models(*, session: Session, username: str) -> UserModels:
    return _models(load_user(session, username))


def add_user_models(*, session: Session, username: str, models: list[str], actor: str) -> UserModels:
    user = load_user(session, username, for_update=True)
    before = list(user.allowed_models or [])
    user.allowed_models = _merge_models(before, models)
    added = user.allowed_models[len(before) :]
    _save(session, user, actor=actor, action="user.models.add", details={"added": added})
    return _models(user)


def allow_all_models(*, session: Session, username: str, actor: str) -> UserModels:
    user = load_user(session, username, for_update=True)
    user.all_models = True
    _save(session, user, actor=actor, action="user.models.all", details={"all_models": True})
    return _models(user)


def remove_user_model(*, session: Session, username: str, model: str, actor: str) -> UserModels:
    user = load_user(session, username, for_update=True)
    current = list(user.allowed_models or [])
    kept = [m for m in current if canonical(m) != canonical(model)]
    if len(kept) == len(current):
        raise EntityNotFound(f"Model '{model}' is not in the allowlist of user '{username}'")
    user.allowed_models = kept
    _save(session, user, actor=actor, action="user.models.remove", details={"removed": model})
    return _models(user)


# -- daily limits -------------------------------------------------------------------------


def _limits(user: User) -> UserLimits:
    return UserLimits(username=user.username, request_limit=user.request_limit, token_limit=user.token_limit)


def get_user_limits(*, session: Session, username: str) -> UserLimits:
    return _limits(load_user(session, username))


def set_user_limits(*, session: Session, username: str, data: LimitsUpdate, actor: str) -> UserLimits:
    user = load_user(session, username, for_update=True)
    before = _settable(user)
    for name, value in data.given().items():
        setattr(user, name, value)
    _save(
        session,
        user,
        actor=actor,
        action="user.limits.set",
        details={"changes": changes(before, _settable(user))},
    )
    return _limits(user)


def clear_user_limits(*, session: Session, username: str, actor: str) -> UserLimits:
    user = load_user(session, username, for_update=True)
    before = _settable(user)
    user.request_limit = None
    user.token_limit = None
    _save(
        session,
        user,
        actor=actor,
        action="user.limits.clear",
        details={"changes": changes(before, _settable(user))},
    )
    return _limits(user)
