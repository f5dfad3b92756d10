"""Errors on the Anthropic routes: Anthropic's shape and status, through the real SDK where
it can send the request; bad bodies change nothing."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx
import pytest

from tests.conftest import LiveGateway
from tests.fakes.upstream import FakeModel, FakeUpstream
from tests.support import activity, add_mapping, add_node, add_user

QUESTION = [{"role": "user", "content": "one two three"}]
BODY = {"model": "claude-sonnet", "max_tokens": 50, "messages": QUESTION}
HEADERS = {"anthropic-version": "2023-06-01"}


def sdk(gw: LiveGateway, token: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=gw.url, api_key=token, max_retries=0, timeout=10)


def assert_error(resp: httpx.Response, status: int, kind: str) -> str:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["type"] == "error" and body["error"]["type"] == kind
    assert set(body) == {"type", "error"} and set(body["error"]) == {"type", "message"}
    message: str = body["error"]["message"]
    assert message
    return message


@pytest.fixture(params=["ollama", "vllm"])
def node(request: pytest.FixtureRequest, gateway: LiveGateway, upstream_factory: Any) -> FakeUpstream:
    fake: FakeUpstream = upstream_factory([FakeModel("llama3:latest")])
    add_node(gateway, fake, name="node-1", node_type=request.param)
    add_mapping(gateway, "claude-sonnet", "llama3:latest")
    return fake


def test_unauthenticated(gateway: LiveGateway, node: FakeUpstream) -> None:
    add_user(gateway)
    for path in ("/v1/messages", "/anthropic/v1/messages", "/v1/messages/count_tokens"):
        message = assert_error(
            httpx.post(gateway.url + path, json=BODY, headers=HEADERS), 401, "authentication_error"
        )
        assert "x-api-key" in message
    with pytest.raises(anthropic.AuthenticationError) as bad_key:
        sdk(gateway, "not-a-token").messages.create(**BODY)  # type: ignore[arg-type]
    assert bad_key.value.status_code == 401
    assert bad_key.value.body == {
        "type": "error",
        "error": {"type": "authentication_error", "message": "Invalid API token"},
    }
    for path in ("/anthropic/v1/models", "/v1/models"):
        assert_error(httpx.get(gateway.url + path, headers=HEADERS), 401, "authentication_error")
    assert node.hits["/api/chat"] + node.hits["/v1/chat/completions"] == 0
    assert activity(gateway) == []


def test_model_not_allowed(gateway: LiveGateway, node: FakeUpstream) -> None:
    token = add_user(gateway, all_models=False, allowed_models=["something-else"])
    with pytest.raises(anthropic.PermissionDeniedError) as denied:
        sdk(gateway, token).messages.create(**BODY)  # type: ignore[arg-type]
    assert denied.value.status_code == 403
    assert denied.value.body["error"]["type"] == "permission_error"  # type: ignore[index]
    with pytest.raises(anthropic.PermissionDeniedError):
        sdk(gateway, token).messages.count_tokens(model="claude-sonnet", messages=QUESTION)  # type: ignore[arg-type]
    with pytest.raises(anthropic.NotFoundError):  # not in the user's catalog
        sdk(gateway, token).models.retrieve("claude-sonnet")
    assert node.hits["/api/chat"] + node.hits["/v1/chat/completions"] == 0


def test_request_limit(gateway: LiveGateway, node: FakeUpstream) -> None:
    token = add_user(gateway, request_limit=1)
    client = sdk(gateway, token)
    assert client.messages.create(**BODY).stop_reason == "end_turn"  # type: ignore[arg-type]
    for stream in (False, True):
        with pytest.raises(anthropic.RateLimitError) as limited:
            client.messages.create(**BODY, stream=stream)  # type: ignore[call-overload]
        assert limited.value.status_code == 429
        assert limited.value.body["error"]["type"] == "rate_limit_error"  # type: ignore[index]
        assert 0 < int(limited.value.response.headers["retry-after"]) <= 86400


BAD_BODIES: list[tuple[dict[str, Any], str]] = [
    ({"model": "claude-sonnet", "messages": QUESTION}, "max_tokens"),
    ({**BODY, "max_tokens": "many"}, "max_tokens"),
    ({**BODY, "max_tokens": 0}, "max_tokens"),
    ({**BODY, "messages": "hello"}, "messages"),
    ({**BODY, "messages": []}, "messages"),
    ({**BODY, "messages": ["hello"]}, "messages[0]"),
    ({**BODY, "messages": [{"role": "system", "content": "x"}]}, "messages[0].role"),
    ({**BODY, "messages": [{"role": "user", "content": 3}]}, "messages[0].content"),
    ({**BODY, "messages": [{"role": "user", "content": [{"text": "x"}]}]}, "messages[0].content[0].type"),
    ({**BODY, "messages": [{"role": "user", "content": [{"type": "text"}]}]}, "messages[0].content[0].text"),
    (
        {
            **BODY,
            "messages": [{"role": "assistant", "content": [{"type": "tool_result", "tool_use_id": "t"}]}],
        },
        "not allowed in a assistant message",
    ),
    (
        {
            **BODY,
            "messages": [
                {"role": "user", "content": [{"type": "image", "source": {"type": "file", "file_id": "f"}}]}
            ],
        },
        "source.type",
    ),
    (
        {
            **BODY,
            "messages": [
                {
                    "role": "user",
                    "content": [{"type": "document", "source": {"type": "base64", "data": "JVBERi0="}}],
                }
            ],
        },
        "source.type",
    ),
    ({**BODY, "model": 5}, "model"),
    ({**BODY, "model": " "}, "model"),
    ({**BODY, "system": 5}, "system"),
    ({**BODY, "system": [{"type": "image"}]}, "system[0].type"),
    ({**BODY, "temperature": "hot"}, "temperature"),
    ({**BODY, "top_k": 1.5}, "top_k"),
    ({**BODY, "stop_sequences": "END"}, "stop_sequences"),
    ({**BODY, "stream": "yes"}, "stream"),
    ({**BODY, "tools": [{"name": "f"}]}, "tools[0].input_schema"),
    ({**BODY, "tools": {"name": "f"}}, "tools"),
    ({**BODY, "tool_choice": {"type": "sometimes"}}, "tool_choice.type"),
    ({**BODY, "tool_choice": {"type": "tool"}}, "tool_choice.name"),
    ({**BODY, "thinking": {"type": "enabled"}}, "thinking.budget_tokens"),
    ({**BODY, "output_config": {"format": {"type": "json_schema"}}}, "output_config.format.schema"),
]


def test_bad_bodies_get_400_and_change_nothing(gateway: LiveGateway, node: FakeUpstream) -> None:
    token = add_user(gateway, request_limit=1)
    headers = {**HEADERS, "x-api-key": token}
    for body, field in BAD_BODIES:
        message = assert_error(
            httpx.post(gateway.url + "/v1/messages", json=body, headers=headers), 400, "invalid_request_error"
        )
        assert field in message, (body, message)
    for raw in (b"not json", b"[1, 2]", b""):
        resp = httpx.post(gateway.url + "/anthropic/v1/messages", content=raw, headers=headers)
        assert_error(resp, 400, "invalid_request_error")
    count = httpx.post(
        gateway.url + "/v1/messages/count_tokens", json={"model": "claude-sonnet"}, headers=headers
    )
    assert "messages" in assert_error(count, 400, "invalid_request_error")
    assert node.hits["/api/chat"] + node.hits["/v1/chat/completions"] == 0
    assert activity(gateway) == []
    # Nothing was charged: the one request of the day is still there.
    assert sdk(gateway, token).messages.create(**BODY).stop_reason == "end_turn"  # type: ignore[arg-type]


def test_node_errors_and_maintenance(gateway: LiveGateway, node: FakeUpstream) -> None:
    client = sdk(gateway, add_user(gateway))
    with pytest.raises(anthropic.NotFoundError) as unknown:
        client.messages.create(**{**BODY, "model": "no-such-model"})  # type: ignore[arg-type]
    assert unknown.value.body["error"]["type"] == "not_found_error"  # type: ignore[index]
    assert "no-such-model" in unknown.value.body["error"]["message"]  # type: ignore[index]

    node.fail_next("status", status=500, times=10)
    with pytest.raises(anthropic.InternalServerError) as failed:
        client.messages.create(**BODY)  # type: ignore[arg-type]
    assert failed.value.status_code == 502 and failed.value.body["error"]["type"] == "api_error"  # type: ignore[index]
    node.clear_failures()

    resp = gateway.admin.post(
        "/admin/model-config", json={"model_prefix": "claude", "maintenance_mode": True}
    )
    assert resp.status_code == 201, resp.text
    with pytest.raises(anthropic.InternalServerError) as maintenance:
        client.messages.create(**BODY)  # type: ignore[arg-type]
    assert maintenance.value.status_code == 503
    assert maintenance.value.body["error"]["type"] == "overloaded_error"  # type: ignore[index]


def test_stream_cut_midway_ends_with_an_error_event(gateway: LiveGateway, node: FakeUpstream) -> None:
    node.chunks = 40
    node.fail_next("cut", after_chunks=21)
    client = sdk(gateway, add_user(gateway))
    text = ""
    with (  # the error comes mid-iteration
        pytest.raises(anthropic.APIStatusError) as broke,
        client.messages.stream(**BODY) as stream,  # type: ignore[arg-type]
    ):
        for piece in stream.text_stream:
            text += piece
    assert broke.value.body["error"]["type"] == "api_error"  # type: ignore[index]
    assert text.startswith("w0 w1 ") and "w39" not in text
    (record,) = activity(gateway)
    assert record["status_code"] == 502 and record["endpoint"] == "/v1/messages"
    # What reached the client is what was recorded: an estimate from the text seen.
    assert record["estimated"] is True and 8 <= record["completion_tokens"] <= 30
    assert record["prompt_tokens"] > 0


def test_unknown_anthropic_path(gateway: LiveGateway) -> None:
    token = add_user(gateway)
    resp = httpx.get(gateway.url + "/anthropic/v1/files", headers={**HEADERS, "x-api-key": token})
    assert "Unknown endpoint" in assert_error(resp, 404, "not_found_error")
