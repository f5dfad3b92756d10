"""Hypothesis-generated requests against the gateway endpoints, over a real socket.

Bodies of every shape (plausible requests with random field values, any JSON, bytes that
are not UTF-8, truncated JSON, strings past the body limit) under random content types go
to the six inference endpoints of a gateway with a fake Ollama node and a fake vLLM node.
After every request:

- the answer is never a 5xx (the nodes behave; anything 5xx is the gateway's fault);
- the activity log holds at most one new record, and it agrees with the answer (rules of
  docs/ARCHITECTURE.md "Limits and the ledger"): a request refused by the body checks leaves
  none; one refused after routing (unknown model, allowlist, limits) leaves one with its
  status and zero tokens; a 200 leaves one with status 200 and the node's counts;
- at the end the gateway still serves, its ledger flusher is alive, and the day's limit
  counters equal the ledger (nothing charged for refused requests).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import Session, col, select

from maestro_app.db.models import ActivityRecord
from maestro_app.services.usage_counters import usage_today
from maestro_app.stores.limits import utc_day
from tests.conftest import LiveGateway
from tests.fakes.upstream import FakeModel, FakeUpstream
from tests.fuzz.bounds import FUZZ_BACKEND, FUZZ_SEED, bounded
from tests.support import add_node, add_user, set_settings, wait_for

FUZZ_EXAMPLES = int(os.environ.get("MAESTRO_FUZZ_GATEWAY_EXAMPLES", "300"))
MAX_BODY = 64 * 1024

ENDPOINTS = {
    "/v1/chat/completions": "messages",
    "/v1/completions": "prompt",
    "/v1/embeddings": "input",
    "/api/chat": "messages",
    "/api/generate": "prompt",
    "/api/embed": "input",
}
MODELS = [
    "llama3",
    "llama3:latest",
    "embedder",
    "node:ol:llama3",
    "node:vl:llama3",
    "unknown-model",
    "denied",
]
FIELDS = [
    "stream",
    "options",
    "tools",
    "max_tokens",
    "temperature",
    "stream_options",
    "images",
    "format",
    "keep_alive",
    "system",
    "suffix",
    "n",
    "think",
    "tool_choice",
    "response_format",
    "top_p",
    "encoding_format",
    "truncate",
    "raw",
    "template",
]
# Bodies no JSON encoder writes: numbers past 64 bits, lone surrogates, NUL, deep nesting.
ODD_BODIES = [
    b'{"model": "llama3", "messages": [{"role": "user", "content": "x"}], "max_tokens": 1e999}',
    b'{"model": "llama3", "prompt": "x", "max_tokens": 123456789012345678901234567890}',
    b'{"model": "\\ud800", "messages": [{"role": "user", "content": "\\udfff"}]}',
    b'{"model": "llama3\\u0000x", "prompt": "a\\u0000b", "input": "\\u0000"}',
    b'{"model": "llama3", "messages": [{"role": "user", "content": "hi"}], "options": {"num_ctx": -1}}',
    b'{"model": "llama3", "model": 5}',
    b'{"model": "llama3", "prompt": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    b"\xef\xbb\xbf{}",
]
CONTENT_TYPES = [
    "application/json",
    None,
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
    "application/json; charset=latin-1",
    "application/x-ndjson",
]

scalars = st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats() | st.text(max_size=30)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
content_parts = st.lists(
    st.fixed_dictionaries(
        {"type": st.sampled_from(["text", "image_url", "input_audio", "tool_result"])},
        optional={"text": json_values, "image_url": json_values},
    ),
    max_size=3,
)
messages = st.lists(
    st.fixed_dictionaries(
        {"role": st.sampled_from(["user", "system", "assistant", "tool", "developer"]) | json_values},
        optional={
            "content": st.text(max_size=60) | content_parts | json_values,
            "images": json_values,
            "tool_calls": json_values,
            "name": json_values,
        },
    ),
    max_size=4,
)


@st.composite
def plausible_body(draw: st.DrawFn, main_field: str) -> dict[str, Any]:
    """A request that looks right at first sight: a model, its main field, a few more."""
    body: dict[str, Any] = {}
    if draw(st.integers(0, 9)):  # sometimes no model at all
        body["model"] = draw(st.sampled_from(MODELS) | st.text(max_size=20) | json_values)
    if draw(st.integers(0, 5)):
        main = (
            messages
            if main_field == "messages"
            else st.text(max_size=80) | st.lists(st.text(max_size=20), max_size=3)
        )
        body[main_field] = draw(main | json_values)
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=4, unique=True)):
        body[name] = draw(st.booleans() if name == "stream" and draw(st.booleans()) else json_values)
    return body


@dataclass(frozen=True)
class Probe:
    path: str
    body: bytes
    content_type: str | None
    user: str = "fuzzer"

    def __repr__(self) -> str:  # short, for Hypothesis's falsifying example
        body = self.body[:300] + (b"..." if len(self.body) > 300 else b"")
        return f"Probe({self.path!r}, {body!r}, {self.content_type!r}, user={self.user!r})"


def _dump(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


@st.composite
def probes(draw: st.DrawFn) -> Probe:
    path = draw(st.sampled_from(sorted(ENDPOINTS)))
    kind = draw(
        st.sampled_from(["plausible", "plausible", "plausible", "json", "bytes", "truncated", "huge"])
    )
    if kind == "json":
        body = _dump(draw(json_values))
    elif kind == "bytes":
        body = draw(st.binary(max_size=200))
    else:
        plausible = draw(plausible_body(ENDPOINTS[path]))
        if kind == "huge":
            size = draw(st.sampled_from([MAX_BODY // 2, MAX_BODY + 1, 3 * MAX_BODY]))
            plausible[draw(st.sampled_from(["model", ENDPOINTS[path], "system", "x"]))] = "é" * (size // 2)
        body = _dump(plausible)
        if kind == "truncated" and body:
            body = body[: draw(st.integers(0, len(body) - 1))]
    user = draw(st.sampled_from(["fuzzer"] * 5 + ["capped"]))
    return Probe(path, body, draw(st.sampled_from(CONTENT_TYPES)), user)


@pytest.fixture
def fuzzed(
    gateway: LiveGateway, upstream_factory: Any
) -> Iterator[tuple[LiveGateway, dict[str, httpx.Client]]]:
    """The gateway with an Ollama and a vLLM node (one fake), a user with an allowlist and a
    user whose daily request limit is 0 (every request it routes is refused with 429)."""
    fake: FakeUpstream = upstream_factory(
        [FakeModel("llama3:latest"), FakeModel("embedder", capabilities=["embedding"])],
        record=False,
        chunks=3,
    )
    add_node(gateway, fake, name="ol", code="ol")
    add_node(gateway, fake, name="vl", code="vl", node_type="vllm")
    set_settings(gateway, max_body_bytes=MAX_BODY)
    tokens = {
        "fuzzer": add_user(
            gateway, "fuzzer", all_models=False, allowed_models=MODELS[:5] + ["unknown-model"]
        ),
        "capped": add_user(gateway, "capped", request_limit=0),
    }
    yield gateway, {user: gateway.client(token) for user, token in tokens.items()}


def _new_records(live: LiveGateway, after: int) -> list[ActivityRecord]:
    live.flush_activity()
    with Session(live.runtime.engine) as session:
        statement = (
            select(ActivityRecord).where(col(ActivityRecord.id) > after).order_by(col(ActivityRecord.id))
        )
        return list(session.exec(statement).all())


def told_usage(resp: httpx.Response) -> tuple[int, int] | None:
    """The token counts the answer gave the client (OpenAI `usage`, Ollama
    `prompt_eval_count`/`eval_count`; for a stream, its last chunk that has them)."""
    kind = resp.headers.get("content-type", "")
    if "event-stream" in kind:
        chunks = [line[6:] for line in resp.text.splitlines() if line.startswith("data: {")]
    elif "ndjson" in kind:
        chunks = [line for line in resp.text.splitlines() if line.strip()]
    else:
        chunks = [resp.text]
    told = None
    for chunk in chunks:
        obj = orjson.loads(chunk)
        usage = obj.get("usage") if isinstance(obj, dict) else None
        if isinstance(usage, dict):
            told = (usage.get("prompt_tokens") or 0, usage.get("completion_tokens") or 0)
        elif isinstance(obj, dict) and ("prompt_eval_count" in obj or "eval_count" in obj):
            told = (obj.get("prompt_eval_count") or 0, obj.get("eval_count") or 0)
    return told


def _check_records(probe: Probe, resp: httpx.Response, records: list[ActivityRecord]) -> None:
    status = resp.status_code
    where = f"{probe!r} -> {status} {resp.text[:300]!r}"
    assert len(records) <= 1, f"{len(records)} records for one request: {where}"
    if not records:
        assert 400 <= status < 500, f"answered {status} without an activity record: {where}"
        return
    record = records[0]
    assert record.status_code == status, f"recorded {record.status_code}: {where}"
    assert record.total_tokens == record.prompt_tokens + record.completion_tokens, where
    assert min(record.prompt_tokens, record.completion_tokens) >= 0, where
    if status >= 400:
        assert (record.prompt_tokens, record.completion_tokens) == (0, 0), f"tokens for a refusal: {where}"
        assert record.error, where
        return
    assert not record.error, where
    told = told_usage(resp)
    if told is not None:
        counted = (record.prompt_tokens, record.completion_tokens)
        assert counted == told, f"recorded {counted}, told {told}: {where}"


def _stored_after(live: LiveGateway, after: int) -> int:
    with Session(live.runtime.engine) as session:
        return len(session.exec(select(ActivityRecord.id).where(col(ActivityRecord.id) > after)).all())


def _last_id(live: LiveGateway) -> int:
    with Session(live.runtime.engine) as session:
        return max(session.exec(select(ActivityRecord.id)).all(), default=None) or 0


@pytest.mark.parametrize("database_url", [FUZZ_BACKEND], indirect=True)
def test_gateway_survives_any_body(fuzzed: tuple[LiveGateway, dict[str, httpx.Client]]) -> None:
    live, clients = fuzzed
    client = clients["fuzzer"]
    state = {"last": _last_id(live)}

    def exercise(probe: Probe) -> None:
        headers = {"Content-Type": probe.content_type} if probe.content_type else {}
        resp = clients[probe.user].post(probe.path, content=probe.body, headers=headers)
        records = _new_records(live, state["last"])
        if records:  # before any assertion: the next request starts after these
            state["last"] = records[-1].id or state["last"]
        assert resp.status_code < 500, f"seed {FUZZ_SEED}: {probe!r} -> {resp.status_code} {resp.text[:500]}"
        _check_records(probe, resp, records)

    for path in sorted(ENDPOINTS):
        for body in ODD_BODIES:
            exercise(Probe(path, body, "application/json"))

    @bounded(FUZZ_EXAMPLES)
    @given(probe=probes())
    def run(probe: Probe) -> None:
        exercise(probe)

    run()
    # Still serving, the flusher still running, and nothing charged for refusals.
    ok = client.post(
        "/api/chat",
        json={"model": "llama3", "messages": [{"role": "user", "content": "hi"}], "stream": False},
    )
    assert ok.status_code == 200, ok.text
    assert client.get("/health/ready").status_code == 200
    # The flusher's own loop (not a flush of ours) stores the record: it is alive.
    assert wait_for(lambda: _stored_after(live, state["last"]), timeout=10) == 1
    with Session(live.runtime.engine) as session:
        ledger = {u: (n, t) for u, n, t in usage_today(session, day=utc_day(live.runtime.limits.clock()))}
    for user in clients:
        user_id = live.admin.get(f"/admin/users/{user}").json()["id"]
        counted = live.run(live.runtime.limits.usage(user_id))
        assert counted == ledger.get(user_id, (0, 0)), f"{user}: the limit counters and the ledger disagree"
