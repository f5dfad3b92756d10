"""Responses requests as chat completions bodies (`providers.responses`)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from maestro_app.providers.responses import (
    ResponsesRequestError,
    responses_needs,
    responses_prompt_chars,
    responses_to_chat,
)

IMAGE = "data:image/png;base64,iVBORw0KGgo="
WEATHER = {"type": "function", "name": "get_weather", "parameters": {"type": "object"}, "strict": True}


def chat(**body: Any) -> dict[str, Any]:
    return responses_to_chat({"model": "m", **body})


def test_string_input_and_instructions() -> None:
    assert chat(input="hi") == {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    assert chat(input="hi", instructions="Be brief.", stream=True) == {
        "model": "m",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}],
        "stream": True,
    }


def test_a_codex_conversation() -> None:
    body = {
        "model": "m",
        "instructions": "You are Codex.",
        "input": [
            {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "Sandbox."}]},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "list files"}]},
            {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "plan"}]},
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Sure."}]},
            {"type": "function_call", "call_id": "c1", "name": "shell", "arguments": '{"cmd":"ls"}'},
            {"type": "function_call", "call_id": "c2", "name": "shell", "arguments": '{"cmd":"pwd"}'},
            {"type": "function_call_output", "call_id": "c1", "output": "a.py"},
            {
                "type": "function_call_output",
                "call_id": "c2",
                "output": [{"type": "input_text", "text": "/w"}],
            },
            {"type": "web_search_call", "id": "ws_1", "status": "completed"},
            {"role": "developer", "content": "Now in write mode."},
            {"role": "user", "content": "thanks"},
        ],
    }
    original = copy.deepcopy(body)
    assert responses_to_chat(body)["messages"] == [
        {"role": "system", "content": "You are Codex.\n\nSandbox."},
        {"role": "user", "content": "list files"},
        {
            "role": "assistant",
            "content": "Sure.",
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "shell", "arguments": '{"cmd":"ls"}'}},
                {"id": "c2", "type": "function", "function": {"name": "shell", "arguments": '{"cmd":"pwd"}'}},
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "a.py"},
        {"role": "tool", "tool_call_id": "c2", "content": "/w"},
        {"role": "system", "content": "Now in write mode."},
        {"role": "user", "content": "thanks"},
    ]
    assert body == original


def test_calls_without_assistant_text_and_images_returned_by_a_tool() -> None:
    messages = chat(
        input=[
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "look"},
                    {"type": "input_image", "image_url": IMAGE, "detail": "low"},
                ],
            },
            {"type": "function_call", "call_id": "c1", "name": "view_image"},
            {
                "type": "function_call_output",
                "call_id": "c1",
                "output": [
                    {"type": "input_text", "text": "done"},
                    {"type": "input_image", "image_url": IMAGE},
                ],
            },
        ]
    )["messages"]
    assert messages[0] == {
        "role": "user",
        "content": [
            {"type": "text", "text": "look"},
            {"type": "image_url", "image_url": {"url": IMAGE, "detail": "low"}},
        ],
    }
    assert messages[1] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "view_image", "arguments": "{}"}}
        ],
    }
    assert messages[2] == {"role": "tool", "tool_call_id": "c1", "content": "done"}
    # Tool messages carry text only: the images follow, once the tool results are all in.
    assert messages[3]["role"] == "user" and messages[3]["content"][1]["image_url"] == {"url": IMAGE}


def test_parameters() -> None:
    body = chat(
        input="x",
        max_output_tokens=100,
        temperature=0.2,
        top_p=0.5,
        reasoning={"effort": "low", "summary": "auto"},
        text={
            "format": {"type": "json_schema", "name": "out", "schema": {"type": "object"}, "strict": True},
            "verbosity": "low",
        },
        store=False,
        metadata={"a": "b"},
        include=["reasoning.encrypted_content"],
        prompt_cache_key="k",
        truncation="auto",
        user="u",
    )
    assert body == {
        "model": "m",
        "messages": [{"role": "user", "content": "x"}],
        "max_tokens": 100,
        "temperature": 0.2,
        "top_p": 0.5,
        "reasoning_effort": "low",
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "out", "schema": {"type": "object"}, "strict": True},
        },
    }
    assert chat(input="x", text={"format": {"type": "json_object"}})["response_format"] == {
        "type": "json_object"
    }
    assert "response_format" not in chat(input="x", text={"format": {"type": "text"}})
    assert "reasoning_effort" not in chat(input="x", reasoning={"summary": "auto"})


@pytest.mark.parametrize(
    ("choice", "tools", "expected_choice", "names"),
    [
        pytest.param(None, [WEATHER], None, ["get_weather"], id="no-choice"),
        pytest.param("required", [WEATHER], "required", ["get_weather"], id="required"),
        pytest.param(
            {"type": "function", "name": "get_weather"},
            [WEATHER],
            {"type": "function", "function": {"name": "get_weather"}},
            ["get_weather"],
            id="named",
        ),
        pytest.param(
            {"type": "allowed_tools", "mode": "required", "tools": [{"type": "function", "name": "b"}]},
            [dict(WEATHER, name="a"), dict(WEATHER, name="b")],
            "required",
            ["b"],
            id="allowed-tools",
        ),
        pytest.param(
            {"type": "web_search_preview"},
            [WEATHER, {"type": "web_search_preview"}],
            "auto",
            ["get_weather"],
            id="hosted",
        ),
        pytest.param(
            "auto",
            [{"type": "web_search"}, {"type": "custom", "name": "apply_patch"}],
            None,
            [],
            id="nothing-left",
        ),
    ],
)
def test_tools_and_tool_choice(choice: Any, tools: list[Any], expected_choice: Any, names: list[str]) -> None:
    body = chat(input="x", tools=tools, tool_choice=choice, parallel_tool_calls=False)
    assert [t["function"]["name"] for t in body.get("tools", [])] == names
    assert body.get("tool_choice") == expected_choice
    assert body.get("parallel_tool_calls") == (False if names else None)
    if names:
        assert body["tools"][0]["type"] == "function" and "name" not in body["tools"][0]


def test_function_tool_shape() -> None:
    (tool,) = chat(input="x", tools=[dict(WEATHER, description="Weather")])["tools"]
    assert tool == {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather",
            "parameters": {"type": "object"},
            "strict": True,
        },
    }


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": None}, "input"),
        ({"input": "", "instructions": ""}, "input"),
        ({"input": [{"type": "message", "role": "user", "content": 5}]}, "input[0].content"),
        ({"input": [{"role": "user", "content": [{"type": "input_audio"}]}]}, "input[0].content[0].type"),
        (
            {"input": [{"role": "assistant", "content": [{"type": "input_image", "image_url": IMAGE}]}]},
            "input[0].content[0].type",
        ),
        (
            {"input": [{"type": "function_call", "call_id": "c", "name": "f", "arguments": {}}]},
            "input[0].arguments",
        ),
        ({"input": [{"type": "function_call_output", "call_id": "c", "output": 3}]}, "input[0].output"),
        ({"input": [{"type": 7}]}, "input[0].type"),
        ({"input": "x", "text": {"format": {"type": "json_schema", "name": "x"}}}, "text.format.schema"),
        ({"input": "x", "tools": ["f"]}, "tools[0]"),
        ({"input": "x", "tool_choice": {"type": "function"}}, "tool_choice.name"),
        ({"input": "x", "max_output_tokens": True}, "max_output_tokens"),
        ({"input": "x", "prompt": {"id": "pmpt_1"}}, "prompt"),
    ],
)
def test_bad_requests_name_the_param(body: dict[str, Any], param: str) -> None:
    with pytest.raises(ResponsesRequestError) as caught:
        responses_to_chat({"model": "m", **body})
    assert caught.value.param == param and caught.value.message


def test_needs_and_prompt_size() -> None:
    assert responses_needs({"input": "x", "tools": [{"type": "web_search"}]}) == frozenset()
    assert responses_needs({"input": "x", "tools": [WEATHER]}) == {"tools"}
    picture = [{"role": "user", "content": [{"type": "input_image", "image_url": IMAGE}]}]
    assert responses_needs({"input": picture}) == {"vision"}
    returned = [
        {
            "type": "function_call_output",
            "call_id": "c",
            "output": [{"type": "input_image", "image_url": IMAGE}],
        }
    ]
    assert responses_needs({"input": returned}) == {"vision"}
    body = {
        "instructions": "1234",
        "input": [
            {"role": "user", "content": [{"type": "input_text", "text": "12345"}]},
            {"type": "function_call", "call_id": "c", "name": "f", "arguments": "12"},
            {"type": "function_call_output", "call_id": "c", "output": "123"},
        ],
    }
    assert responses_prompt_chars(body) == 14
    assert responses_prompt_chars({"input": "abc"}) == 3
