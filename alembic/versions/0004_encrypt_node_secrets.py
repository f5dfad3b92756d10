"""Encrypt node secrets at rest: `nodes.api_key` and every value of `nodes.headers`.

A data migration: the column types stay (text, JSON); values become `enc:v1:<base64url>`
(AES-256-GCM, key from SECRETS_ENCRYPTION_KEY; see maestro_app/db/secrets.py). Rows already
encrypted are left alone, so running it again is harmless. The downgrade writes plaintext
back (with the same key).

Revision ID: 0004_encrypt_secrets
Revises: 0002_activity_indexes
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from alembic import op
from maestro_app.db.secrets import SecretCipher, cipher_for_migration, is_encrypted

revision: str = "0004_encrypt_secrets"
down_revision: str | None = "0003_grafana"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The raw columns: plain Text and JSON, so values are read and written exactly as stored.
NODES = sa.table(
    "nodes",
    sa.column("id", sa.Integer),
    sa.column("api_key", sa.Text),
    sa.column("headers", sa.JSON),
)


def _rewrite(convert: Callable[[SecretCipher, str], str | None]) -> None:
    """Apply `convert` to every stored secret (None = leave that value as it is)."""
    bind = op.get_bind()
    rows = bind.execute(sa.select(NODES.c.id, NODES.c.api_key, NODES.c.headers)).all()
    cipher: SecretCipher | None = None
    for node_id, api_key, headers in rows:
        values: dict[str, Any] = {}
        secrets = ([("api_key", api_key)] if api_key is not None else []) + [
            (f"h:{name}", value) for name, value in (headers or {}).items()
        ]
        for slot, value in secrets:
            if cipher is None:
                cipher = cipher_for_migration(bind.dialect)
            converted = convert(cipher, str(value))
            if converted is None:
                continue
            if slot == "api_key":
                values["api_key"] = converted
            else:
                values.setdefault("headers", dict(headers))[slot[2:]] = converted
        if values:
            bind.execute(NODES.update().where(NODES.c.id == node_id).values(**values))


def upgrade() -> None:
    _rewrite(lambda cipher, value: None if is_encrypted(value) else cipher.encrypt(value))


def downgrade() -> None:
    _rewrite(lambda cipher, value: cipher.decrypt(value) if is_encrypted(value) else None)
