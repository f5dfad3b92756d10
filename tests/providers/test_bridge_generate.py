import copy
from typing import Any

import ollama
import pytest
from openai.types import Completion

from maestro_app.providers.bridge import (
    OllamaChatStreamToOpenAI,
    OpenAIChatStreamToOllama,
    ollama_generate_response_to_openai_completion,
    ollama_generate_to_openai_completions,
    openai_completion_response_to_ollama_generate,
    openai_completions_to_ollama_generate,
)
from maestro_app.providers.types import Usage

# --- requests ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            {"model": "m", "prompt": "Once upon"},
            {"model": "m", "prompt": "Once upon", "stream": False},
            id="minimal",
        ),
        pytest.param(
            {"model": "m", "prompt": ["first", "second"], "stream": True},
            {"model": "m", "prompt": "first", "stream": True},
            id="batch-keeps-first",
        ),
        pytest.param({"prompt": [1, 2, 3]}, {"prompt": "", "stream": False}, id="token-ids"),
        pytest.param({"prompt": []}, {"prompt": "", "stream": False}, id="empty-batch"),
        pytest.param({}, {"prompt": "", "stream": False}, id="no-prompt"),
        pytest.param(
            {
                "prompt": "def f(",
                "suffix": "    return x",
                "max_tokens": 16,
                "temperature": 0,
                "stop": "\n\n",
                "seed": 3,
            },
            {
                "prompt": "def f(",
                "suffix": "    return x",
                "stream": False,
                "options": {"temperature": 0, "seed": 3, "num_predict": 16, "stop": ["\n\n"]},
            },
            id="suffix-and-options",
        ),
        pytest.param(
            {
                "prompt": "x",
                "echo": True,
                "best_of": 2,
                "logprobs": 3,
                "stream_options": {"include_usage": True},
            },
            {"prompt": "x", "stream": False},
            id="unmapped-dropped",
        ),
    ],
)
def test_openai_completions_to_ollama_generate(body: dict[str, Any], expected: dict[str, Any]) -> None:
    before = copy.deepcopy(body)
    assert openai_completions_to_ollama_generate(body) == expected
    assert body == before


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            {"model": "m", "prompt": "Why?"},
            {"model": "m", "prompt": "Why?", "stream": True, "stream_options": {"include_usage": True}},
            id="stream-default-true",
        ),
        pytest.param(
            {"prompt": "Why?", "system": "Answer briefly.", "stream": False},
            {"prompt": "Answer briefly.\n\nWhy?", "stream": False},
            id="system-before-prompt",
        ),
        pytest.param(
            {"system": "Only system", "stream": False},
            {"prompt": "Only system", "stream": False},
            id="system-only",
        ),
        pytest.param(
            {
                "prompt": "describe",
                "images": ["iVBORw0KGgo="],
                "template": "{{ .Prompt }}",
                "context": [1, 2],
                "raw": True,
                "keep_alive": "1m",
                "think": True,
                "stream": False,
            },
            {"prompt": "describe", "stream": False},
            id="no-equivalent-dropped",
        ),
        pytest.param(
            {
                "prompt": "p",
                "suffix": "s",
                "format": "json",
                "options": {
                    "num_predict": 8,
                    "temperature": 0.1,
                    "top_p": 0.5,
                    "stop": ["x"],
                    "num_ctx": 4096,
                },
                "stream": False,
            },
            {
                "prompt": "p",
                "suffix": "s",
                "temperature": 0.1,
                "top_p": 0.5,
                "max_tokens": 8,
                "stop": ["x"],
                "response_format": {"type": "json_object"},
                "stream": False,
            },
            id="options-and-format",
        ),
        pytest.param(
            {"prompt": None, "system": 5, "stream": False}, {"prompt": "", "stream": False}, id="odd-types"
        ),
    ],
)
def test_ollama_generate_to_openai_completions(body: dict[str, Any], expected: dict[str, Any]) -> None:
    before = copy.deepcopy(body)
    assert ollama_generate_to_openai_completions(body) == expected
    assert body == before


def test_generate_request_round_trip() -> None:
    body = {
        "model": "m",
        "prompt": "Once",
        "suffix": "end",
        "options": {"temperature": 0.7, "num_predict": 20, "stop": ["."], "seed": 9},
        "stream": False,
    }
    assert openai_completions_to_ollama_generate(ollama_generate_to_openai_completions(body)) == body


# --- non-streamed answers ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "text", "finish_reason", "usage"),
    [
        pytest.param(
            {
                "model": "real",
                "created_at": "2024-05-01T12:00:00Z",
                "response": "The sky is blue.",
                "done": True,
                "done_reason": "stop",
                "context": [1, 2],
                "prompt_eval_count": 10,
                "eval_count": 5,
            },
            "The sky is blue.",
            "stop",
            {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
            id="full",
        ),
        pytest.param(
            {"response": "cut", "done_reason": "length", "eval_count": 2},
            "cut",
            "length",
            {"prompt_tokens": 0, "completion_tokens": 2, "total_tokens": 2},
            id="length",
        ),
        pytest.param(
            {}, "", "stop", {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}, id="empty"
        ),
    ],
)
def test_ollama_generate_answer_to_openai(
    answer: dict[str, Any], text: str, finish_reason: str, usage: dict[str, int]
) -> None:
    result = ollama_generate_response_to_openai_completion(answer, model="shown")
    Completion.model_validate(result)
    assert result["object"] == "text_completion"
    assert result["id"].startswith("cmpl-")
    assert result["model"] == "shown"
    assert result["choices"] == [{"index": 0, "text": text, "logprobs": None, "finish_reason": finish_reason}]
    assert result["usage"] == usage


