import base64
import copy
from typing import Any

import ollama
import pytest

from maestro_app.providers.bridge import (
    ollama_chat_to_openai,
    openai_chat_to_ollama,
)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


PNG = _b64(b"\x89PNG\r\n\x1a\n" + bytes(16))
JPEG = _b64(b"\xff\xd8\xff\xe0" + bytes(16))
GIF = _b64(b"GIF89a" + bytes(16))
WEBP = _b64(b"RIFF\x00\x00\x00\x00WEBPVP8 " + bytes(8))
UNKNOWN = _b64(b"not an image at all")

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather of a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def _user_with_parts(*parts: dict[str, Any]) -> dict[str, Any]:
    return {"model": "m", "messages": [{"role": "user", "content": list(parts)}]}


# --- requests: OpenAI → Ollama -------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        pytest.param({"role": "user", "content": "hi"}, {"role": "user", "content": "hi"}, id="text"),
        pytest.param(
            {"role": "assistant", "content": None}, {"role": "assistant", "content": ""}, id="content-none"
        ),
        pytest.param({"role": "user"}, {"role": "user", "content": ""}, id="content-missing"),
        pytest.param(
            {"role": "developer", "content": "rules"}, {"role": "system", "content": "rules"}, id="developer"
        ),
        pytest.param(
            {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
            {"role": "user", "content": "a\nb"},
            id="text-parts-joined",
        ),
        pytest.param(
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "what is this?"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
                    {"type": "image_url", "image_url": f"data:image/jpeg;base64,{JPEG}"},
                ],
            },
            {"role": "user", "content": "what is this?", "images": [PNG, JPEG]},
            id="data-url-images",
        ),
        pytest.param(
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "look"},
                    {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
                    {"type": "image_url", "image_url": {"url": "data:text/plain,hello"}},
                ],
            },
            {"role": "user", "content": "look"},
            id="remote-and-non-base64-images-dropped",
        ),
        pytest.param(
            {"role": "assistant", "content": "thinking done", "reasoning_content": "because"},
            {"role": "assistant", "content": "thinking done", "thinking": "because"},
            id="reasoning-content",
        ),
        pytest.param(
            {"role": "assistant", "content": "", "reasoning": "because"},
            {"role": "assistant", "content": "", "thinking": "because"},
            id="reasoning-vllm-name",
        ),
    ],
)
def test_openai_message_to_ollama(message: dict[str, Any], expected: dict[str, Any]) -> None:
    assert openai_chat_to_ollama({"messages": [message]})["messages"] == [expected]


def test_openai_tool_conversation_to_ollama() -> None:
    body = {
        "model": "m",
        "messages": [
            {"role": "user", "content": "weather in Paris and Rome?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_a",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                    },
                    {
                        "id": "call_b",
                        "type": "function",
                        "function": {"name": "get_time", "arguments": "not json"},
                    },
                    {"id": "call_c", "type": "function", "function": {"name": "ping", "arguments": ""}},
                ],
            },
            {"role": "tool", "tool_call_id": "call_b", "content": "12:00"},
            {"role": "tool", "tool_call_id": "call_a", "content": "sunny"},
            {"role": "tool", "tool_call_id": "unknown", "name": "explicit", "content": "x"},
        ],
        "tools": [WEATHER_TOOL],
    }
    result = openai_chat_to_ollama(body)
    assistant = result["messages"][1]
    assert assistant["content"] == ""
    assert assistant["tool_calls"] == [
        {"id": "call_a", "function": {"index": 0, "name": "get_weather", "arguments": {"city": "Paris"}}},
        {"id": "call_b", "function": {"index": 1, "name": "get_time", "arguments": {"_raw": "not json"}}},
        {"id": "call_c", "function": {"index": 2, "name": "ping", "arguments": {}}},
    ]
    assert result["messages"][2] == {
        "role": "tool",
        "content": "12:00",
        "tool_name": "get_time",
        "tool_call_id": "call_b",
    }
    assert result["messages"][3]["tool_name"] == "get_weather"
    assert result["messages"][4]["tool_name"] == "explicit"
    assert result["tools"] == [WEATHER_TOOL]
    for message in result["messages"]:
        ollama.Message.model_validate(message)


