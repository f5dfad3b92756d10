"""Chat streams between dialects, checked chunk by chunk and through the SDKs' own
stream accumulators and models."""

from typing import Any

import ollama
import pytest
from openai.lib.streaming.chat import ChatCompletionStreamState
from openai.types.chat import ChatCompletionChunk

from maestro_app.providers.bridge import OllamaChatStreamToOpenAI, OpenAIChatStreamToOllama
from maestro_app.providers.types import Usage

# --- streams: Ollama → OpenAI ----------------------------------------------------------


def _ollama_chunk(**message: Any) -> dict[str, Any]:
    return {
        "model": "real",
        "created_at": "2024-05-01T12:00:00Z",
        "message": {"role": "assistant", **message},
        "done": False,
    }


def _ollama_done(reason: str = "stop", **counts: int) -> dict[str, Any]:
    return {
        "model": "real",
        "created_at": "2024-05-01T12:00:01Z",
        "message": {"role": "assistant", "content": ""},
        "done": True,
        "done_reason": reason,
        **counts,
    }


def _run_to_openai(
    chunks: list[dict[str, Any]], *, include_usage: bool = True
) -> tuple[list[dict[str, Any]], OllamaChatStreamToOpenAI]:
    stream = OllamaChatStreamToOpenAI(model="shown", include_usage=include_usage)
    out: list[dict[str, Any]] = []
    for chunk in chunks:
        out += stream.feed(chunk)
    out += stream.finish()
    for chunk in out:
        ChatCompletionChunk.model_validate(chunk)
    return out, stream


def _accumulate(chunks: list[dict[str, Any]]) -> Any:
    state: ChatCompletionStreamState = ChatCompletionStreamState()
    for chunk in chunks:
        state.handle_chunk(ChatCompletionChunk.model_validate(chunk))
    return state.get_final_completion()


def test_ollama_text_stream_to_openai() -> None:
    out, stream = _run_to_openai(
        [
            _ollama_chunk(content="", thinking="Let me"),
            _ollama_chunk(content="", thinking=" think"),
            _ollama_chunk(content="Hel"),
            _ollama_chunk(content="lo"),
            _ollama_done(prompt_eval_count=5, eval_count=2),
        ]
    )
    assert [chunk["choices"][0]["delta"] for chunk in out[:-1]] == [
        {"role": "assistant", "reasoning_content": "Let me"},
        {"reasoning_content": " think"},
        {"content": "Hel"},
        {"content": "lo"},
        {},
    ]
    assert [chunk["choices"][0]["finish_reason"] for chunk in out[:-1]] == [None, None, None, None, "stop"]
    assert out[-1]["choices"] == [] and out[-1]["usage"] == {
        "prompt_tokens": 5,
        "completion_tokens": 2,
        "total_tokens": 7,
    }
    assert {chunk["id"] for chunk in out} == {out[0]["id"]}
    assert {chunk["model"] for chunk in out} == {"shown"}
    assert {chunk["object"] for chunk in out} == {"chat.completion.chunk"}
    assert stream.usage == Usage(5, 2)
    assert _accumulate(out).choices[0].message.content == "Hello"


