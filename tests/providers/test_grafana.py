"""Grafana Assistant dialect: reading messages and prompts, the chat request they make, and
the answer events built from an OpenAI chat stream."""

from __future__ import annotations

import pytest

from maestro_app.domain.errors import BadRequest
from maestro_app.providers.grafana import (
    Message,
    chat_request,
    openai_messages,
    openai_tool,
    parse_messages,
    parse_prompt,
)
from maestro_app.providers.grafana_answer import AnswerBuilder


def test_string_content_is_one_text_part_and_lists_are_accepted():
    (one,) = parse_messages({"role": "user", "content": "hi"})
    assert one == Message("user", [{"type": "text", "text": "hi"}])
    many = parse_messages({"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": []}]})
    assert [m.role for m in many] == ["system", "user"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"role": "user"}, "message.content must be a string or an array of parts"),
        ({"role": "user", "content": [{"type": "image"}]}, "message.content[0].data must be a string"),
        ({"role": "user", "content": [{"type": "tool_result", "toolUseId": "a", "isError": 1}]}, "isError"),
        (
            {"role": "assistant", "content": [{"type": "tool_use", "id": "a", "name": ""}]},
            "must not be empty",
        ),
        ("text", "Expected a message object"),
    ],
)
def test_bad_messages_name_the_offending_value(body, words):
    with pytest.raises(BadRequest) as caught:
        parse_messages(body)
    assert words in caught.value.message


def test_tools_in_either_shape_become_openai_functions():
    mcp = openai_tool({"name": "q", "description": "d", "inputSchema": {"type": "object"}}, "t")
    openai = openai_tool(
        {"type": "function", "function": {"name": "q", "parameters": {"type": "object"}}}, "t"
    )
    bare = openai_tool({"name": "q"}, "t")
    assert mcp == {
        "type": "function",
        "function": {"name": "q", "parameters": {"type": "object"}, "description": "d"},
    }
    assert openai["function"] == {"name": "q", "parameters": {"type": "object"}}
    assert bare["function"]["parameters"] == {"type": "object", "properties": {}}


def test_the_conversation_in_openai_messages():
    history = [
        Message("user", [{"type": "text", "text": "look"}, {"type": "image", "url": "http://x/p.png"}]),
        Message(
            "assistant",
            [
                {"type": "thinking", "thinking": "hmm"},
                {"type": "text", "text": "calling"},
                {"type": "tool_use", "id": "c1", "name": "q", "input": {"a": 1}},
            ],
        ),
        Message(
            "tool", [{"type": "tool_result", "toolUseId": "c1", "content": [{"type": "text", "text": "42"}]}]
        ),
        Message("user", [{"type": "custom_widget", "anything": True}]),
    ]
    assert openai_messages(history) == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "look"},
                {"type": "image_url", "image_url": {"url": "http://x/p.png"}},
            ],
        },
        {
            "role": "assistant",
            "content": "calling",
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "q", "arguments": '{"a":1}'}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "42"},
    ]


def test_a_prompt_makes_a_streamed_chat_request_with_usage():
    prompt = parse_prompt(
        {
            "prompt": "why?",
            "systemPrompt": "Be brief.",
            "tools": [{"name": "q"}],
            "maxTokens": 64,
            "temperature": 0,
        }
    )
    body = chat_request(
        model="m", prompt=prompt, history=[Message("user", [{"type": "text", "text": "before"}])]
    )
    assert (
        body["model"] == "m" and body["stream"] is True and body["stream_options"] == {"include_usage": True}
    )
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "before"},
        {"role": "user", "content": "why?"},
    ]
    assert body["tools"][0]["function"]["name"] == "q"
    assert (body["max_tokens"], body["temperature"]) == (64, 0)


def test_nothing_to_answer_is_a_bad_request():
    answered = [
        Message("user", [{"type": "text", "text": "q"}]),
        Message("assistant", [{"type": "text", "text": "a"}]),
    ]
    for history in ([], answered):
        with pytest.raises(BadRequest, match="Missing prompt"):
            chat_request(model="m", prompt=parse_prompt({}), history=history)
    with pytest.raises(BadRequest, match="nothing to send"):
        chat_request(model="m", prompt=parse_prompt({"prompt": [{"type": "custom", "x": 1}]}), history=[])


def chunk(delta: dict, finish: str | None = None) -> dict:
    return {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def test_answer_events_carry_the_message_so_far():
    answer = AnswerBuilder(message_id="m1", chat_id="c1", model="m")
    assert answer.start_event() == {"messageId": "m1", "chatId": "c1", "role": "assistant"}
    assert answer.feed(chunk({"role": "assistant", "content": ""})) is False
    assert answer.feed(chunk({"reasoning_content": "think"})) is True
    assert answer.feed(chunk({"content": "Hel"})) and answer.feed(chunk({"content": "lo"}))
    assert answer.progress_event()["content"] == [
        {"type": "thinking", "thinking": "think"},
        {"type": "text", "text": "Hello"},
    ]
    answer.feed(chunk({}, "stop"))
    answer.feed({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}})
    final = answer.final_event()
    assert final["stopReason"] == "end_turn" and final["model"] == "m"
    assert final["usage"] == {"inputTokens": 3, "outputTokens": 2, "totalTokens": 5}
    assert "error" not in final


def test_tool_calls_appear_whole_once_finished():
    answer = AnswerBuilder(message_id="m1", chat_id="c1", model="m")
    answer.feed(
        chunk({"tool_calls": [{"index": 0, "id": "c9", "function": {"name": "q", "arguments": '{"que'}}]})
    )
    assert answer.progress_event()["content"] == []
    answer.feed(chunk({"tool_calls": [{"index": 0, "function": {"arguments": 'ry": "up"}'}}]}))
    assert answer.feed(chunk({}, "tool_calls")) is True
    assert answer.progress_event()["content"] == [
        {"type": "tool_use", "id": "c9", "name": "q", "input": {"query": "up"}}
    ]
    assert answer.final_event()["stopReason"] == "tool_use"


@pytest.mark.parametrize(
    ("finish", "stop"), [("length", "max_tokens"), ("content_filter", "content_filter"), (None, "end_turn")]
)
def test_stop_reasons(finish, stop):
    answer = AnswerBuilder(message_id="m", chat_id="c", model="m")
    if finish:
        answer.feed(chunk({"content": "x"}, finish))
    assert answer.stop_reason == stop


def test_errors_and_cancellation_end_the_answer():
    broken = AnswerBuilder(message_id="m", chat_id="c", model="m")
    broken.feed(chunk({"content": "part"}))
    broken.fail("upstream broke off")
    final = broken.final_event()
    assert final["stopReason"] == "error" and final["error"] == {"message": "upstream broke off"}
    assert final["content"] == [{"type": "text", "text": "part"}]
    left = AnswerBuilder(message_id="m", chat_id="c", model="m")
    left.cancelled = True
    assert left.final_event()["content"] == [{"type": "text", "text": ""}]
    assert left.stop_reason == "cancelled"
