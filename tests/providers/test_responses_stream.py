"""Chat answers and streams as Responses objects and events, through the real legs
(`gateway.legs`: the node's chat leg, post-processing, then `stream_to_responses`)."""

from __future__ import annotations

import json
from typing import Any

from maestro_app.gateway.legs import leg_for
from maestro_app.providers.responses_answer import chat_answer_to_response
from tests.gateway.responses_order import check_order

REQUEST: dict[str, Any] = {"model": "m", "input": "x", "stream": True}


def chunk(delta: dict[str, Any] | None = None, finish: str | None = None, **extra: Any) -> dict[str, Any]:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return {
        "id": "c",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "real",
        "choices": choices,
        **extra,
    }


def run_vllm(chunks: list[dict[str, Any]], request: dict[str, Any] = REQUEST) -> list[dict[str, Any]]:
    transform = leg_for("openai", "responses", "vllm").stream("shown", False, request)
    events = [event for c in chunks for event in transform.feed(c)]
    return events + transform.finish()


def test_text_reasoning_and_usage_details() -> None:
    usage = {
        "prompt_tokens": 7,
        "completion_tokens": 4,
        "prompt_tokens_details": {"cached_tokens": 5},
        "completion_tokens_details": {"reasoning_tokens": 2},
    }
    events = run_vllm(
        [
            chunk({"role": "assistant", "content": ""}),
            chunk({"reasoning": "hm"}),  # vLLM's newer name
            chunk({"reasoning_content": "m."}),
            chunk({"content": "Hi"}),
            chunk({"content": "!"}),
            chunk({}, "stop"),
            chunk(None, usage=usage),
        ]
    )
    final = check_order(events)
    assert [item["type"] for item in final["output"]] == ["reasoning", "message"]
    assert final["output"][0]["summary"][0]["text"] == "hmm."
    assert final["output"][1]["content"][0]["text"] == "Hi!" and final["output"][1]["status"] == "completed"
    assert final["model"] == "shown" and final["status"] == "completed"
    assert final["usage"] == {
        "input_tokens": 7,
        "input_tokens_details": {"cached_tokens": 5},
        "output_tokens": 4,
        "output_tokens_details": {"reasoning_tokens": 2},
        "total_tokens": 11,
    }


def test_parallel_tool_calls_are_streamed_one_item_each() -> None:
    events = run_vllm(
        [
            chunk({"content": "Checking."}),
            chunk(
                {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "call_a",
                            "type": "function",
                            "function": {"name": "f", "arguments": ""},
                        }
                    ]
                }
            ),
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"x":'}}]}),
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]}),
            chunk(
                {
                    "tool_calls": [
                        {
                            "index": 1,
                            "id": "call_b",
                            "type": "function",
                            "function": {"name": "g", "arguments": "{}"},
                        }
                    ]
                }
            ),
            chunk({}, "tool_calls"),
        ]
    )
    final = check_order(events)
    message, first, second = final["output"]
    assert message["content"][0]["text"] == "Checking."
    assert (first["call_id"], first["name"], json.loads(first["arguments"])) == ("call_a", "f", {"x": 1})
    assert (second["call_id"], second["name"], second["arguments"]) == ("call_b", "g", "{}")
    deltas = [e["delta"] for e in events if e["type"] == "response.function_call_arguments.delta"]
    assert deltas == ['{"x":', "1}", "{}"]
    assert final["usage"] is None  # the node reported none


def test_truncation_makes_the_response_incomplete() -> None:
    events = run_vllm([chunk({"content": "a b"}), chunk({}, "length")])
    final = check_order(events)
    assert events[-1]["type"] == "response.incomplete"
    assert final["incomplete_details"] == {"reason": "max_output_tokens"}
    assert final["output"][0]["status"] == "incomplete"


def test_failure_before_any_output_and_nothing_after_the_end() -> None:
    transform = leg_for("openai", "responses", "ollama").stream("shown", False, REQUEST)
    failed = transform.fail("node went away")  # type: ignore[attr-defined]
    assert [e["type"] for e in failed] == ["response.created", "response.in_progress", "response.failed"]
    assert failed[-1]["response"]["error"] == {"code": "server_error", "message": "node went away"}
    assert transform.feed({"message": {"content": "late"}}) == [] and transform.finish() == []


def test_ollama_stream_with_thinking_and_a_tool_call() -> None:
    request = dict(REQUEST, tools=[{"type": "function", "name": "f", "parameters": {}}])
    transform = leg_for("openai", "responses", "ollama").stream("shown", False, request)
    frames = [
        {"model": "real", "message": {"role": "assistant", "content": "", "thinking": "plan"}, "done": False},
        {
            "model": "real",
            "message": {
                "role": "assistant",
                "content": "",
                "tool_calls": [{"function": {"name": "f", "arguments": {"q": 1}}}],
            },
            "done": False,
        },
        {
            "model": "real",
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": "stop",
            "prompt_eval_count": 3,
            "eval_count": 2,
        },
    ]
    events = [event for frame in frames for event in transform.feed(frame)] + transform.finish()
    final = check_order(events)
    assert [item["type"] for item in final["output"]] == ["reasoning", "function_call"]
    assert json.loads(final["output"][1]["arguments"]) == {"q": 1}
    assert final["usage"]["input_tokens"] == 3 and final["usage"]["output_tokens"] == 2
    assert transform.usage is not None and transform.usage.total_tokens == 5


def test_whole_answers() -> None:
    answer = {
        "id": "c",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "shown",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "Let me check.",
                    "reasoning_content": "think",
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "f", "arguments": '{"a":1}'},
                        }
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5},
    }
    request = {
        "model": "shown",
        "input": "x",
        "instructions": "Be brief.",
        "tools": [{"type": "function", "name": "f"}],
    }
    response = chat_answer_to_response(answer, model="shown", request=request)
    assert response["id"].startswith("resp_") and response["created_at"] == 1700000000
    assert [item["type"] for item in response["output"]] == ["reasoning", "message", "function_call"]
    assert response["output"][2]["call_id"] == "call_1" and response["output"][2]["arguments"] == '{"a":1}'
    assert response["usage"]["total_tokens"] == 5 and response["status"] == "completed"
    assert response["instructions"] == "Be brief." and response["tools"][0]["name"] == "f"
    assert response["store"] is False

    empty = dict(
        answer,
        choices=[{"index": 0, "message": {"role": "assistant", "content": None}, "finish_reason": "length"}],
    )
    truncated = chat_answer_to_response(empty, model="shown", request=request)
    assert truncated["status"] == "incomplete" and truncated["incomplete_details"] == {
        "reason": "max_output_tokens"
    }
    assert truncated["output"] == [
        {
            "id": truncated["output"][0]["id"],
            "type": "message",
            "role": "assistant",
            "status": "incomplete",
            "content": [{"type": "output_text", "text": "", "annotations": [], "logprobs": []}],
        }
    ]
