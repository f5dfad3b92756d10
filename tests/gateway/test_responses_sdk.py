"""The real `openai` SDK's Responses API (`client.responses`) against the gateway, in front
of an Ollama node and a vLLM (OpenAI-dialect) node."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import openai
import pytest

from tests.conftest import LiveGateway
from tests.fakes.upstream import FakeModel, FakeUpstream
from tests.gateway.responses_order import check_order
from tests.support import activity, add_mapping, add_node, add_user

ANSWER = "w0 w1 w2 w3 w4 "
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    "strict": False,
}


@dataclass
class Env:
    gw: LiveGateway
    fake: FakeUpstream
    token: str
    node_type: str

    def client(self, **headers: str) -> openai.OpenAI:
        return openai.OpenAI(
            base_url=self.gw.url + "/v1",
            api_key=self.token,
            max_retries=0,
            timeout=10,
            default_headers=headers,
        )

    def sent(self) -> dict[str, Any]:
        path = "/api/chat" if self.node_type == "ollama" else "/v1/chat/completions"
        return [r for r in self.fake.requests if r.path == path][-1].json  # type: ignore[no-any-return]


@pytest.fixture(params=["ollama", "vllm"])
def env(request: pytest.FixtureRequest, gateway: LiveGateway, upstream_factory: Any) -> Env:
    fake = upstream_factory([FakeModel("llama3:latest"), FakeModel("qwen3-reason:latest")])
    add_node(gateway, fake, name="node-1", node_type=request.param)
    add_mapping(gateway, "chat-model", "llama3:latest")
    # vLLM's fake reasons for models named "reason"; Ollama's when asked to think.
    add_mapping(gateway, "thinker", "qwen3-reason:latest")
    return Env(gateway, fake, add_user(gateway), request.param)


def _events(stream: Any) -> list[dict[str, Any]]:
    return [event.model_dump(mode="json", exclude_unset=True) for event in stream]


def test_text_answer_streamed_and_not(env: Env) -> None:
    client = env.client()
    response = client.responses.create(model="chat-model", input="one two three")
    assert response.id.startswith("resp_") and response.object == "response"
    assert response.model == "chat-model" and response.status == "completed"
    assert response.output_text == ANSWER
    (message,) = response.output
    assert message.type == "message" and message.role == "assistant" and message.status == "completed"
    assert response.usage is not None
    assert (response.usage.input_tokens, response.usage.output_tokens, response.usage.total_tokens) == (
        3,
        5,
        8,
    )

    events = _events(client.responses.create(model="chat-model", input="one two three", stream=True))
    final = check_order(events)
    assert [e["type"] for e in events] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        *["response.output_text.delta"] * 5,
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert final["status"] == "completed" and final["model"] == "chat-model"
    assert final["usage"]["input_tokens"] == 3 and final["usage"]["output_tokens"] == 5
    assert final["usage"]["total_tokens"] == 8

    # The SDK's own accumulator (which checks the order of what it is fed) agrees.
    with client.responses.stream(model="chat-model", input="one two three") as stream:
        assert stream.get_final_response().output_text == ANSWER


def test_function_tool_and_its_output_round_trip(env: Env) -> None:
    client = env.client()
    question = [{"role": "user", "content": "weather in Paris"}]
    response = client.responses.create(model="chat-model", input=question, tools=[WEATHER])  # type: ignore[arg-type,list-item]
    (call,) = response.output
    assert call.type == "function_call" and call.name == "get_weather"
    assert call.call_id and json.loads(call.arguments) == {"query": "weather in Paris"}
    assert env.sent()["tools"][0]["function"]["name"] == "get_weather"

    follow_up = [
        *question,
        {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments},
        {"type": "function_call_output", "call_id": call.call_id, "output": "sunny and warm"},
    ]
    answer = client.responses.create(model="chat-model", input=follow_up, tools=[WEATHER])  # type: ignore[arg-type,list-item]
    assert answer.output_text == ANSWER
    messages = env.sent()["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "tool"]
    assert messages[1]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert messages[2]["content"] == "sunny and warm"
    if env.node_type == "ollama":
        assert messages[1]["tool_calls"][0]["function"]["arguments"] == {"query": "weather in Paris"}
        assert messages[2]["tool_name"] == "get_weather"
    else:
        assert messages[1]["tool_calls"][0]["id"] == call.call_id
        assert messages[2]["tool_call_id"] == call.call_id


def test_streamed_function_call_arguments(env: Env) -> None:
    question = [{"role": "user", "content": "weather in Paris"}]
    events = _events(
        env.client().responses.create(model="chat-model", input=question, tools=[WEATHER], stream=True)  # type: ignore[arg-type,list-item]
    )
    final = check_order(events)
    (call,) = final["output"]
    assert call["type"] == "function_call" and call["name"] == "get_weather" and call["status"] == "completed"
    assert json.loads(call["arguments"]) == {"query": "weather in Paris"}
    deltas = [e for e in events if e["type"] == "response.function_call_arguments.delta"]
    # vLLM streams the arguments in two fragments, Ollama sends the call whole: relayed as they come.
    assert len(deltas) == (1 if env.node_type == "ollama" else 2)
    added = next(e for e in events if e["type"] == "response.output_item.added")
    assert added["item"]["arguments"] == "" and added["item"]["call_id"] == call["call_id"]


def test_reasoning_effort_and_reasoning_items(env: Env) -> None:
    client = env.client()
    response = client.responses.create(model="thinker", input="why?", reasoning={"effort": "high"})
    sent = env.sent()
    if env.node_type == "ollama":
        assert sent["think"] == "high"
    else:
        assert sent["reasoning_effort"] == "high"
    reasoning, message = response.output
    assert reasoning.type == "reasoning" and [s.text for s in reasoning.summary] == ["thinking..."]
    assert message.type == "message" and response.output_text == ANSWER

    events = _events(
        client.responses.create(model="thinker", input="why?", reasoning={"effort": "high"}, stream=True)
    )
    final = check_order(events)
    assert [item["type"] for item in final["output"]] == ["reasoning", "message"]
    summary = "".join(e["delta"] for e in events if e["type"] == "response.reasoning_summary_text.delta")
    assert summary == "thinking..."
    assert final["reasoning"]["effort"] == "high"


def test_usage_and_source_are_recorded(env: Env) -> None:
    codex = env.client(originator="codex_cli_rs")
    codex.responses.create(model="chat-model", input="one two three")
    list(codex.responses.create(model="chat-model", input="one two three", stream=True))
    records = activity(env.gw)
    assert len(records) == 2
    for record in records:
        assert record["endpoint"] == "/v1/responses" and record["source"] == "codex"
        assert record["model"] == "chat-model" and record["real_model"] == "llama3:latest"
        assert (record["prompt_tokens"], record["completion_tokens"], record["total_tokens"]) == (3, 5, 8)
        assert record["estimated"] is False and record["status_code"] == 200
    assert sorted(r["stream"] for r in records) == [False, True]


def test_errors_come_in_openai_shape(env: Env) -> None:
    client = env.client()
    with pytest.raises(openai.BadRequestError) as stateful:
        client.responses.create(model="chat-model", input="hi", previous_response_id="resp_123")
    assert stateful.value.status_code == 400
    error = stateful.value.body
    assert isinstance(error, dict) and error["param"] == "previous_response_id"
    assert error["type"] == "invalid_request_error" and "does not store" in error["message"]
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model="no-such-model", input="hi")
    bad_token = openai.OpenAI(base_url=env.gw.url + "/v1", api_key="nope", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad_token.responses.create(model="chat-model", input="hi")
    # Bad bodies reach no node; only the routed 404 left a record.
    assert [r["status_code"] for r in activity(env.gw)] == [404]
