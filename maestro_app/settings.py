"""Process settings: one pydantic-settings class, read from the environment and `.env`.

Embedded mode needs no configuration: every secret left unset is generated once and kept
in `<data dir>/secrets.json` (mode 0600), so restarts keep tokens valid. `MAESTRO_ENV=prod`
refuses weak or default secrets instead of starting with them.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import secrets
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

logger = logging.getLogger(__name__)

WEAK_SECRET_PREFIXES = ("change-this", "changeme", "change-me", "secret", "password")
WEAK_SECRET_VALUES = {"admin", "", "test", "123456", "default"}
MIN_SECRET_LENGTH = {
    "JWT_SECRET_KEY": 32,
    "ADMIN_TOKEN": 24,
    "ADMIN_PASSWORD": 12,
    "SECRETS_ENCRYPTION_KEY": 32,
}


class WeakSecretError(RuntimeError):
    """Raised in prod mode when a secret is missing, default or weak."""


class ScaledModeError(RuntimeError):
    """Raised when a deployment would run several processes without what they must share."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    maestro_env: Literal["dev", "prod", "test"] = "dev"
    maestro_data_dir: Path = Path("./data")
    database_url: str | None = None
    redis_url: str | None = None
    # Every Redis key we write starts with this (Reflex's UI state uses its own prefix).
    redis_key_prefix: str = "maestro"
    # Scaled mode: ledger entries a dead process read but never acknowledged are taken over
    # by another process after this long.
    ledger_claim_idle_s: float = 30.0
    # SIGTERM: requests in flight get this long to finish before their upstream calls are
    # ended; then the ledger is drained and the process exits (docs/OPERATIONS.md).
    shutdown_grace_s: float = Field(default=30.0, ge=0)
    jwt_secret_key: str | None = None
    # Encrypts node API keys and header values in the database (db/secrets.py). Changing it
    # makes the stored ones unreadable: the gateway then refuses to start.
    secrets_encryption_key: str | None = None
    admin_token: str | None = None
    admin_username: str = "admin"
    admin_password: str | None = None
    docs_username: str | None = None
    docs_password: str | None = None
    ollama_base_url: str = "http://localhost:11434"
    log_level: str = "INFO"
    # `json`: one JSON object per log line (with the request id); `text`: human-readable.
    log_format: Literal["text", "json"] = "text"
    # One INFO line per finished gateway request (model, node, status, time, tokens).
    log_requests: bool = False
    # When set, `GET /metrics` wants `Authorization: Bearer <METRICS_TOKEN>`.
    metrics_token: str | None = None
    # Upstream timeouts, seconds. LLM answers can take minutes; connecting must not.
    upstream_connect_timeout_s: float = 5.0
    upstream_read_timeout_s: float = 600.0
    upstream_max_connections: int = Field(default=512, ge=1)
    # Config as code: a YAML file (the format of GET /admin/config/export) applied at every
    # start, after migrations; prune as `?prune=true` of the import.
    maestro_config: Path | None = None
    maestro_config_prune: bool = False

    @property
    def data_dir(self) -> Path:
        return self.maestro_data_dir

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'maestro.db').resolve()}"

    @property
    def is_prod(self) -> bool:
        return self.maestro_env == "prod"

    @cached_property
    def docs_credentials(self) -> tuple[str, str]:
        return (
            self.docs_username or self.admin_username,
            self.docs_password or self.admin_password or "",
        )


def _is_weak(name: str, value: str | None) -> bool:
    if value is None:
        return True
    lowered = value.strip().lower()
    if lowered in WEAK_SECRET_VALUES or lowered.startswith(WEAK_SECRET_PREFIXES):
        return True
    return len(value) < MIN_SECRET_LENGTH.get(name, 12)


