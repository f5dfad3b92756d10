"""Node API keys and header values: encrypted in the database, masked when shown, decrypted
into the routing snapshot so the gateway still sends them upstream."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import StatementError
from sqlmodel import Session, select

from alembic import command
from maestro_app.db.engine import alembic_config, make_engine
from maestro_app.db.models import Node
from maestro_app.db.secrets import MARKER, SecretCipher, SecretsKeyMissing, UnreadableSecret, use_cipher
from tests.fakes.upstream import FakeModel
from tests.support import add_node, add_user

API_KEY = "sk-node-secret-0123456789"
HEADER_VALUE = "tenant-secret-value-42"
ROOT = Path(__file__).resolve().parents[2]


def _raw_nodes(engine: sa.Engine) -> list[tuple[str | None, str]]:
    """`api_key` and `headers` exactly as stored (JSON as text), bypassing the column types."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT api_key, CAST(headers AS TEXT) FROM nodes ORDER BY id")).all()
    return [(r[0], r[1]) for r in rows]


def _database_text(engine: sa.Engine, database_url: str) -> str:
    """Everything the database holds that could carry a secret: nodes, audit records and, on
    SQLite, the raw bytes of the file and its write-ahead log."""
    with engine.connect() as conn:
        parts = [str(row) for row in conn.execute(sa.text("SELECT * FROM nodes"))]
        parts += [str(row) for row in conn.execute(sa.text("SELECT * FROM audit_records"))]
    if database_url.startswith("sqlite"):
        path = Path(database_url.removeprefix("sqlite:///"))
        for file in (path, path.with_name(path.name + "-wal")):
            if file.exists():
                parts.append(file.read_bytes().decode("latin-1"))
    return "\n".join(parts)


def test_stored_encrypted_sent_in_clear_shown_masked(gateway, upstream_factory, database_url):
    fake = upstream_factory([FakeModel("chat-m")], api_key=API_KEY)
    node = add_node(  # its discovery already needs the key: the jobs read it decrypted too
        gateway, fake, name="locked", node_type="vllm", api_key=API_KEY, headers={"X-Tenant": HEADER_VALUE}
    )

    [(api_key, headers)] = _raw_nodes(gateway.runtime.engine)
    assert api_key is not None and api_key.startswith(MARKER) and API_KEY not in api_key
    assert '"X-Tenant"' in headers and MARKER in headers and HEADER_VALUE not in headers
    stored = _database_text(gateway.runtime.engine, database_url)
    assert API_KEY not in stored and HEADER_VALUE not in stored

    resp = gateway.client(add_user(gateway)).post(
        "/v1/chat/completions", json={"model": "chat-m", "messages": [{"role": "user", "content": "hi"}]}
    )
    assert resp.status_code == 200, resp.text
    sent = fake.requests[-1]
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {API_KEY}"
    assert sent.headers["x-tenant"] == HEADER_VALUE

    for shown in (node, gateway.admin.get(f"/admin/nodes/{node['id']}").json()):
        assert shown["api_key"] == "sk-…6789"
        assert shown["headers"] == {"X-Tenant": "ten…e-42"}
    listed = gateway.admin.get("/admin/nodes").json()["items"]
    assert [(n["api_key"], n["headers"]) for n in listed] == [("sk-…6789", {"X-Tenant": "ten…e-42"})]


def test_a_new_key_is_encrypted_and_used(gateway, upstream_factory):
    fake = upstream_factory([FakeModel("chat-m")], api_key=API_KEY)
    node = add_node(gateway, fake, name="n", node_type="vllm", api_key=API_KEY)
    before = _raw_nodes(gateway.runtime.engine)[0][0]

    # The masked form sent back keeps the stored key: the column is not even rewritten.
    kept = gateway.admin.patch(f"/admin/nodes/{node['id']}", json={"api_key": "sk-…6789", "weight": 2})
    assert kept.status_code == 200 and kept.json()["api_key"] == "sk-…6789"
    assert _raw_nodes(gateway.runtime.engine)[0][0] == before

    new_key = "sk-rotated-key-abcdefghij"
    fake.api_key = new_key
    changed = gateway.admin.patch(f"/admin/nodes/{node['id']}", json={"api_key": new_key})
    assert changed.status_code == 200 and changed.json()["api_key"] == "sk-…ghij"
    [(api_key, _)] = _raw_nodes(gateway.runtime.engine)
    assert api_key is not None and api_key.startswith(MARKER) and new_key not in api_key
    resp = gateway.client(add_user(gateway)).post(
        "/v1/chat/completions", json={"model": "chat-m", "messages": [{"role": "user", "content": "hi"}]}
    )
    assert resp.status_code == 200, resp.text
    assert fake.requests[-1].headers["authorization"] == f"Bearer {new_key}"


