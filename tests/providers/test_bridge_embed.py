import base64
import copy
import struct
from typing import Any

import ollama
import pytest
from openai.types import CreateEmbeddingResponse

from maestro_app.providers.bridge import (
    ollama_embed_response_to_ollama_legacy,
    ollama_embed_response_to_openai,
    ollama_embed_to_openai_embeddings,
    openai_embeddings_response_to_ollama_embed,
    openai_embeddings_response_to_ollama_legacy,
    openai_embeddings_to_ollama_embed,
)

VEC_A = [0.5, -0.25, 0.125]
VEC_B = [1.0, 2.0, 3.0]


def _b64_floats(vector: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


# --- requests ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param({"model": "e", "input": "hello"}, {"model": "e", "input": "hello"}, id="string"),
        pytest.param({"model": "e", "input": ["a", "b"]}, {"model": "e", "input": ["a", "b"]}, id="list"),
        pytest.param(
            {"model": "e", "input": "x", "dimensions": 256, "encoding_format": "float", "user": "u"},
            {"model": "e", "input": "x", "dimensions": 256},
            id="dimensions",
        ),
        pytest.param({}, {"input": ""}, id="empty"),
    ],
)
def test_openai_embeddings_to_ollama_embed(body: dict[str, Any], expected: dict[str, Any]) -> None:
    before = copy.deepcopy(body)
    result = openai_embeddings_to_ollama_embed(body)
    assert result == expected
    assert body == before
    if isinstance(result["input"], list):
        result["input"].append("mutated")
        assert body == before


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            {"model": "e", "input": ["a", "b"], "truncate": True, "keep_alive": "5m"},
            {"model": "e", "input": ["a", "b"], "encoding_format": "float"},
            id="embed",
        ),
        pytest.param(
            {"model": "e", "input": "a", "dimensions": 64},
            {"model": "e", "input": "a", "dimensions": 64, "encoding_format": "float"},
            id="embed-dimensions",
        ),
        pytest.param(
            {"model": "e", "prompt": "legacy", "options": {"temperature": 0}},
            {"model": "e", "input": "legacy", "encoding_format": "float"},
            id="legacy-prompt",
        ),
        pytest.param({}, {"input": "", "encoding_format": "float"}, id="empty"),
    ],
)
def test_ollama_embed_to_openai_embeddings(body: dict[str, Any], expected: dict[str, Any]) -> None:
    before = copy.deepcopy(body)
    assert ollama_embed_to_openai_embeddings(body) == expected
    assert body == before


# --- answers ------------------------------------------------------------------------------


def test_ollama_embed_answer_to_openai() -> None:
    answer = {"model": "real", "embeddings": [VEC_A, VEC_B], "total_duration": 1, "prompt_eval_count": 6}
    result = ollama_embed_response_to_openai(answer, model="shown")
    CreateEmbeddingResponse.model_validate(result)
    assert result == {
        "object": "list",
        "data": [
            {"object": "embedding", "index": 0, "embedding": VEC_A},
            {"object": "embedding", "index": 1, "embedding": VEC_B},
        ],
        "model": "shown",
        "usage": {"prompt_tokens": 6, "total_tokens": 6},
    }


@pytest.mark.parametrize(
    ("answer", "vectors", "prompt_tokens"),
    [
        pytest.param({"embedding": VEC_A}, [VEC_A], 0, id="legacy-answer"),
        pytest.param({"embeddings": []}, [], 0, id="no-vectors"),
        pytest.param({}, [], 0, id="empty"),
        pytest.param({"embeddings": [[1, "x", None, True, 2.5]]}, [[1, 2.5]], 0, id="junk-numbers"),
        pytest.param({"embeddings": None, "prompt_eval_count": 3}, [], 3, id="embeddings-null"),
    ],
)
def test_ollama_embed_answer_odd_shapes(
    answer: dict[str, Any], vectors: list[list[float]], prompt_tokens: int
) -> None:
    result = ollama_embed_response_to_openai(answer, model="m")
    CreateEmbeddingResponse.model_validate(result)
    assert [entry["embedding"] for entry in result["data"]] == vectors
    assert result["usage"]["prompt_tokens"] == prompt_tokens


