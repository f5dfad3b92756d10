"""Settings: embedded defaults need nothing; prod refuses weak secrets."""

from __future__ import annotations

import json
import logging
import stat

import pytest

from maestro_app.settings import WeakSecretError, load_settings

STRONG = {
    "jwt_secret_key": "k" * 20 + "Q9v_7s-Lm2xP0aZr8TtYbWc",
    "admin_token": "tok-8fJ2kLm9QxZ7pWv3RtYb0cNd",
    "admin_password": "pw-Zq8Lm3xT9vR2",
    "secrets_encryption_key": "enc-Vt3Lq9Zx2Rw7Mk4Pn8Jd6Hs1Fa5Gc0Yb",
}


def test_embedded_mode_generates_and_keeps_secrets(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    first = load_settings(maestro_data_dir=tmp_path)
    assert first.jwt_secret_key and first.admin_token and first.admin_password
    assert first.secrets_encryption_key and len(first.secrets_encryption_key) >= 32
    assert "admin credentials (shown once)" in caplog.text
    assert first.admin_password in caplog.text
    stored = tmp_path / "secrets.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert json.loads(stored.read_text())["admin_token"] == first.admin_token

    caplog.clear()
    second = load_settings(maestro_data_dir=tmp_path)
    assert (second.jwt_secret_key, second.admin_token) == (first.jwt_secret_key, first.admin_token)
    assert second.secrets_encryption_key == first.secrets_encryption_key
    assert "shown once" not in caplog.text
    assert second.db_url == f"sqlite:///{(tmp_path / 'maestro.db').resolve()}"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("jwt_secret_key", None),
        ("jwt_secret_key", "change-this-secret-key-in-production-please"),
        ("admin_token", "short"),
        ("admin_password", "admin"),
        ("admin_password", "changeme-changeme"),
        ("secrets_encryption_key", None),
        ("secrets_encryption_key", "too-short-key"),
    ],
)
def test_prod_refuses_weak_or_missing_secrets(tmp_path, field, value):
    values = dict(STRONG, **{field: value})
    with pytest.raises(WeakSecretError) as info:
        load_settings(maestro_data_dir=tmp_path, maestro_env="prod", **values)
    assert field.upper() in str(info.value)
    assert "refuses to start" in str(info.value)
    assert not (tmp_path / "secrets.json").exists()


def test_prod_accepts_strong_secrets(tmp_path):
    settings = load_settings(maestro_data_dir=tmp_path, maestro_env="prod", **STRONG)
    assert settings.is_prod and settings.admin_token == STRONG["admin_token"]


def test_environment_variables_are_read(tmp_path, monkeypatch):
    monkeypatch.setenv("MAESTRO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("ADMIN_USERNAME", "root-admin")
    settings = load_settings()
    assert settings.db_url == "postgresql+psycopg://u@h/db"
    assert settings.admin_username == "root-admin"