@pytest.mark.parametrize(
    ("params", "options"),
    [
        pytest.param(
            {"temperature": 0.3, "top_p": 0.9, "seed": 42, "presence_penalty": 0.5, "frequency_penalty": 0.1},
            {"temperature": 0.3, "top_p": 0.9, "seed": 42, "presence_penalty": 0.5, "frequency_penalty": 0.1},
            id="sampling",
        ),
        pytest.param({"max_tokens": 100}, {"num_predict": 100}, id="max-tokens"),
        pytest.param(
            {"max_completion_tokens": 50, "max_tokens": 100}, {"num_predict": 50}, id="max-completion-wins"
        ),
        pytest.param({"stop": "END"}, {"stop": ["END"]}, id="stop-string"),
        pytest.param({"stop": ["a", 3, "b"]}, {"stop": ["a", "b"]}, id="stop-list"),
        pytest.param(
            {"top_k": 20, "min_p": 0.05, "repetition_penalty": 1.1},
            {"top_k": 20, "min_p": 0.05, "repeat_penalty": 1.1},
            id="vllm-extras",
        ),
        pytest.param({"temperature": None, "max_tokens": "many", "stop": None}, None, id="nulls-and-junk"),
        pytest.param({"n": 2, "user": "u", "logit_bias": {}}, None, id="unmapped-dropped"),
    ],
)
def test_openai_params_to_ollama_options(params: dict[str, Any], options: dict[str, Any] | None) -> None:
    result = openai_chat_to_ollama({"model": "m", "messages": [], **params})
    assert result.get("options") == options
    for unmapped in ("n", "user", "logit_bias", "temperature", "max_tokens"):
        assert unmapped not in result


@pytest.mark.parametrize(
    ("extra", "key", "expected"),
    [
        pytest.param({"response_format": {"type": "json_object"}}, "format", "json", id="json-object"),
        pytest.param(
            {
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "x", "schema": {"type": "object"}},
                }
            },
            "format",
            {"type": "object"},
            id="json-schema",
        ),
        pytest.param({"response_format": {"type": "text"}}, "format", None, id="text-format"),
        pytest.param({"reasoning_effort": "high"}, "think", "high", id="effort-high"),
        pytest.param({"reasoning_effort": "none"}, "think", False, id="effort-none"),
        pytest.param({"reasoning": {"effort": "low"}}, "think", "low", id="reasoning-object"),
        pytest.param({"reasoning_effort": "minimal"}, "think", "low", id="effort-minimal-is-low"),
        pytest.param({"reasoning": {"effort": "xhigh"}}, "think", "high", id="effort-xhigh-is-high"),
        pytest.param(
            {"tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": "none"},
            "tools",
            None,
            id="tool-choice-none-offers-no-tools",
        ),
        pytest.param(
            {"tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": "auto"},
            "tools",
            [{"type": "function", "function": {"name": "f"}}],
            id="tool-choice-auto-keeps-tools",
        ),
        pytest.param(
            {"chat_template_kwargs": {"enable_thinking": True}}, "think", True, id="vllm-enable-thinking"
        ),
        pytest.param({}, "think", None, id="no-reasoning"),
        pytest.param({}, "stream", False, id="stream-default-false"),
        pytest.param(
            {"stream": True, "stream_options": {"include_usage": True}}, "stream", True, id="stream-true"
        ),
        pytest.param({"stream": "yes"}, "stream", False, id="stream-not-bool"),
    ],
)
def test_openai_chat_top_level_fields_to_ollama(extra: dict[str, Any], key: str, expected: Any) -> None:
    result = openai_chat_to_ollama({"model": "m", "messages": [], **extra})
    assert result.get(key) == expected
    assert "stream_options" not in result
    assert "response_format" not in result


# --- requests: Ollama → OpenAI -------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "mime"),
    [
        pytest.param(PNG, "image/png", id="png"),
        pytest.param(JPEG, "image/jpeg", id="jpeg"),
        pytest.param(GIF, "image/gif", id="gif"),
        pytest.param(WEBP, "image/webp", id="webp"),
        pytest.param(UNKNOWN, "image/jpeg", id="unknown-falls-back"),
        pytest.param("!!!not base64!!!", "image/jpeg", id="garbage"),
    ],
)
def test_ollama_images_become_data_urls(image: str, mime: str) -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "see", "images": [image]}]}
    message = ollama_chat_to_openai(body)["messages"][0]
    assert message["content"] == [
        {"type": "text", "text": "see"},
        {"type": "image_url", "image_url": {"url": f"data:{mime};base64,{image}"}},
    ]