def check_prod_secrets(settings: Settings) -> None:
    """Refuse to run in prod with secrets that are unset, default or weak."""
    problems = [
        f"{name} is {'not set' if value is None else 'weak or a known default'}"
        f" (use at least {MIN_SECRET_LENGTH[name]} random characters)"
        for name, value in (
            ("JWT_SECRET_KEY", settings.jwt_secret_key),
            ("SECRETS_ENCRYPTION_KEY", settings.secrets_encryption_key),
            ("ADMIN_TOKEN", settings.admin_token),
            ("ADMIN_PASSWORD", settings.admin_password),
        )
        if _is_weak(name, value)
    ]
    if problems:
        raise WeakSecretError(
            "MAESTRO_ENV=prod refuses to start: " + "; ".join(problems) + ". "
            "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )


def check_scaled_mode(settings: Settings, environ: Mapping[str, str] = os.environ) -> None:
    """Several workers or replicas must share Redis and their secrets.

    With `REDIS_URL`, replicas each have their own data dir, so a secret generated there
    would differ per replica (a token signed by one refused by the other): they must come
    from the environment. Without it, limits and the ledger live in one process's memory,
    so more than one worker would give wrong answers.
    """
    if settings.redis_url:
        missing = [
            name
            for name, value in (
                ("JWT_SECRET_KEY", settings.jwt_secret_key),
                ("ADMIN_TOKEN", settings.admin_token),
                ("ADMIN_PASSWORD", settings.admin_password),
            )
            if not value
        ]
        if missing:
            raise ScaledModeError(
                "REDIS_URL is set (scaled mode) but " + ", ".join(missing) + " is not: every "
                "replica must be given the same secrets in its environment"
            )
        return
    workers = environ.get("GRANIAN_WORKERS", "").strip()
    if workers.isdigit() and int(workers) > 1:
        raise ScaledModeError(
            f"GRANIAN_WORKERS={workers} needs REDIS_URL: without Redis, limits and the activity "
            "ledger live in one process, so run one worker (or set REDIS_URL)"
        )
    if environ.get("REFLEX_REDIS_URL"):
        raise ScaledModeError("REFLEX_REDIS_URL is set but REDIS_URL is not: set both, or neither")


def fill_generated_secrets(settings: Settings) -> list[str]:
    """Generate unset secrets once and persist them in the data dir.

    Returns the names of the secrets generated in this call (non-empty only on first start),
    so the caller can show the admin credentials exactly once. A file lock makes processes
    starting together on one data dir agree on one set (two different encryption keys
    would leave one process unable to read what the other wrote).
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = settings.data_dir / "secrets.json"
    with open(settings.data_dir / ".secrets.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
        generated: list[str] = []
        for field, factory in (
            ("jwt_secret_key", lambda: secrets.token_urlsafe(48)),
            ("secrets_encryption_key", lambda: secrets.token_urlsafe(32)),
            ("admin_token", lambda: "mm-admin-" + secrets.token_urlsafe(32)),
            ("admin_password", lambda: secrets.token_urlsafe(12)),
        ):
            if getattr(settings, field):
                continue
            if field not in stored:
                stored[field] = factory()
                generated.append(field)
            setattr(settings, field, stored[field])
        if generated:
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(stored, indent=2))
            os.chmod(tmp, 0o600)
            tmp.replace(path)
    return generated


def load_settings(**overrides: object) -> Settings:
    """Read settings, apply prod checks, fill generated secrets (embedded defaults)."""
    settings = Settings(**overrides)  # type: ignore[arg-type]
    if settings.is_prod:
        check_prod_secrets(settings)
    check_scaled_mode(settings)
    generated = fill_generated_secrets(settings)
    if "admin_password" in generated or "admin_token" in generated:
        logger.warning(
            "\n=== Model Maestro first start: admin credentials (shown once) ===\n"
            "  dashboard login: %s / %s\n  admin API token: %s\n"
            "  stored in %s\n================================================================",
            settings.admin_username,
            settings.admin_password,
            settings.admin_token,
            (settings.data_dir / "secrets.json").resolve(),
        )
    return settings
