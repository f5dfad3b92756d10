"""`POST /v1/responses` on the wire: framing, bad bodies, limits, model config, system
prompts, structured output, images, groups, post-processing, truncation and broken streams."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.conftest import LiveGateway
from tests.fakes.upstream import FakeModel, FakeUpstream
from tests.gateway.responses_order import check_order
from tests.support import activity, add_node, add_user

PATH = "/v1/responses"
IMAGE = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
KIMI = (
    "Let me look. <|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0"
    '<|tool_call_argument_begin|>{"city": "Paris"}<|tool_call_end|><|tool_calls_section_end|>'
)


def tool(name: str) -> dict[str, Any]:
    return {"type": "function", "name": name, "parameters": {"type": "object", "properties": {}}}


def chat_path(node_type: str) -> str:
    return "/api/chat" if node_type == "ollama" else "/v1/chat/completions"


def sent(fake: FakeUpstream) -> dict[str, Any]:
    return fake.requests[-1].json  # type: ignore[no-any-return]


def events_of(text: str) -> list[dict[str, Any]]:
    """The events of a Responses SSE body, checking each `event:` line names its data."""
    events = []
    for block in text.strip().split("\n\n"):
        name, data = block.split("\n")
        assert name.startswith("event: ") and data.startswith("data: "), block
        event = json.loads(data[6:])
        assert event["type"] == name[7:]
        events.append(event)
    return events


def stream(client: httpx.Client, body: dict[str, Any]) -> list[dict[str, Any]]:
    resp = client.post(PATH, json=dict(body, stream=True))
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/event-stream") and resp.headers["x-request-id"]
    assert "[DONE]" not in resp.text
    return events_of(resp.text)


@pytest.fixture(params=["ollama", "vllm"])
def node_type(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def setup(gateway: LiveGateway, upstream_factory: Any, node_type: str) -> tuple[FakeUpstream, httpx.Client]:
    fake = upstream_factory([FakeModel("coder-7b:latest")])
    add_node(gateway, fake, name="gpu-a", code="a", node_type=node_type)
    return fake, gateway.client(add_user(gateway))


def config(live: LiveGateway, prefix: str, **fields: Any) -> dict[str, Any]:
    resp = live.admin.post("/admin/model-config", json={"model_prefix": prefix, **fields})
    assert resp.status_code == 201, resp.text
    return resp.json()  # type: ignore[no-any-return]


# -- bad bodies ----------------------------------------------------------------------------------

BAD_BODIES = [
    ({"model": "coder-7b"}, None, "Missing required field 'input'"),
    ({"model": "coder-7b", "input": 3}, None, "Field 'input' must be"),
    ({"model": "coder-7b", "input": []}, "input", "must not be empty"),
    ({"model": "coder-7b", "input": ["hi"]}, "input[0]", "must be an object"),
    ({"model": "coder-7b", "input": [{"role": "robot", "content": "x"}]}, "input[0].role", "one of"),
    ({"model": "coder-7b", "input": [{"type": "function_call", "name": "f"}]}, "input[0].call_id", "call_id"),
    (
        {"model": "coder-7b", "input": [{"type": "function_call_output", "output": "x"}]},
        "input[0].call_id",
        "",
    ),
    (
        {"model": "coder-7b", "input": [{"type": "item_reference", "id": "msg_1"}]},
        "input[0]",
        "does not store",
    ),
    (
        {
            "model": "coder-7b",
            "input": [{"role": "user", "content": [{"type": "input_file", "file_id": "f"}]}],
        },
        "input[0].content[0].type",
        "input_text",
    ),
    (
        {
            "model": "coder-7b",
            "input": [{"role": "user", "content": [{"type": "input_image", "file_id": "f"}]}],
        },
        "input[0].content[0].image_url",
        "file_id",
    ),
    ({"model": "coder-7b", "input": "hi", "previous_response_id": "resp_1"}, "previous_response_id", "store"),
    ({"model": "coder-7b", "input": "hi", "conversation": "conv_1"}, "conversation", "store"),
    ({"model": "coder-7b", "input": "hi", "background": True}, "background", "store"),
    ({"model": "coder-7b", "input": "hi", "instructions": 5}, "instructions", "a string"),
    ({"model": "coder-7b", "input": "hi", "max_output_tokens": 0}, "max_output_tokens", "at least 1"),
    ({"model": "coder-7b", "input": "hi", "reasoning": {"effort": "huge"}}, "reasoning.effort", "one of"),
    ({"model": "coder-7b", "input": "hi", "text": {"format": {"type": "xml"}}}, "text.format.type", "one of"),
    ({"model": "coder-7b", "input": "hi", "tools": [{"type": "function"}]}, "tools[0].name", "name"),
    ({"model": "coder-7b", "input": "hi", "tool_choice": "sometimes"}, "tool_choice", "auto"),
]


@pytest.mark.parametrize("node_type", ["vllm"], indirect=True)
def test_bad_bodies_get_400_and_change_nothing(gateway, setup):  # type: ignore[no-untyped-def]
    fake, client = setup
    for body, param, words in BAD_BODIES:
        resp = client.post(PATH, json=body)
        assert resp.status_code == 400, (body, resp.text)
        error = resp.json()["error"]
        assert set(error) == {"message", "type", "param", "code"}
        assert error["type"] == "invalid_request_error" and error["param"] == param, (body, error)
        assert words in error["message"], (body, error)
    assert client.post(PATH, content=b"{not json").status_code == 400
    assert fake.hits["/v1/chat/completions"] == 0
    assert activity(gateway) == []


@pytest.mark.parametrize("node_type", ["vllm"], indirect=True)
def test_daily_limit_answers_429_with_retry_after(gateway, setup):  # type: ignore[no-untyped-def]
    fake, _ = setup
    client = gateway.client(add_user(gateway, "limited", request_limit=1))
    assert client.post(PATH, json={"model": "coder-7b", "input": "hi"}).status_code == 200
    refused = client.post(PATH, json={"model": "coder-7b", "input": "hi", "stream": True})
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert refused.json()["error"]["code"] == "daily_request_limit_exceeded"
    assert fake.hits["/v1/chat/completions"] == 1


# -- request rules --------------------------------------------------------------------------------


def test_model_config_applies(gateway, setup, node_type):  # type: ignore[no-untyped-def]
    fake, client = setup
    made = config(gateway, "coder", allowed_tools=["read_file"], unsupported_params=["temperature", "top_p"])
    body = {
        "model": "coder-7b",
        "input": "hi",
        "tools": [tool("read_file"), tool("shell"), {"type": "web_search"}],
        "tool_choice": {"type": "function", "name": "shell"},
        "temperature": 0.3,
        "top_p": 0.9,
    }
    assert client.post(PATH, json=body).status_code == 200
    got = sent(fake)
    assert [t["function"]["name"] for t in got["tools"]] == ["read_file"]
    assert got.get("tool_choice") in (None, "auto")  # Ollama has no tool_choice
    options = got.get("options", {})
    assert "temperature" not in got and "temperature" not in options and "top_p" not in options

    gateway.admin.put(f"/admin/model-config/{made['id']}", json={"maintenance_mode": True})
    resp = client.post(PATH, json={"model": "coder-7b", "input": "hi"})
    assert resp.status_code == 503 and resp.json()["error"]["code"] == "model_maintenance"
    assert fake.hits[chat_path(node_type)] == 1


def test_instructions_developer_messages_and_system_prompts(gateway, setup):  # type: ignore[no-untyped-def]
    fake, client = setup
    prompt = {"scope_type": "model", "scope_value": "coder-7b", "prompt": "RULES", "priority": 0}
    assert gateway.admin.post("/admin/system-prompts", json=prompt).status_code == 201
    body = {
        "model": "coder-7b",
        "instructions": "Be brief.",
        "input": [
            {"role": "developer", "content": [{"type": "input_text", "text": "Sandbox: read-only."}]},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hello"}]},
            {"role": "assistant", "content": [{"type": "output_text", "text": "hi!"}]},
            {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "opaque"},
            {"role": "user", "content": "bye"},
        ],
    }
    assert client.post(PATH, json=body).status_code == 200
    assert sent(fake)["messages"] == [
        {"role": "system", "content": "RULES\n\nBe brief.\n\nSandbox: read-only."},
        {"role": "user", "content": "hello"},
        {"role": "assistant", "content": "hi!"},
        {"role": "user", "content": "bye"},
    ]
    assert client.post(PATH, json={"model": "coder-7b", "input": "hello"}).status_code == 200
    assert sent(fake)["messages"] == [
        {"role": "system", "content": "RULES"},
        {"role": "user", "content": "hello"},
    ]


def test_structured_output_and_sampling(setup, node_type):  # type: ignore[no-untyped-def]
    fake, client = setup
    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    body = {
        "model": "coder-7b",
        "input": "where?",
        "text": {"format": {"type": "json_schema", "name": "place", "schema": schema, "strict": True}},
        "max_output_tokens": 50,
        "temperature": 0.1,
        "metadata": {"ticket": "42"},
        "store": True,
    }
    answer = client.post(PATH, json=body).json()
    got = sent(fake)
    if node_type == "ollama":
        assert got["format"] == schema
        assert got["options"]["num_predict"] == 50 and got["options"]["temperature"] == 0.1
    else:
        assert got["response_format"] == {
            "type": "json_schema",
            "json_schema": {"name": "place", "schema": schema, "strict": True},
        }
        assert got["max_tokens"] == 50 and got["temperature"] == 0.1
    # Nothing is stored, whatever the client asked: the answer says so.
    assert answer["store"] is False and answer["metadata"] == {"ticket": "42"}
    assert answer["text"]["format"]["type"] == "json_schema" and answer["max_output_tokens"] == 50

    client.post(PATH, json={"model": "coder-7b", "input": "x", "text": {"format": {"type": "json_object"}}})
    assert (sent(fake).get("format") if node_type == "ollama" else sent(fake)["response_format"]) in (
        "json",
        {"type": "json_object"},
    )


def test_images_reach_the_node(setup, node_type):  # type: ignore[no-untyped-def]
    fake, client = setup
    content = [{"type": "input_text", "text": "what is it"}, {"type": "input_image", "image_url": IMAGE}]
    answer = client.post(PATH, json={"model": "coder-7b", "input": [{"role": "user", "content": content}]})
    assert answer.status_code == 200, answer.text
    message = answer.json()["output"][0]
    assert message["content"][0]["text"].startswith("saw 1 images.")
    first = sent(fake)["messages"][0]
    if node_type == "ollama":
        assert first["images"] == [IMAGE.split(",", 1)[1]] and first["content"] == "what is it"
    else:
        assert first["content"][1] == {"type": "image_url", "image_url": {"url": IMAGE}}


@pytest.mark.parametrize("node_type", ["vllm"], indirect=True)
def test_groups_pick_the_member_with_tools(gateway, upstream_factory, node_type):  # type: ignore[no-untyped-def]
    plain, hands = upstream_factory([FakeModel("plain")]), upstream_factory([FakeModel("hands")])
    add_node(gateway, plain, name="n-plain", node_type=node_type)
    add_node(gateway, hands, name="n-hands", node_type=node_type)
    assert (
        gateway.admin.post("/admin/model-groups", json={"name": "team", "strategy": "priority"}).status_code
        == 201
    )
    for member in (
        {"model_display_name": "plain"},
        {"model_display_name": "hands", "capability_tags": ["tools"]},
    ):
        assert gateway.admin.post("/admin/model-groups/team/members", json=member).status_code == 201
    client = gateway.client(add_user(gateway))
    # A hosted tool only (dropped) needs no tools; a function tool does.
    assert (
        client.post(PATH, json={"model": "team", "input": "hi", "tools": [{"type": "web_search"}]}).json()[
            "model"
        ]
        == "team"
    )
    answer = client.post(PATH, json={"model": "team", "input": "hi", "tools": [tool("lookup")]}).json()
    assert answer["output"][0]["type"] == "function_call" and answer["model"] == "team"
    assert (plain.hits["/v1/chat/completions"], hands.hits["/v1/chat/completions"]) == (1, 1)
    assert [r["model"] for r in activity(gateway)] == ["team", "team"]


# -- answers ---------------------------------------------------------------------------------------


def test_printed_tool_calls_and_think_blocks(setup):  # type: ignore[no-untyped-def]
    fake, client = setup
    fake.script = [KIMI[i : i + 7] for i in range(0, len(KIMI), 7)]
    # No tools offered: the fake would answer with a native call; the text is parsed anyway.
    body = {"model": "coder-7b", "input": "weather?"}
    output = client.post(PATH, json=body).json()["output"]
    assert [item["type"] for item in output] == ["message", "function_call"]
    assert output[0]["content"][0]["text"].strip() == "Let me look."
    assert output[1]["name"] == "get_weather" and json.loads(output[1]["arguments"]) == {"city": "Paris"}
    final = check_order(stream(client, body))
    assert [item["type"] for item in final["output"]] == ["message", "function_call"]
    assert json.loads(final["output"][1]["arguments"]) == {"city": "Paris"}

    fake.script = ["<thi", "nk>the plan", "</think>", "The answer."]
    output = client.post(PATH, json={"model": "coder-7b", "input": "q"}).json()["output"]
    assert [(item["type"]) for item in output] == ["reasoning", "message"]
    assert output[0]["summary"] == [{"type": "summary_text", "text": "the plan"}]
    final = check_order(stream(client, {"model": "coder-7b", "input": "q"}))
    assert final["output"][0]["summary"][0]["text"] == "the plan"
    assert final["output"][1]["content"][0]["text"] == "The answer."


def test_truncated_answer_is_incomplete(setup):  # type: ignore[no-untyped-def]
    _, client = setup
    body = {"model": "coder-7b", "input": "go on", "max_output_tokens": 2}
    answer = client.post(PATH, json=body).json()
    assert answer["status"] == "incomplete"
    assert answer["incomplete_details"] == {"reason": "max_output_tokens"}
    assert answer["output"][0]["content"][0]["text"] == "w0 w1 " and answer["usage"]["output_tokens"] == 2
    events = stream(client, body)
    final = check_order(events)
    assert events[-1]["type"] == "response.incomplete" and final["status"] == "incomplete"
    assert (
        final["incomplete_details"] == {"reason": "max_output_tokens"}
        and final["usage"]["output_tokens"] == 2
    )


def test_cut_stream_ends_with_response_failed(gateway, setup, node_type):  # type: ignore[no-untyped-def]
    fake, client = setup
    fake.chunks = 8
    fake.fail_next("cut", after_chunks=3)
    events = stream(client, {"model": "coder-7b", "input": "tell me"})
    final = check_order(events)
    assert events[-1]["type"] == "response.failed" and final["status"] == "failed"
    assert final["error"]["code"] == "server_error" and final["error"]["message"]
    text = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    assert text and "w7" not in text  # what came before the cut, never replayed
    assert fake.hits[chat_path(node_type)] == 1
    (record,) = activity(gateway)
    assert record["status_code"] == 502 and record["endpoint"] == PATH
    # No usage came before the cut: estimated from the text the client got.
    assert record["estimated"] is True and record["completion_tokens"] >= len(text) // 4 > 0