def test_ollama_tool_call_stream_to_openai() -> None:
    out, _ = _run_to_openai(
        [
            _ollama_chunk(
                content="", tool_calls=[{"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]
            ),
            _ollama_chunk(
                content="",
                tool_calls=[
                    {"function": {"name": "get_time", "arguments": {}}},
                    {"id": "x1", "function": {"name": "ping", "arguments": {"n": 1}}},
                ],
            ),
            _ollama_done(prompt_eval_count=9, eval_count=4),
        ]
    )
    deltas = [chunk["choices"][0]["delta"] for chunk in out if chunk["choices"]]
    calls = [call for delta in deltas for call in delta.get("tool_calls", [])]
    assert [call["index"] for call in calls] == [0, 1, 2]
    assert calls[2]["id"] == "x1"
    assert out[-2]["choices"][0]["finish_reason"] == "tool_calls"
    completion = _accumulate(out)
    tool_calls = completion.choices[0].message.tool_calls
    assert tool_calls is not None
    assert [(call.function.name, call.function.arguments) for call in tool_calls] == [
        ("get_weather", '{"city":"Paris"}'),
        ("get_time", "{}"),
        ("ping", '{"n":1}'),
    ]


@pytest.mark.parametrize(
    ("chunks", "include_usage", "finish_reason", "has_usage_chunk"),
    [
        pytest.param(
            [_ollama_chunk(content="a"), _ollama_done("length", eval_count=1)],
            True,
            "length",
            True,
            id="length",
        ),
        pytest.param(
            [_ollama_chunk(content="a"), _ollama_done(eval_count=1)],
            False,
            "stop",
            False,
            id="no-include-usage",
        ),
        pytest.param([_ollama_chunk(content="a")], True, "stop", False, id="ended-without-done"),
        pytest.param([], True, "stop", False, id="empty-stream"),
        pytest.param([_ollama_done(prompt_eval_count=1, eval_count=0)], True, "stop", True, id="only-done"),
    ],
)
def test_ollama_stream_endings(
    chunks: list[dict[str, Any]], include_usage: bool, finish_reason: str, has_usage_chunk: bool
) -> None:
    out, _ = _run_to_openai(chunks, include_usage=include_usage)
    closing = out[-2] if has_usage_chunk else out[-1]
    assert closing["choices"][0]["finish_reason"] == finish_reason
    assert out[0]["choices"][0]["delta"]["role"] == "assistant"
    assert sum("role" in chunk["choices"][0]["delta"] for chunk in out if chunk["choices"]) == 1
    assert ("usage" in out[-1]) is has_usage_chunk


def test_ollama_stream_ignores_chunks_after_done_and_repeated_finish() -> None:
    stream = OllamaChatStreamToOpenAI(model="m", include_usage=True)
    assert len(stream.feed(_ollama_done(eval_count=1))) == 2
    assert stream.feed(_ollama_chunk(content="late")) == []
    assert stream.finish() == []


@pytest.mark.parametrize(
    "chunk",
    [
        {},
        {"message": None},
        {"message": "text"},
        {"message": {"content": None, "tool_calls": "x"}},
        {"done": "yes"},
    ],
)
def test_ollama_stream_odd_chunks_give_nothing(chunk: dict[str, Any]) -> None:
    stream = OllamaChatStreamToOpenAI(model="m", include_usage=True)
    assert stream.feed(chunk) == []
    assert stream.usage is None


# --- streams: OpenAI → Ollama ----------------------------------------------------------


def _openai_chunk(delta: dict[str, Any] | None = None, finish_reason: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "real",
        "choices": [{"index": 0, "delta": delta or {}, "finish_reason": finish_reason}],
    }


def _usage_chunk(prompt: int, completion: int, choices: Any = ()) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "real",
        "choices": list(choices) if choices is not None else None,
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
    }


def _run_to_ollama(chunks: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], OpenAIChatStreamToOllama]:
    stream = OpenAIChatStreamToOllama(model="shown")
    out: list[dict[str, Any]] = []
    for chunk in chunks:
        out += stream.feed(chunk)
    out += stream.finish()
    for obj in out:
        ollama.ChatResponse.model_validate(obj)
    return out, stream


def test_openai_text_stream_to_ollama() -> None:
    out, stream = _run_to_ollama(
        [
            _openai_chunk({"role": "assistant", "content": ""}),
            _openai_chunk({"reasoning_content": "hmm"}),
            _openai_chunk({"content": "Hel"}),
            _openai_chunk({"content": "lo"}),
            _openai_chunk({}, "stop"),
            _usage_chunk(7, 2),
        ]
    )
    assert [obj["message"] for obj in out[:-1]] == [
        {"role": "assistant", "content": "", "thinking": "hmm"},
        {"role": "assistant", "content": "Hel"},
        {"role": "assistant", "content": "lo"},
    ]
    assert all(obj["done"] is False and obj["model"] == "shown" for obj in out[:-1])
    assert out[-1] == {
        "model": "shown",
        "created_at": out[-1]["created_at"],
        "message": {"role": "assistant", "content": ""},
        "done": True,
        "done_reason": "stop",
        "total_duration": 0,
        "load_duration": 0,
        "prompt_eval_count": 7,
        "prompt_eval_duration": 0,
        "eval_count": 2,
        "eval_duration": 0,
    }
    assert stream.usage == Usage(7, 2)