def test_ollama_image_without_text_and_existing_data_url() -> None:
    body = {"messages": [{"role": "user", "content": "", "images": [f"data:image/gif;base64,{GIF}", 7, ""]}]}
    message = ollama_chat_to_openai(body)["messages"][0]
    assert message["content"] == [{"type": "image_url", "image_url": {"url": f"data:image/gif;base64,{GIF}"}}]


def test_ollama_tool_conversation_to_openai_pairs_results_with_calls() -> None:
    body = {
        "model": "m",
        "messages": [
            {"role": "user", "content": "weather and time?"},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {"function": {"name": "get_weather", "arguments": {"city": "Paris"}}},
                    {"function": {"name": "get_time", "arguments": {}}},
                    {"id": "given", "function": {"name": "ping", "arguments": {"_raw": "oops"}}},
                ],
            },
            {"role": "tool", "tool_name": "get_time", "content": "12:00"},
            {"role": "tool", "content": "sunny"},
            {"role": "tool", "tool_name": "ping", "content": "pong"},
            {"role": "tool", "tool_name": "late", "content": "no call left"},
        ],
        "tools": [{"function": WEATHER_TOOL["function"]}],
    }
    result = ollama_chat_to_openai(body)
    assistant = result["messages"][1]
    assert assistant["content"] is None
    calls = assistant["tool_calls"]
    assert [call["function"] for call in calls] == [
        {"name": "get_weather", "arguments": '{"city":"Paris"}'},
        {"name": "get_time", "arguments": "{}"},
        {"name": "ping", "arguments": "oops"},
    ]
    assert all(call["type"] == "function" and call["id"].startswith("call_") for call in calls[:2])
    assert calls[2]["id"] == "given"
    assert len({call["id"] for call in calls}) == 3
    tool_ids = [message["tool_call_id"] for message in result["messages"][2:]]
    assert tool_ids[:3] == [calls[1]["id"], calls[0]["id"], "given"]
    assert tool_ids[3].startswith("call_") and tool_ids[3] not in tool_ids[:3]
    assert result["tools"] == [WEATHER_TOOL]


@pytest.mark.parametrize(
    ("options", "params"),
    [
        pytest.param(
            {"temperature": 0.2, "top_p": 0.8, "seed": 1, "presence_penalty": 0.4, "frequency_penalty": 0.3},
            {"temperature": 0.2, "top_p": 0.8, "seed": 1, "presence_penalty": 0.4, "frequency_penalty": 0.3},
            id="sampling",
        ),
        pytest.param({"num_predict": 64}, {"max_tokens": 64}, id="num-predict"),
        pytest.param({"num_predict": -1}, {}, id="num-predict-unbounded"),
        pytest.param({"num_predict": -2}, {}, id="num-predict-fill-context"),
        pytest.param({"stop": ["\n\n", "User:"]}, {"stop": ["\n\n", "User:"]}, id="stop"),
        pytest.param(
            {"top_k": 40, "min_p": 0.1, "repeat_penalty": 1.2},
            {"top_k": 40, "min_p": 0.1, "repetition_penalty": 1.2},
            id="extras",
        ),
        pytest.param({"num_ctx": 8192, "mirostat": 1, "num_gpu": 1}, {}, id="no-equivalent"),
        pytest.param(None, {}, id="options-null"),
        pytest.param("fast", {}, id="options-string"),
    ],
)
def test_ollama_options_to_openai_params(options: Any, params: dict[str, Any]) -> None:
    result = ollama_chat_to_openai({"model": "m", "messages": [], "options": options, "stream": False})
    assert {
        key: value for key, value in result.items() if key not in ("model", "messages", "stream")
    } == params


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        pytest.param(
            {}, {"stream": True, "stream_options": {"include_usage": True}}, id="stream-default-true"
        ),
        pytest.param(
            {"stream": None}, {"stream": True, "stream_options": {"include_usage": True}}, id="stream-null"
        ),
        pytest.param({"stream": False}, {"stream": False}, id="stream-false"),
        pytest.param(
            {"stream": False, "format": "json"},
            {"stream": False, "response_format": {"type": "json_object"}},
            id="format-json",
        ),
        pytest.param(
            {"stream": False, "format": {"type": "object"}},
            {
                "stream": False,
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "response", "schema": {"type": "object"}},
                },
            },
            id="format-schema",
        ),
        pytest.param({"stream": False, "format": ""}, {"stream": False}, id="format-empty"),
        pytest.param(
            {"stream": False, "think": "high"},
            {"stream": False, "reasoning_effort": "high"},
            id="think-level",
        ),
        pytest.param(
            {"stream": False, "think": "max"}, {"stream": False, "reasoning_effort": "high"}, id="think-max"
        ),
        pytest.param(
            {"stream": False, "think": False},
            {"stream": False, "chat_template_kwargs": {"enable_thinking": False}},
            id="think-false",
        ),
        pytest.param({"stream": False, "keep_alive": "5m", "think": "odd"}, {"stream": False}, id="dropped"),
    ],
)
def test_ollama_chat_top_level_fields_to_openai(extra: dict[str, Any], expected: dict[str, Any]) -> None:
    result = ollama_chat_to_openai({"model": "m", "messages": [], **extra})
    assert result == {"model": "m", "messages": [], **expected}


