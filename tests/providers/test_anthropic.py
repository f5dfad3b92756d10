"""Anthropic Messages <-> OpenAI chat: requests and whole answers."""

from typing import Any

import pytest

from maestro_app.providers.anthropic import (
    anthropic_to_openai_chat,
    openai_chat_response_to_anthropic,
    stop_reason_from_openai,
)

PNG = "iVBORw0KGgoAAAANSUhEUg=="


def convert(**body: Any) -> dict[str, Any]:
    return anthropic_to_openai_chat({"model": "m", "max_tokens": 10, **body})


def test_system_blocks_and_plain_messages() -> None:
    out = convert(
        system=[
            {"type": "text", "text": "A", "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "B"},
        ],
        messages=[{"role": "user", "content": "hi"}],
        metadata={"user_id": "u"},
        service_tier="auto",
    )
    assert out == {
        "model": "m",
        "messages": [{"role": "system", "content": "A\n\nB"}, {"role": "user", "content": "hi"}],
        "stream": False,
        "max_tokens": 10,
    }


def test_user_blocks_text_images_documents() -> None:
    content = [
        {"type": "text", "text": "look"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": PNG}},
        {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}},
        {
            "type": "document",
            "title": "Notes",
            "source": {"type": "text", "media_type": "text/plain", "data": "abc"},
        },
        {"type": "document", "source": {"type": "content", "content": [{"type": "text", "text": "def"}]}},
        {
            "type": "search_result",
            "title": "R",
            "source": "s",
            "content": [{"type": "text", "text": "found"}],
        },
        {"type": "server_tool_use", "id": "s1", "name": "web_search", "input": {}},
    ]
    (user,) = convert(messages=[{"role": "user", "content": content}])["messages"]
    assert user == {
        "role": "user",
        "content": [
            {"type": "text", "text": "look"},
            {"type": "image_url", "image_url": {"url": f"data:image/jpeg;base64,{PNG}"}},
            {"type": "image_url", "image_url": {"url": "https://x/y.png"}},
            {"type": "text", "text": "Notes\n\nabc"},
            {"type": "text", "text": "def"},
            {"type": "text", "text": "R\n\nfound"},
        ],
    }
    # Text only: one string, as every chat template reads it.
    (text_only,) = convert(
        messages=[{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}]
    )["messages"]
    assert text_only == {"role": "user", "content": "a\nb"}


def test_assistant_blocks_and_tool_results() -> None:
    messages = [
        {"role": "user", "content": "weather?"},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "let me check", "signature": "sig"},
                {"type": "redacted_thinking", "data": "xx"},
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "toolu_2", "name": "clock", "input": {}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "here you go"},
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"},
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_2",
                    "content": [
                        {"type": "text", "text": "12:00"},
                        {
                            "type": "image",
                            "source": {"type": "base64", "media_type": "image/png", "data": PNG},
                        },
                    ],
                },
                {"type": "tool_result", "tool_use_id": "toolu_3", "is_error": True},
            ],
        },
    ]
    out = convert(messages=messages)["messages"]
    assert out[1] == {
        "role": "assistant",
        "content": "Checking.",
        "reasoning_content": "let me check",
        "tool_calls": [
            {
                "id": "toolu_1",
                "type": "function",
                "function": {"name": "weather", "arguments": '{"city":"Paris"}'},
            },
            {"id": "toolu_2", "type": "function", "function": {"name": "clock", "arguments": "{}"}},
        ],
    }
    # Results first, right after the calls; the user's own text and the result's image after.
    assert out[2:] == [
        {"role": "tool", "tool_call_id": "toolu_1", "content": "sunny"},
        {"role": "tool", "tool_call_id": "toolu_2", "content": "12:00"},
        {"role": "tool", "tool_call_id": "toolu_3", "content": "Error"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "here you go"},
                {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
            ],
        },
    ]
    only_calls = convert(messages=[{"role": "assistant", "content": [messages[1]["content"][3]]}])["messages"]  # type: ignore[index]
    assert only_calls[0]["content"] is None


TOOL = {"name": "f", "description": "does f", "input_schema": {"type": "object", "properties": {}}}


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ({"type": "auto"}, "auto"),
        ({"type": "any"}, "required"),
        ({"type": "none"}, "none"),
        ({"type": "tool", "name": "f"}, {"type": "function", "function": {"name": "f"}}),
    ],
)
def test_tools_and_tool_choice(choice: dict[str, Any], expected: Any) -> None:
    out = convert(
        messages=[{"role": "user", "content": "x"}],
        tools=[TOOL, {"type": "web_search_20250305", "name": "web_search", "max_uses": 3}],
        tool_choice={**choice, "disable_parallel_tool_use": True},
    )
    assert out["tools"] == [
        {
            "type": "function",
            "function": {"name": "f", "parameters": TOOL["input_schema"], "description": "does f"},
        }
    ]
    assert out["tool_choice"] == expected and out["parallel_tool_calls"] is False