def test_another_key_refuses_to_start(gateway_factory, upstream_factory):
    live = gateway_factory()
    add_node(live, upstream_factory(["m"]), name="n", api_key=API_KEY, discover=False)
    live.stop()
    with pytest.raises(UnreadableSecret, match="SECRETS_ENCRYPTION_KEY"):
        gateway_factory(secrets_encryption_key="another-key-" + "z" * 32)


def test_an_engine_without_cipher_stores_no_secret(database_url):
    engine = make_engine(database_url)
    try:
        with Session(engine) as session, pytest.raises(StatementError) as info:
            session.add(Node(name="plain", base_url="http://127.0.0.1:9", api_key=API_KEY))
            session.commit()
        assert isinstance(info.value.orig, SecretsKeyMissing)
        assert _raw_nodes(engine) == []
    finally:
        engine.dispose()


def test_migration_encrypts_plaintext_rows(database_url, tmp_path):
    """Rows written before 0004 (plaintext) are encrypted by it, also when `alembic upgrade`
    runs from the command line with the key in the environment."""
    key = "migration-test-key-" + "m" * 24
    engine = make_engine(database_url)
    use_cipher(engine, SecretCipher(key))
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0004_encrypt_secrets-1")
        headers_param = "CAST(:headers AS JSON)" if engine.dialect.name == "postgresql" else ":headers"
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO nodes (name, base_url, node_type, api_key, headers, priority, weight,"
                    " is_active, warmup_enabled, health_status, consecutive_failures, created_at, updated_at)"
                    f" VALUES ('old', 'http://127.0.0.1:9', 'vllm', :key, {headers_param}, 0, 1, true, false,"
                    " 'unknown', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"key": API_KEY, "headers": f'{{"X-Tenant": "{HEADER_VALUE}"}}'},
            )
        assert _raw_nodes(engine) == [(API_KEY, f'{{"X-Tenant": "{HEADER_VALUE}"}}')]

        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "MAESTRO_DATA_DIR": str(tmp_path / "data"),
            "SECRETS_ENCRYPTION_KEY": key,
        }
        upgraded = subprocess.run(
            [sys.executable, "-m", "alembic", "upgrade", "head"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            timeout=120,
        )
        assert upgraded.returncode == 0, upgraded.stderr.decode()[-2000:]

        [(api_key, headers)] = _raw_nodes(engine)
        assert api_key is not None and api_key.startswith(MARKER) and API_KEY not in api_key
        assert HEADER_VALUE not in headers and MARKER in headers
        with Session(engine) as session:
            node = session.exec(select(Node)).one()
            assert (node.api_key, node.headers) == (API_KEY, {"X-Tenant": HEADER_VALUE})
    finally:
        engine.dispose()


def test_cipher_round_trip_and_tampering():
    cipher = SecretCipher("unit-test-key-" + "k" * 24)
    sealed = cipher.encrypt(API_KEY)
    assert sealed.startswith(MARKER) and sealed != cipher.encrypt(API_KEY)
    assert cipher.decrypt(sealed) == API_KEY
    assert cipher.decrypt("legacy-plaintext") == "legacy-plaintext"
    # A plaintext that looks encrypted is still encrypted, and comes back as it was.
    assert cipher.decrypt(cipher.encrypt(MARKER + "abc")) == MARKER + "abc"
    tampered = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(UnreadableSecret):
        cipher.decrypt(tampered)
    with pytest.raises(UnreadableSecret):
        SecretCipher("another-key-" + "k" * 24).decrypt(sealed)