def test_openai_tool_call_fragments_are_gathered_into_one_ollama_object() -> None:
    out, _ = _run_to_ollama(
        [
            _openai_chunk({"role": "assistant", "content": None}),
            _openai_chunk(
                {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "call_a",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": ""},
                        }
                    ]
                }
            ),
            _openai_chunk(
                {
                    "tool_calls": [
                        {
                            "index": 1,
                            "id": "call_b",
                            "type": "function",
                            "function": {"name": "get_time", "arguments": "{"},
                        }
                    ]
                }
            ),
            _openai_chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city": '}}]}),
            _openai_chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"Paris"}'}}]}),
            _openai_chunk({"tool_calls": [{"index": 1, "function": {"arguments": "}"}}]}),
            _openai_chunk({}, "tool_calls"),
            _usage_chunk(30, 12, choices=None),
        ]
    )
    assert len(out) == 2
    assert out[0]["done"] is False
    assert out[0]["message"] == {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {"id": "call_a", "function": {"index": 0, "name": "get_weather", "arguments": {"city": "Paris"}}},
            {"id": "call_b", "function": {"index": 1, "name": "get_time", "arguments": {}}},
        ],
    }
    assert out[1]["done"] is True and out[1]["done_reason"] == "stop"
    assert (out[1]["prompt_eval_count"], out[1]["eval_count"]) == (30, 12)


def test_openai_tool_calls_without_index_and_without_finish_reason() -> None:
    out, stream = _run_to_ollama(
        [
            _openai_chunk({"tool_calls": [{"id": "a", "function": {"name": "f", "arguments": '{"x":'}}]}),
            _openai_chunk({"tool_calls": [{"function": {"arguments": "1}"}}]}),
            _openai_chunk({"tool_calls": [{"id": "b", "function": {"name": "g", "arguments": {"y": 2}}}]}),
            _openai_chunk({"tool_calls": [{"index": 5, "function": {"name": "h", "arguments": "oops"}}]}),
        ]
    )
    assert [call["function"]["arguments"] for call in out[0]["message"]["tool_calls"]] == [
        {"x": 1},
        {"y": 2},
        {"_raw": "oops"},
    ]
    assert out[-1]["done"] is True and out[-1]["done_reason"] == "stop"
    assert "prompt_eval_count" not in out[-1]
    assert stream.usage is None


def test_openai_stream_length_and_repeated_finish() -> None:
    stream = OpenAIChatStreamToOllama(model="m")
    stream.feed(_openai_chunk({"content": "a"}, "length"))
    final = stream.finish()
    assert final[-1]["done_reason"] == "length"
    assert stream.finish() == []
    assert stream.feed(_openai_chunk({"content": "late"})) == []


@pytest.mark.parametrize(
    "chunk",
    [
        {},
        {"choices": None},
        {"choices": "x"},
        {"choices": [None]},
        {"choices": [{"delta": None}]},
        {"choices": [{"delta": {"content": None, "tool_calls": None}}]},
        {"choices": [{"delta": {"tool_calls": [None, "x", {"index": "0"}]}}]},
        {"usage": None, "choices": []},
    ],
)
def test_openai_stream_odd_chunks_never_raise(chunk: dict[str, Any]) -> None:
    stream = OpenAIChatStreamToOllama(model="m")
    assert stream.feed(chunk) == []
    final = stream.finish()
    ollama.ChatResponse.model_validate(final[-1])
