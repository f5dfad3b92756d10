"""Non-streamed chat answers between dialects, checked against the SDKs' models."""

from typing import Any

import ollama
import pytest
from openai.types.chat import ChatCompletion

from maestro_app.providers.bridge import ollama_chat_response_to_openai, openai_chat_response_to_ollama

# --- non-streamed answers -------------------------------------------------------------


OLLAMA_ANSWER = {
    "model": "real-model:7b",
    "created_at": "2024-05-01T12:00:00.123456789Z",
    "message": {"role": "assistant", "content": "Hello!", "thinking": "greet back"},
    "done": True,
    "done_reason": "stop",
    "total_duration": 5_000_000,
    "prompt_eval_count": 12,
    "eval_count": 3,
}


def test_ollama_chat_answer_to_openai() -> None:
    result = ollama_chat_response_to_openai(OLLAMA_ANSWER, model="shown")
    ChatCompletion.model_validate(result)
    assert result["object"] == "chat.completion"
    assert result["id"].startswith("chatcmpl-")
    assert result["created"] == 1714564800
    assert result["model"] == "shown"
    assert result["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hello!", "reasoning_content": "greet back"},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ]
    assert result["usage"] == {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}


@pytest.mark.parametrize(
    ("message", "done_reason", "finish_reason"),
    [
        pytest.param({"content": "cut"}, "length", "length", id="length"),
        pytest.param({"content": "ok"}, "load", "stop", id="other-reason"),
        pytest.param({"content": "ok"}, None, "stop", id="no-reason"),
        pytest.param(
            {"content": "", "tool_calls": [{"function": {"name": "f", "arguments": {"x": 1}}}]},
            "stop",
            "tool_calls",
            id="tool-calls",
        ),
    ],
)
def test_ollama_chat_answer_finish_reason(
    message: dict[str, Any], done_reason: str | None, finish_reason: str
) -> None:
    result = ollama_chat_response_to_openai({"message": message, "done_reason": done_reason}, model="m")
    ChatCompletion.model_validate(result)
    assert result["choices"][0]["finish_reason"] == finish_reason


def test_ollama_chat_answer_with_tool_calls_to_openai() -> None:
    answer = {
        "message": {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {"function": {"name": "get_weather", "arguments": {"city": "Paris"}}},
                {"id": "kept", "function": {"name": "get_time", "arguments": {}}},
            ],
        },
        "done": True,
    }
    message = ollama_chat_response_to_openai(answer, model="m")["choices"][0]["message"]
    assert message["content"] is None
    first, second = message["tool_calls"]
    assert first["id"].startswith("call_") and first["type"] == "function"
    assert first["function"] == {"name": "get_weather", "arguments": '{"city":"Paris"}'}
    assert second["id"] == "kept"


def test_openai_chat_answer_to_ollama() -> None:
    answer = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1714564800,
        "model": "real",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "reasoning_content": "need weather",
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'},
                        },
                        {
                            "id": "call_2",
                            "type": "function",
                            "function": {"name": "broken", "arguments": "{oops"},
                        },
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {"prompt_tokens": 20, "completion_tokens": 10, "total_tokens": 30},
    }
    result = openai_chat_response_to_ollama(answer, model="shown")
    ollama.ChatResponse.model_validate(result)
    assert result == {
        "model": "shown",
        "created_at": "2024-05-01T12:00:00.000000Z",
        "message": {
            "role": "assistant",
            "content": "",
            "thinking": "need weather",
            "tool_calls": [
                {
                    "id": "call_1",
                    "function": {"index": 0, "name": "get_weather", "arguments": {"city": "Oslo"}},
                },
                {"id": "call_2", "function": {"index": 1, "name": "broken", "arguments": {"_raw": "{oops"}}},
            ],
        },
        "done": True,
        "done_reason": "stop",
        "total_duration": 0,
        "load_duration": 0,
        "prompt_eval_count": 20,
        "prompt_eval_duration": 0,
        "eval_count": 10,
        "eval_duration": 0,
    }


@pytest.mark.parametrize(
    ("choice", "content", "done_reason"),
    [
        pytest.param({"message": {"content": "hi"}, "finish_reason": "length"}, "hi", "length", id="length"),
        pytest.param(
            {"message": {"content": [{"type": "text", "text": "a"}]}, "finish_reason": "stop"},
            "a",
            "stop",
            id="parts",
        ),
        pytest.param(
            {"message": {"content": "x"}, "finish_reason": "content_filter"}, "x", "stop", id="filter"
        ),
        pytest.param({"message": {}, "finish_reason": None}, "", "stop", id="empty-message"),
    ],
)
def test_openai_chat_answer_to_ollama_variants(
    choice: dict[str, Any], content: str, done_reason: str
) -> None:
    result = openai_chat_response_to_ollama({"choices": [choice]}, model="m")
    ollama.ChatResponse.model_validate(result)
    assert result["message"]["content"] == content
    assert result["done_reason"] == done_reason
    assert "prompt_eval_count" not in result and "eval_count" not in result
    assert result["created_at"].endswith("Z")