def test_parameters_thinking_format_and_prefill() -> None:
    out = convert(
        messages=[{"role": "user", "content": "x"}, {"role": "assistant", "content": "{"}],
        temperature=0.2,
        top_p=0.9,
        top_k=40,
        stop_sequences=["END", "STOP"],
        stream=True,
        tool_choice={"type": "any"},  # no tools: nothing to choose
        thinking={"type": "enabled", "budget_tokens": 2048},
        output_config={"effort": "high", "format": {"type": "json_schema", "schema": {"type": "object"}}},
    )
    assert out == {
        "model": "m",
        "messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "{"}],
        "stream": True,
        "max_tokens": 10,
        "temperature": 0.2,
        "top_p": 0.9,
        "top_k": 40,
        "stop": ["END", "STOP"],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "response", "schema": {"type": "object"}},
        },
        "chat_template_kwargs": {"enable_thinking": True},
        "continue_final_message": True,
        "add_generation_prompt": False,
    }
    assert convert(messages=[], thinking={"type": "disabled"})["chat_template_kwargs"] == {
        "enable_thinking": False
    }
    assert "chat_template_kwargs" not in convert(messages=[], thinking={"type": "adaptive"})


def answer(message: dict[str, Any], finish: str | None, **choice: Any) -> dict[str, Any]:
    return {
        "choices": [{"index": 0, "message": message, "finish_reason": finish, **choice}],
        "usage": {"prompt_tokens": 7, "completion_tokens": 3},
    }


def test_answers() -> None:
    full = openai_chat_response_to_anthropic(
        answer(
            {
                "content": "Hello",
                "reasoning_content": "hm",
                "tool_calls": [{"id": "call_1", "function": {"name": "f", "arguments": '{"a": 1}'}}],
            },
            "tool_calls",
        ),
        model="shown",
        request={},
        input_estimate=99,
    )
    assert full["id"].startswith("msg_") and full["model"] == "shown"
    assert full["content"] == [
        {"type": "thinking", "thinking": "hm", "signature": ""},
        {"type": "text", "text": "Hello"},
        {"type": "tool_use", "id": "call_1", "name": "f", "input": {"a": 1}},
    ]
    assert (full["stop_reason"], full["stop_sequence"]) == ("tool_use", None)
    assert full["usage"] == {
        "input_tokens": 7,
        "output_tokens": 3,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }
    # vLLM names the stop string that ended the answer.
    stopped = openai_chat_response_to_anthropic(
        answer({"content": "x"}, "stop", stop_reason="END"),
        model="m",
        request={"stop": ["END"]},
        input_estimate=0,
    )
    assert (stopped["stop_reason"], stopped["stop_sequence"]) == ("stop_sequence", "END")
    # No counts from the upstream: estimated.
    bare = openai_chat_response_to_anthropic(
        {"choices": [{"message": {"content": "12345678"}, "finish_reason": "length"}]},
        model="m",
        request={},
        input_estimate=4,
    )
    assert bare["stop_reason"] == "max_tokens"
    assert (bare["usage"]["input_tokens"], bare["usage"]["output_tokens"]) == (4, 2)
    broken = openai_chat_response_to_anthropic(
        answer({"tool_calls": [{"function": {"name": "f", "arguments": "{oops"}}]}, "tool_calls"),
        model="m",
        request={},
        input_estimate=0,
    )
    (call,) = broken["content"]
    assert call["id"].startswith("toolu_") and call["input"] == {"_raw": "{oops"}


@pytest.mark.parametrize(
    ("finish", "tool_use", "expected"),
    [
        ("stop", False, "end_turn"),
        ("stop", True, "tool_use"),
        ("length", True, "max_tokens"),
        ("tool_calls", False, "tool_use"),
        ("content_filter", False, "refusal"),
        (None, False, "end_turn"),
    ],
)
def test_stop_reasons(finish: str | None, tool_use: bool, expected: str) -> None:
    assert stop_reason_from_openai(finish, tool_use=tool_use) == (expected, None)
    assert stop_reason_from_openai("stop", tool_use=False, stop_reason="X", stops=["Y"]) == ("end_turn", None)
