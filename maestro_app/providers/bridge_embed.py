"""Embeddings between dialects: OpenAI `/v1/embeddings` ↔ Ollama `/api/embed` and the
legacy `/api/embeddings`.

Inputs are never modified.
"""

import base64
import binascii
import struct
from collections.abc import Mapping
from typing import Any

from maestro_app.providers._coerce import integer, items, mapping
from maestro_app.providers.ollama import usage_from_ollama
from maestro_app.providers.openai import usage_from_openai
from maestro_app.providers.types import Usage

_FLOAT32_MAX = 3.4028234663852886e38


def _copy_input(value: Any) -> Any:
    return list(value) if isinstance(value, (list, tuple)) else value


def _vector(value: Any) -> list[float]:
    """A float vector, from a JSON list or OpenAI's base64 of little-endian float32."""
    if isinstance(value, str):
        try:
            raw = base64.b64decode(value, validate=False)
        except (binascii.Error, ValueError):
            return []
        count = len(raw) // 4
        return list(struct.unpack(f"<{count}f", raw[: count * 4]))
    return [
        number for number in items(value) if isinstance(number, (int, float)) and not isinstance(number, bool)
    ]


def _base64_vector(vector: list[float]) -> str:
    clamped = [min(_FLOAT32_MAX, max(-_FLOAT32_MAX, value)) for value in vector]
    return base64.b64encode(struct.pack(f"<{len(clamped)}f", *clamped)).decode()


def openai_embeddings_to_ollama_embed(body: Mapping[str, Any]) -> dict[str, Any]:
    """An Ollama `/api/embed` body for an OpenAI embeddings body."""
    result: dict[str, Any] = {}
    if "model" in body:
        result["model"] = body["model"]
    result["input"] = _copy_input(body.get("input", ""))
    dimensions = integer(body.get("dimensions"))
    if dimensions is not None:
        result["dimensions"] = dimensions
    return result


def ollama_embed_to_openai_embeddings(body: Mapping[str, Any]) -> dict[str, Any]:
    """An OpenAI embeddings body for an Ollama `/api/embed` (`input`) or legacy
    `/api/embeddings` (`prompt`) body. Floats are asked for, whatever the SDK default."""
    result: dict[str, Any] = {}
    if "model" in body:
        result["model"] = body["model"]
    source = body.get("input") if "input" in body else body.get("prompt", "")
    result["input"] = _copy_input(source)
    dimensions = integer(body.get("dimensions"))
    if dimensions is not None:
        result["dimensions"] = dimensions
    result["encoding_format"] = "float"
    return result


def _ollama_vectors(resp: Mapping[str, Any]) -> list[list[float]]:
    if "embeddings" in resp:
        return [_vector(vector) for vector in items(resp.get("embeddings"))]
    if "embedding" in resp:
        return [_vector(resp.get("embedding"))]
    return []


def _openai_vectors(resp: Mapping[str, Any]) -> list[list[float]]:
    entries = [mapping(entry) for entry in items(resp.get("data"))]

    def position(pair: tuple[int, Mapping[str, Any]]) -> int:
        index = integer(pair[1].get("index"))
        return pair[0] if index is None else index

    return [_vector(entry.get("embedding")) for _, entry in sorted(enumerate(entries), key=position)]


def ollama_embed_response_to_openai(
    resp: Mapping[str, Any], *, model: str, encoding_format: str | None = None
) -> dict[str, Any]:
    """An OpenAI embeddings list for an Ollama `/api/embed` (or legacy) answer.

    Pass the client's `encoding_format`: "base64" gives base64 of little-endian float32,
    anything else float lists.
    """
    source = mapping(resp)
    vectors = _ollama_vectors(source)
    usage = usage_from_ollama(source) or Usage(0, 0)
    return {
        "object": "list",
        "data": [
            {
                "object": "embedding",
                "index": index,
                "embedding": _base64_vector(vector) if encoding_format == "base64" else vector,
            }
            for index, vector in enumerate(vectors)
        ],
        "model": model,
        "usage": {"prompt_tokens": usage.prompt_tokens, "total_tokens": usage.prompt_tokens},
    }


def openai_embeddings_response_to_ollama_embed(resp: Mapping[str, Any], *, model: str) -> dict[str, Any]:
    """An Ollama `/api/embed` answer for an OpenAI embeddings list."""
    source = mapping(resp)
    usage = usage_from_openai(source) or Usage(0, 0)
    return {
        "model": model,
        "embeddings": _openai_vectors(source),
        "total_duration": 0,
        "load_duration": 0,
        "prompt_eval_count": usage.prompt_tokens,
    }


def openai_embeddings_response_to_ollama_legacy(resp: Mapping[str, Any], *, model: str) -> dict[str, Any]:
    """A legacy `/api/embeddings` answer (one vector) for an OpenAI embeddings list.

    `model` is accepted for symmetry with the other translators; the legacy answer has no
    model field.
    """
    vectors = _openai_vectors(mapping(resp))
    return {"embedding": vectors[0] if vectors else []}


def ollama_embed_response_to_ollama_legacy(resp: Mapping[str, Any]) -> dict[str, Any]:
    """A legacy `/api/embeddings` answer served from an `/api/embed` answer."""
    vectors = _ollama_vectors(mapping(resp))
    return {"embedding": vectors[0] if vectors else []}
