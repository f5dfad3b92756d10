"""ui.snippets: client set-up text for the status page."""

from __future__ import annotations

import pytest

from maestro_app.ui.snippets import TOKEN_PLACEHOLDER, connection_snippets


def test_every_client_gets_the_base_url_model_and_token_placeholder() -> None:
    snippets = connection_snippets(base_url="https://llm.example.com/", model="qwen3:8b")
    assert [s.key for s in snippets] == [
        "openai",
        "curl",
        "ollama",
        "anthropic",
        "cursor",
        "continue",
        "openwebui",
    ]
    for snippet in snippets:
        assert "https://llm.example.com" in snippet.code
        assert "https://llm.example.com//" not in snippet.code
        assert TOKEN_PLACEHOLDER in snippet.code
    by_key = {s.key: s for s in snippets}
    assert 'base_url="https://llm.example.com/v1"' in by_key["openai"].code
    assert "export OLLAMA_HOST=https://llm.example.com\n" in by_key["ollama"].code
    assert "ANTHROPIC_BASE_URL=https://llm.example.com\n" in by_key["anthropic"].code
    for key in ("openai", "curl", "ollama", "continue"):
        assert "qwen3:8b" in by_key[key].code


@pytest.mark.parametrize("key", ["curl"])
def test_curl_body_is_valid_json(key: str) -> None:
    import json

    code = {s.key: s for s in connection_snippets(base_url="http://h:3000", model="m")}[key].code
    body = code.rsplit("-d '", 1)[1].rstrip("'")
    assert json.loads(body)["model"] == "m"
