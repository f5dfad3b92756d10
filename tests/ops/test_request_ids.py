"""Request ids: on every response, in every log line about the request (text or JSON), and on
the activity record."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from maestro_app.observability.logs import make_handler
from maestro_app.observability.request_ids import RequestIdMiddleware, RequestIds, _current
from tests.fakes.upstream import FakeModel
from tests.support import activity, add_node, add_user

OWN_ID = re.compile(r"^[0-9a-f]{32}$")
CHAT_BODY = {"model": "chat-m", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def json_log(caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    """The root logger also writes JSON lines (the LOG_FORMAT=json handler) into a buffer."""
    caplog.set_level(logging.INFO)
    buffer = io.StringIO()
    handler = make_handler("json", stream=buffer)
    logging.getLogger().addHandler(handler)
    yield buffer
    logging.getLogger().removeHandler(handler)


def _lines(buffer: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def test_every_response_carries_an_id(gateway, upstream_factory):
    fake = upstream_factory([FakeModel("chat-m")])
    add_node(gateway, fake, name="n", node_type="vllm")
    user = gateway.client(add_user(gateway))
    anon = gateway.client()
    responses = {
        "chat": user.post("/v1/chat/completions", json=CHAT_BODY),
        "stream": user.post("/v1/chat/completions", json=dict(CHAT_BODY, stream=True)),
        "ollama": user.post("/api/chat", json=dict(CHAT_BODY, stream=False)),
        "no token": anon.post("/v1/chat/completions", json=CHAT_BODY),
        "ollama no token": anon.post("/api/chat", json=CHAT_BODY),
        "unknown model": user.post("/v1/chat/completions", json=dict(CHAT_BODY, model="node:zz:x")),
        "unknown path": user.get("/v1/nothing-here"),
        "catalog": user.get("/v1/models"),
        "admin": gateway.admin.get("/admin/users"),
        "admin wrong token": gateway.client("wrong").get("/admin/users"),
        "admin bad body": gateway.admin.post("/admin/users", json={"username": 5}),
        "health": anon.get("/health"),
        "ready": anon.get("/health/ready"),
        "metrics": anon.get("/metrics"),
    }
    statuses = {name: resp.status_code for name, resp in responses.items()}
    assert statuses == {
        "chat": 200,
        "stream": 200,
        "ollama": 200,
        "no token": 401,
        "ollama no token": 401,
        "unknown model": 404,
        "unknown path": 404,
        "catalog": 200,
        "admin": 200,
        "admin wrong token": 403,
        "admin bad body": 422,
        "health": 200,
        "ready": 200,
        "metrics": 200,
    }
    ids = {name: resp.headers.get("x-request-id", "") for name, resp in responses.items()}
    assert all(OWN_ID.match(i) for i in ids.values()), ids
    assert len(set(ids.values())) == len(ids)
    assert all(len(resp.headers.get_list("x-request-id")) == 1 for resp in responses.values())
    recorded = {r["request_id"] for r in activity(gateway)}
    assert {ids["chat"], ids["stream"], ids["ollama"], ids["unknown model"]} <= recorded


def test_client_id_is_echoed_logged_and_stored(gateway_factory, upstream_factory, json_log):
    live = gateway_factory(log_requests=True)
    broken = upstream_factory([FakeModel("chat-m")])
    working = upstream_factory([FakeModel("chat-m")])
    add_node(live, broken, name="broken", node_type="vllm", priority=10)
    add_node(live, working, name="working", node_type="vllm", priority=1)
    client = live.client(add_user(live))

    broken.fail_next("reset")  # the first node drops the connection: a warning, then failover
    resp = client.post("/v1/chat/completions", json=CHAT_BODY, headers={"X-Request-ID": "trace-7f3a/b:01"})
    assert resp.status_code == 200, resp.text
    assert resp.headers["x-request-id"] == "trace-7f3a/b:01"
    plain = client.post("/v1/chat/completions", json=CHAT_BODY)
    own = plain.headers["x-request-id"]
    assert OWN_ID.match(own)

    lines = _lines(json_log)
    about = [line for line in lines if line.get("request_id") == "trace-7f3a/b:01"]
    assert {line["logger"] for line in about} == {"maestro_app.gateway.pipeline", "maestro_app.requests"}
    warning = next(line for line in about if line["level"] == "WARNING")
    assert "broken" in str(warning["message"])
    access = next(line for line in about if line["logger"] == "maestro_app.requests")
    assert "model=chat-m node=working" in str(access["message"]) and "status=200" in str(access["message"])
    assert any(line.get("request_id") == own and line["logger"] == "maestro_app.requests" for line in lines)
    assert all(set(line) >= {"time", "level", "logger", "message"} for line in lines)

    records = {r["client_request_id"] or r["request_id"]: r for r in activity(live)}
    traced = records["trace-7f3a/b:01"]
    assert OWN_ID.match(traced["request_id"]) and traced["node"] == "working"
    assert records[own]["request_id"] == own and records[own]["client_request_id"] is None


def test_a_repeated_client_id_still_gives_two_records(gateway, upstream_factory):
    """The ledger is keyed by our own id, so a client repeating its id loses nothing."""
    add_node(gateway, upstream_factory([FakeModel("chat-m")]), name="n", node_type="vllm")
    client = gateway.client(add_user(gateway))
    for _ in range(2):
        resp = client.post("/v1/chat/completions", json=CHAT_BODY, headers={"X-Request-ID": "same-id"})
        assert resp.headers["x-request-id"] == "same-id"
    records = activity(gateway)
    assert [r["client_request_id"] for r in records] == ["same-id", "same-id"]
    assert len({r["request_id"] for r in records}) == 2


@pytest.mark.parametrize("sent", ["has space", "x" * 129, "bad\tid", "é-accent"])
def test_an_unusable_client_id_is_replaced(gateway, sent):
    resp = httpx.get(gateway.url + "/health", headers={"X-Request-ID": sent.encode("utf-8")})
    assert OWN_ID.match(resp.headers["x-request-id"])


def test_text_lines_carry_the_id():
    buffer = io.StringIO()
    logger = logging.getLogger("tests.ops.text")
    logger.addHandler(make_handler("text", stream=buffer))
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.info("outside")
    token = _current.set(RequestIds("a" * 32, "client-1"))
    try:
        logger.info("inside")
    finally:
        _current.reset(token)
    outside, inside = buffer.getvalue().splitlines()
    assert outside.endswith("INFO tests.ops.text [-]: outside")
    assert inside.endswith("INFO tests.ops.text [client-1]: inside")


@pytest.mark.asyncio
async def test_an_unhandled_error_still_answers_with_the_id():
    async def boom(request):  # type: ignore[no-untyped-def]
        raise RuntimeError("bug")

    app = RequestIdMiddleware(Starlette(routes=[Route("/boom", boom)]))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        resp = await client.get("/boom", headers={"X-Request-ID": "err-1"})
    assert resp.status_code == 500 and resp.headers["x-request-id"] == "err-1"