def test_ollama_embed_answer_to_openai_base64() -> None:
    result = ollama_embed_response_to_openai({"embeddings": [VEC_A]}, model="m", encoding_format="base64")
    assert result["data"][0]["embedding"] == _b64_floats(VEC_A)


OPENAI_ANSWER = {
    "object": "list",
    "data": [
        {"object": "embedding", "index": 1, "embedding": VEC_B},
        {"object": "embedding", "index": 0, "embedding": VEC_A},
    ],
    "model": "real",
    "usage": {"prompt_tokens": 4, "total_tokens": 4},
}


def test_openai_embeddings_answer_to_ollama_embed() -> None:
    result = openai_embeddings_response_to_ollama_embed(OPENAI_ANSWER, model="shown")
    ollama.EmbedResponse.model_validate(result)
    assert result == {
        "model": "shown",
        "embeddings": [VEC_A, VEC_B],
        "total_duration": 0,
        "load_duration": 0,
        "prompt_eval_count": 4,
    }


@pytest.mark.parametrize(
    ("answer", "embeddings", "prompt_eval_count"),
    [
        pytest.param(
            {"data": [{"index": 0, "embedding": _b64_floats(VEC_A)}]}, [VEC_A], 0, id="base64-vectors"
        ),
        pytest.param(
            {"data": [{"embedding": VEC_B}, {"embedding": VEC_A}]}, [VEC_B, VEC_A], 0, id="no-index"
        ),
        pytest.param({"data": None, "usage": None}, [], 0, id="nulls"),
        pytest.param({"data": [{"embedding": "!!"}]}, [[]], 0, id="bad-base64"),
        pytest.param({}, [], 0, id="empty"),
    ],
)
def test_openai_embeddings_answer_odd_shapes(
    answer: dict[str, Any], embeddings: list[list[float]], prompt_eval_count: int
) -> None:
    result = openai_embeddings_response_to_ollama_embed(answer, model="m")
    ollama.EmbedResponse.model_validate(result)
    assert result["embeddings"] == embeddings
    assert result["prompt_eval_count"] == prompt_eval_count


@pytest.mark.parametrize(
    ("answer", "embedding"),
    [
        pytest.param(OPENAI_ANSWER, VEC_A, id="first-by-index"),
        pytest.param({"data": []}, [], id="no-data"),
    ],
)
def test_openai_embeddings_answer_to_ollama_legacy(answer: dict[str, Any], embedding: list[float]) -> None:
    result = openai_embeddings_response_to_ollama_legacy(answer, model="shown")
    ollama.EmbeddingsResponse.model_validate(result)
    assert result == {"embedding": embedding}


@pytest.mark.parametrize(
    ("answer", "embedding"),
    [
        pytest.param({"model": "e", "embeddings": [VEC_B, VEC_A], "prompt_eval_count": 2}, VEC_B, id="first"),
        pytest.param({"embeddings": []}, [], id="none"),
        pytest.param({}, [], id="empty"),
    ],
)
def test_ollama_embed_answer_to_ollama_legacy(answer: dict[str, Any], embedding: list[float]) -> None:
    result = ollama_embed_response_to_ollama_legacy(answer)
    ollama.EmbeddingsResponse.model_validate(result)
    assert result == {"embedding": embedding}


def test_embed_answers_round_trip() -> None:
    ollama_answer = {
        "model": "e",
        "embeddings": [VEC_A, VEC_B],
        "total_duration": 0,
        "load_duration": 0,
        "prompt_eval_count": 5,
    }
    openai_answer = ollama_embed_response_to_openai(ollama_answer, model="e")
    assert openai_embeddings_response_to_ollama_embed(openai_answer, model="e") == ollama_answer
