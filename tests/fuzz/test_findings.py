"""What the fuzz tests (tests/fuzz) found, pinned down as plain regression tests."""

from __future__ import annotations

from typing import Any

import orjson
from sqlmodel import Session, col, select

from maestro_app.db.models import ActivityRecord, utcnow
from maestro_app.stores.ledger import fit_record
from tests.conftest import LiveGateway
from tests.fakes.upstream import FakeUpstream
from tests.support import add_node, add_user


def _records(live: LiveGateway) -> list[ActivityRecord]:
    live.flush_activity()
    with Session(live.runtime.engine) as session:
        return list(session.exec(select(ActivityRecord).order_by(col(ActivityRecord.id))).all())


def test_stream_null_is_the_dialects_default(gateway: LiveGateway, upstream_factory: Any) -> None:
    """`"stream": null` streams on Ollama endpoints and does not on OpenAI ones, on either
    kind of node (it was read as "no stream" while the node streamed: 502)."""
    fake: FakeUpstream = upstream_factory(["llama3:latest"])
    add_node(gateway, fake, name="ol", code="ol")
    add_node(gateway, fake, name="vl", code="vl", node_type="vllm")
    client = gateway.client(add_user(gateway))
    chat = [{"role": "user", "content": "hi"}]
    for node in ("ol", "vl"):
        model = f"node:{node}:llama3"
        ollama = client.post("/api/chat", json={"model": model, "messages": chat, "stream": None})
        assert ollama.status_code == 200, ollama.text
        assert ollama.headers["content-type"].startswith("application/x-ndjson")
        assert orjson.loads(ollama.text.splitlines()[-1])["done"] is True
        openai = client.post("/v1/chat/completions", json={"model": model, "messages": chat, "stream": None})
        assert openai.status_code == 200, openai.text
        assert openai.json()["choices"][0]["message"]["content"]
    assert [r.status_code for r in _records(gateway)] == [200, 200, 200, 200]


def test_overlong_model_name_is_refused_without_a_record(gateway: LiveGateway) -> None:
    client = gateway.client(add_user(gateway))
    resp = client.post("/api/generate", json={"model": "m" * 257, "prompt": "x"})
    assert resp.status_code == 400
    assert "at most 256 characters" in resp.json()["error"]
    assert _records(gateway) == []


def test_a_record_the_database_would_refuse_no_longer_blocks_the_ledger(gateway: LiveGateway) -> None:
    """A record with text longer than its column and NUL characters (PostgreSQL refuses both)
    is stored fitted, and the records after it are stored too."""
    base = {
        "user_id": None,
        "username": "u\x00" * 100,
        "model": "m" * 300,
        "endpoint": "/api/chat",
        "status_code": 404,
        "error": "no \x00 such \ud800 model",
        "prompt_tokens": 2**40,
        "completion_tokens": 0,
        "total_tokens": 0,
    }
    gateway.run(gateway.runtime.ledger.append({**base, "request_id": "a" * 32, "created_at": utcnow()}))
    gateway.run(
        gateway.runtime.ledger.append({**base, "request_id": "b" * 32, "model": "ok", "created_at": utcnow()})
    )
    first, second = _records(gateway)
    assert (first.model, len(first.username or "")) == ("m" * 256, 128)
    assert first.error == "no \ufffd such ? model" and first.prompt_tokens == 2**31 - 1
    assert second.model == "ok"


def test_fit_record_keeps_what_fits() -> None:
    record = {"request_id": "r1", "model": "llama3", "status_code": 200, "stream": True, "duration_ms": 1.5}
    assert fit_record(record) is record  # nothing to fit: not even copied (every request asks)


def test_fit_record_fits_a_copy() -> None:
    record = {
        "request_id": "r1",
        "model": "m" * 300,
        "error": "a\x00b",
        "prompt_tokens": 2**40,
        "stream": True,
    }
    given = dict(record)
    fitted = fit_record(record)
    assert record == given  # the caller's record is left as it was
    assert fitted == {**given, "model": "m" * 256, "error": "a\ufffdb", "prompt_tokens": 2**31 - 1}


def test_unicode_digits_are_names_not_ids(gateway: LiveGateway) -> None:
    """`"³".isdigit()` is true but `int("³")` fails: a path reference of such digits was a 500."""
    admin = gateway.admin
    for path in ("/admin/model-config/³", "/admin/model-mappings/³", "/admin/model-config/١"):
        assert admin.get(path).status_code == 404, path
        assert admin.put(path, json={"description": "x"}).status_code == 404, path
        assert admin.delete(path).status_code == 404, path


def test_text_length_counts_what_was_sent(gateway: LiveGateway) -> None:
    """maxLength in the OpenAPI document counts the text as sent; it used to be counted after
    trimming, so text the document calls too long was accepted."""
    admin = gateway.admin
    padded = " " * 4 + "a" * 256
    assert admin.post("/admin/model-config", json={"model_prefix": padded}).status_code == 422
    assert admin.post("/admin/tool-sets", json={"name": " " + "t" * 128, "tools": None}).status_code == 422
    blank = admin.post("/admin/model-groups", json={"name": "   "})
    assert blank.status_code == 422 and "must not be blank" in blank.text
    trimmed = admin.post("/admin/model-config", json={"model_prefix": "  Qwen  "})
    assert trimmed.status_code == 201 and trimmed.json()["model_prefix"] == "qwen"