def test_openai_completion_answer_to_ollama() -> None:
    answer = {
        "id": "cmpl-1",
        "object": "text_completion",
        "created": 1714564800,
        "model": "real",
        "choices": [{"index": 0, "text": " there", "logprobs": None, "finish_reason": "length"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
    }
    result = openai_completion_response_to_ollama_generate(answer, model="shown")
    ollama.GenerateResponse.model_validate(result)
    assert result == {
        "model": "shown",
        "created_at": "2024-05-01T12:00:00.000000Z",
        "response": " there",
        "done": True,
        "done_reason": "length",
        "total_duration": 0,
        "load_duration": 0,
        "prompt_eval_count": 3,
        "prompt_eval_duration": 0,
        "eval_count": 1,
        "eval_duration": 0,
    }


@pytest.mark.parametrize(
    "answer", [{}, {"choices": None}, {"choices": [{"text": None}]}, {"created": "yesterday"}]
)
def test_openai_completion_answer_odd_shapes(answer: dict[str, Any]) -> None:
    result = openai_completion_response_to_ollama_generate(answer, model="m")
    ollama.GenerateResponse.model_validate(result)
    assert result["response"] == "" and result["done"] is True


# --- streams -------------------------------------------------------------------------------


def _validate_completion_chunk(chunk: dict[str, Any]) -> None:
    # The SDK parses stream chunks with its `Completion` model without validation; its
    # `finish_reason` is typed non-null although every chunk but the last carries null.
    choices = [{**choice, "finish_reason": choice["finish_reason"] or "stop"} for choice in chunk["choices"]]
    Completion.model_validate({**chunk, "choices": choices})


def test_ollama_generate_stream_to_openai_completion_chunks() -> None:
    stream = OllamaChatStreamToOpenAI(model="shown", include_usage=True, kind="completion")
    out: list[dict[str, Any]] = []
    for chunk in [
        {"model": "real", "response": "The", "done": False},
        {"model": "real", "response": "", "thinking": "ignored", "done": False},
        {"model": "real", "response": " sky", "done": False},
        {
            "model": "real",
            "response": "",
            "done": True,
            "done_reason": "length",
            "prompt_eval_count": 4,
            "eval_count": 2,
        },
    ]:
        out += stream.feed(chunk)
    out += stream.finish()
    for chunk in out:
        _validate_completion_chunk(chunk)
    assert {chunk["object"] for chunk in out} == {"text_completion"}
    assert out[0]["id"].startswith("cmpl-")
    assert [chunk["choices"][0]["text"] for chunk in out[:-1]] == ["The", " sky", ""]
    assert [chunk["choices"][0]["finish_reason"] for chunk in out[:-1]] == [None, None, "length"]
    assert out[-1]["choices"] == []
    assert out[-1]["usage"] == {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6}
    assert stream.usage == Usage(4, 2)


def test_ollama_generate_stream_ended_without_done() -> None:
    stream = OllamaChatStreamToOpenAI(model="m", include_usage=True, kind="completion")
    assert len(stream.feed({"response": "a", "done": False})) == 1
    (closing,) = stream.finish()
    assert closing["choices"][0] == {"index": 0, "text": "", "logprobs": None, "finish_reason": "stop"}


def test_openai_completion_stream_to_ollama_generate() -> None:
    def chunk(piece: str, finish_reason: str | None = None) -> dict[str, Any]:
        return {
            "id": "cmpl-1",
            "object": "text_completion",
            "created": 1,
            "model": "real",
            "choices": [{"index": 0, "text": piece, "logprobs": None, "finish_reason": finish_reason}],
        }

    stream = OpenAIChatStreamToOllama(model="shown", kind="generate")
    out: list[dict[str, Any]] = []
    for item in [
        chunk("Once"),
        chunk(" upon"),
        chunk("", "stop"),
        {
            "id": "cmpl-1",
            "object": "text_completion",
            "created": 1,
            "model": "real",
            "choices": [],
            "usage": {"prompt_tokens": 2, "completion_tokens": 2, "total_tokens": 4},
        },
    ]:
        out += stream.feed(item)
    out += stream.finish()
    for obj in out:
        ollama.GenerateResponse.model_validate(obj)
    assert [obj["response"] for obj in out] == ["Once", " upon", ""]
    assert [obj["done"] for obj in out] == [False, False, True]
    assert "message" not in out[-1]
    assert out[-1]["done_reason"] == "stop"
    assert (out[-1]["prompt_eval_count"], out[-1]["eval_count"]) == (2, 2)
    assert stream.usage == Usage(2, 2)