def test_chat_request_round_trip_openai_ollama_openai() -> None:
    body = {
        "model": "m",
        "messages": [
            {"role": "system", "content": "be brief"},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "what is it?"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
                ],
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "cold"},
        ],
        "tools": [WEATHER_TOOL],
        "temperature": 0.5,
        "top_p": 0.9,
        "max_tokens": 32,
        "stop": ["END"],
        "seed": 7,
        "response_format": {"type": "json_object"},
        "stream": True,
    }
    back = ollama_chat_to_openai(openai_chat_to_ollama(body))
    assert back == {**body, "stream_options": {"include_usage": True}}


def test_chat_request_round_trip_ollama_openai_ollama() -> None:
    body = {
        "model": "m",
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "what is it?", "images": [JPEG]},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {"function": {"index": 0, "name": "get_weather", "arguments": {"city": "Oslo"}}}
                ],
            },
            {"role": "tool", "content": "cold", "tool_name": "get_weather"},
        ],
        "tools": [WEATHER_TOOL],
        "options": {"temperature": 0.5, "num_predict": 32, "stop": ["END"], "seed": 7},
        "format": "json",
        "think": "low",
        "stream": True,
    }
    back = openai_chat_to_ollama(ollama_chat_to_openai(body))
    generated_id = back["messages"][2]["tool_calls"][0].pop("id")
    assert back["messages"][3].pop("tool_call_id") == generated_id
    assert back == body


def test_chat_requests_do_not_mutate_or_share_input() -> None:
    openai_body = {
        "model": "m",
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "x"}]},
            {
                "role": "assistant",
                "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": {"a": [1]}}}],
            },
        ],
        "tools": [copy.deepcopy(WEATHER_TOOL)],
        "stop": ["s"],
        "response_format": {"type": "json_schema", "json_schema": {"schema": {"type": "object"}}},
    }
    ollama_body = {
        "model": "m",
        "messages": [
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [{"function": {"name": "f", "arguments": {"a": [1]}}}],
            }
        ],
        "tools": [copy.deepcopy(WEATHER_TOOL)],
        "options": {"stop": ["s"]},
        "format": {"type": "object"},
    }
    for translate, body in ((openai_chat_to_ollama, openai_body), (ollama_chat_to_openai, ollama_body)):
        before = copy.deepcopy(body)
        result = translate(body)
        assert body == before
        result["tools"][0]["function"]["parameters"]["properties"]["city"]["type"] = "changed"
        result["messages"].clear()
        assert body == before
    converted = openai_chat_to_ollama(openai_body)
    converted["messages"][1]["tool_calls"][0]["function"]["arguments"]["a"].append(2)
    converted["format"]["added"] = True
    assert openai_body["messages"][1]["tool_calls"][0]["function"]["arguments"] == {"a": [1]}  # type: ignore[index]
    assert "added" not in openai_body["response_format"]["json_schema"]["schema"]  # type: ignore[index]
