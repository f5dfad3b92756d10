"""Scaled mode refuses set-ups whose processes would not share what they must."""

from __future__ import annotations

import pytest

from maestro_app.settings import ScaledModeError, load_settings

SECRETS = {
    "jwt_secret_key": "k" * 20 + "Q9v_7s-Lm2xP0aZr8TtYbWc",
    "admin_token": "tok-8fJ2kLm9QxZ7pWv3RtYb0cNd",
    "admin_password": "pw-Zq8Lm3xT9vR2",
}


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_redis_without_explicit_secrets_is_refused(tmp_path, missing):
    values = {k: v for k, v in SECRETS.items() if k != missing}
    with pytest.raises(ScaledModeError) as info:
        load_settings(maestro_data_dir=tmp_path, redis_url="redis://127.0.0.1:6379/0", **values)
    assert missing.upper() in str(info.value)
    assert not (tmp_path / "secrets.json").exists()  # nothing generated per replica


def test_redis_with_explicit_secrets_starts(tmp_path, monkeypatch):
    monkeypatch.setenv("GRANIAN_WORKERS", "4")
    settings = load_settings(maestro_data_dir=tmp_path, redis_url="redis://127.0.0.1:6379/0", **SECRETS)
    assert settings.redis_url and settings.admin_token == SECRETS["admin_token"]


def test_several_workers_without_redis_are_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("GRANIAN_WORKERS", "2")
    with pytest.raises(ScaledModeError, match="GRANIAN_WORKERS=2 needs REDIS_URL"):
        load_settings(maestro_data_dir=tmp_path)
    monkeypatch.setenv("GRANIAN_WORKERS", "1")
    assert load_settings(maestro_data_dir=tmp_path).redis_url is None


def test_reflex_state_in_redis_without_ours_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("REFLEX_REDIS_URL", "redis://127.0.0.1:6379/1")
    with pytest.raises(ScaledModeError, match="REFLEX_REDIS_URL"):
        load_settings(maestro_data_dir=tmp_path)
