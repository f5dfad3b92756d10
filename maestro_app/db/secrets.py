"""Node secrets at rest: API keys and header values are encrypted in the database.

    SecretCipher          AES-256-GCM with a key derived (HKDF-SHA256) from the
                          `SECRETS_ENCRYPTION_KEY` setting; stored form `enc:v1:<base64url>`
    EncryptedText         column type of `nodes.api_key`
    EncryptedValuesJSON   column type of `nodes.headers`: names in clear, values encrypted
    use_cipher(engine, c) the cipher of one engine (the runtime sets its own at start)

Encryption lives in the column types, so every write of a node is encrypted whoever makes
it (services, config import, tests) and a plaintext secret cannot be stored by forgetting a
call. Rows are decrypted when a node is loaded: by the snapshot build (the gateway's hot path
reads the snapshot, never the database) and by admin reads, which mask what they show.
Writes always encrypt (even a value that happens to start with the marker). A stored value
without the `enc:v1:` marker is a plaintext row from before migration 0004 and is read as is;
the next write of that node encrypts it.
"""

from __future__ import annotations

import base64
import os
import weakref
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import JSON, Engine, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

MARKER = "enc:v1:"
_NONCE_BYTES = 12
_INFO = b"model-maestro node secrets v1"
_AAD = b"model-maestro node secret"


class SecretsKeyMissing(RuntimeError):
    """An encrypted column was written or read through an engine without a cipher."""


class UnreadableSecret(RuntimeError):
    """A stored secret does not decrypt with the configured key (it was written with another)."""


class SecretCipher:
    def __init__(self, key: str) -> None:
        if not key:
            raise SecretsKeyMissing("SECRETS_ENCRYPTION_KEY is empty")
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(key.encode())
        self._aead = AESGCM(derived)

    def encrypt(self, plaintext: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), _AAD)
        return MARKER + base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")

    def decrypt(self, stored: str) -> str:
        """The plaintext of a stored value; a value without the marker is legacy plaintext."""
        if not is_encrypted(stored):
            return stored
        body = stored[len(MARKER) :]
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            return self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _AAD).decode()
        except (InvalidTag, ValueError) as exc:
            raise UnreadableSecret(
                "A stored node secret cannot be decrypted with SECRETS_ENCRYPTION_KEY: it was "
                "written with another key. Restore the previous key (see the data dir's "
                "secrets.json or your environment) or enter the node's API key and headers again."
            ) from exc


def is_encrypted(value: str) -> bool:
    return value.startswith(MARKER)


# One cipher per engine (keyed by its dialect object, which every statement of the engine
# carries); weak keys so disposed test engines do not pile up.
_ciphers: weakref.WeakKeyDictionary[Dialect, SecretCipher] = weakref.WeakKeyDictionary()


def use_cipher(engine: Engine, cipher: SecretCipher) -> None:
    """Encrypt and decrypt the node secret columns of `engine` with `cipher`."""
    _ciphers[engine.dialect] = cipher


def cipher_for(dialect: Dialect) -> SecretCipher | None:
    return _ciphers.get(dialect)


def _require(dialect: Dialect) -> SecretCipher:
    cipher = _ciphers.get(dialect)
    if cipher is None:
        raise SecretsKeyMissing(
            "This database engine has no secrets cipher: node API keys and header values are "
            "stored encrypted (maestro_app.db.secrets.use_cipher; the runtime sets it at start)"
        )
    return cipher


class EncryptedText(TypeDecorator[str]):
    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return _require(dialect).encrypt(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None or not is_encrypted(value):
            return value
        return _require(dialect).decrypt(value)


class EncryptedValuesJSON(TypeDecorator[dict[str, str]]):
    """A JSON object of strings whose values are encrypted (header names stay readable)."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: dict[str, Any] | None, dialect: Dialect) -> dict[str, str] | None:
        if not value:
            return value
        cipher = _require(dialect)
        return {str(k): cipher.encrypt(str(v)) for k, v in value.items()}

    def process_result_value(self, value: dict[str, Any] | None, dialect: Dialect) -> dict[str, str] | None:
        if not value:
            return value
        if not any(isinstance(v, str) and is_encrypted(v) for v in value.values()):
            return value
        cipher = _require(dialect)
        return {str(k): cipher.decrypt(str(v)) for k, v in value.items()}


def cipher_for_migration(dialect: Dialect) -> SecretCipher:
    """The engine's cipher (in-process migrations at start), else the one the settings give
    (`alembic upgrade` from the command line reads the same environment and data dir)."""
    cipher = cipher_for(dialect)
    if cipher is not None:
        return cipher
    from maestro_app.settings import load_settings  # only outside the runtime

    return SecretCipher(load_settings().secrets_encryption_key or "")
