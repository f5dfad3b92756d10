import dataclasses
from typing import Any

import pytest

from maestro_app.providers.ollama import images_in_ollama_request, usage_from_ollama
from maestro_app.providers.openai import images_in_openai_messages, usage_from_openai
from maestro_app.providers.types import Usage


def test_usage_total_and_immutability() -> None:
    usage = Usage(prompt_tokens=3, completion_tokens=4)
    assert usage.total_tokens == 7
    with pytest.raises(dataclasses.FrozenInstanceError):
        usage.prompt_tokens = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        pytest.param(
            {"usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}},
            Usage(10, 5),
            id="chat",
        ),
        pytest.param(
            {"object": "list", "usage": {"prompt_tokens": 8, "total_tokens": 8}},
            Usage(8, 0),
            id="embeddings-without-completion-tokens",
        ),
        pytest.param(
            {"choices": [], "usage": {"prompt_tokens": 2, "completion_tokens": 9}},
            Usage(2, 9),
            id="stream-usage-chunk",
        ),
        pytest.param({"usage": {"completion_tokens": 4}}, Usage(0, 4), id="only-completion"),
        pytest.param({"usage": {"prompt_tokens": 7.0}}, Usage(7, 0), id="integral-float"),
        pytest.param({"choices": [{"delta": {"content": "x"}}]}, None, id="no-usage"),
        pytest.param({"usage": None}, None, id="usage-null"),
        pytest.param({"usage": {}}, None, id="usage-empty"),
        pytest.param({"usage": {"prompt_tokens": "10"}}, None, id="string-counts"),
        pytest.param({"usage": {"prompt_tokens": True}}, None, id="boolean-counts"),
        pytest.param({"usage": [1, 2]}, None, id="usage-list"),
        pytest.param({}, None, id="empty"),
    ],
)
def test_usage_from_openai(answer: dict[str, Any], expected: Usage | None) -> None:
    assert usage_from_openai(answer) == expected


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        pytest.param(
            {"done": True, "prompt_eval_count": 26, "eval_count": 298, "total_duration": 5},
            Usage(26, 298),
            id="chat-done",
        ),
        pytest.param({"embeddings": [[0.1]], "prompt_eval_count": 8}, Usage(8, 0), id="embed"),
        pytest.param({"done": True, "eval_count": 3}, Usage(0, 3), id="cached-prompt"),
        pytest.param({"done": False, "message": {"content": "x"}}, None, id="partial-chunk"),
        pytest.param({"prompt_eval_count": None, "eval_count": None}, None, id="nulls"),
        pytest.param({"prompt_eval_count": "4"}, None, id="string-count"),
        pytest.param({}, None, id="empty"),
    ],
)
def test_usage_from_ollama(answer: dict[str, Any], expected: Usage | None) -> None:
    assert usage_from_ollama(answer) == expected


@pytest.mark.parametrize("odd", [None, [], "text", 3])
def test_usage_readers_accept_non_mappings(odd: Any) -> None:
    assert usage_from_openai(odd) is None
    assert usage_from_ollama(odd) is None


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        pytest.param(
            [
                {
                    "role": "user",
                    "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}}],
                }
            ],
            True,
            id="data-url",
        ),
        pytest.param(
            [{"role": "user", "content": [{"type": "image_url", "image_url": "https://x/y.png"}]}],
            True,
            id="bare-string-url",
        ),
        pytest.param(
            [{"role": "user", "content": [{"type": "text", "text": "hi"}]}, {"role": "user", "content": "x"}],
            False,
            id="text-only",
        ),
        pytest.param(
            [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}], False, id="no-url"
        ),
        pytest.param([{"role": "assistant", "content": None}], False, id="content-none"),
        pytest.param([], False, id="no-messages"),
        pytest.param(None, False, id="messages-none"),
        pytest.param("hello", False, id="messages-string"),
        pytest.param([None, 3, "x"], False, id="odd-entries"),
    ],
)
def test_images_in_openai_messages(messages: Any, expected: bool) -> None:
    assert images_in_openai_messages(messages) is expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param({"prompt": "x", "images": ["iVBOR"]}, True, id="generate-images"),
        pytest.param(
            {"messages": [{"role": "user", "content": "x", "images": ["/9j/"]}]}, True, id="chat-images"
        ),
        pytest.param({"prompt": "x", "images": []}, False, id="empty-images"),
        pytest.param(
            {"messages": [{"role": "user", "content": "x", "images": None}]}, False, id="images-null"
        ),
        pytest.param({"messages": [{"role": "user", "content": "x"}]}, False, id="text-only"),
        pytest.param({"messages": "x"}, False, id="messages-string"),
        pytest.param({}, False, id="empty"),
    ],
)
def test_images_in_ollama_request(body: dict[str, Any], expected: bool) -> None:
    assert images_in_ollama_request(body) is expected
