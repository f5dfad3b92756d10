"""Whatever JSON a client sends to /v1/messages: a 400 (BadRequest) or a body the translation
turns into JSON for a node. Never another exception (a 500)."""

from typing import Any

import orjson
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from maestro_app.domain.errors import BadRequest
from maestro_app.gateway.anthropic_body import check_count_tokens_body, check_messages_body
from maestro_app.providers.anthropic import anthropic_to_openai_chat
from maestro_app.providers.tokens import context_chars

KEYS = [
    "model", "max_tokens", "messages", "role", "content", "type", "text", "source", "data",
    "media_type", "url", "id", "name", "input", "tool_use_id", "is_error", "thinking",
    "budget_tokens", "system", "tools", "input_schema", "description", "tool_choice",
    "disable_parallel_tool_use", "stop_sequences", "temperature", "top_p", "top_k", "stream",
    "metadata", "output_config", "format", "schema", "title",
]  # fmt: skip
STRINGS = [
    "", "m", "user", "assistant", "system", "text", "image", "document", "tool_use", "tool_result",
    "thinking", "redacted_thinking", "server_tool_use", "base64", "url", "content", "file",
    "auto", "any", "tool", "none", "enabled", "disabled", "adaptive", "json_schema", "object",
]  # fmt: skip

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-2, 5), st.floats(allow_nan=False), st.sampled_from(STRINGS)
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.sampled_from(KEYS), children, max_size=5)
    ),
    max_leaves=25,
)
VALID = {
    "model": "m",
    "max_tokens": 5,
    "messages": [
        {"role": "user", "content": [{"type": "text", "text": "hi"}]},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "f", "input": {}}]},
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "t", "content": [{"type": "text", "text": "ok"}]}
            ],
        },
    ],
    "tools": [{"name": "f", "input_schema": {"type": "object"}}],
    "tool_choice": {"type": "tool", "name": "f"},
}


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from(KEYS), values, max_size=8))
@example(VALID)
@example({**VALID, "messages": [{"role": "user", "content": [{"type": "whatever-comes-next", "x": 1}]}]})
@example({**VALID, "messages": [{"role": [], "content": "x"}]})
@example({**VALID, "tool_choice": {"type": {}}})
@example({**VALID, "messages": [{"role": "user", "content": [{"type": "image", "source": {"type": []}}]}]})
def test_any_body_is_a_400_or_translates(body: dict[str, Any]) -> None:
    for check in (check_messages_body, check_count_tokens_body):
        try:
            check(body)
        except BadRequest as err:
            assert err.status == 400 and err.message
            continue
        translated = anthropic_to_openai_chat(body)
        orjson.dumps(translated)
        assert context_chars(translated) >= 0


def test_the_checks_name_the_field() -> None:
    with pytest.raises(BadRequest, match=r"messages\[2\]\.content\[0\]\.content\[0\]\.text"):
        bad = [
            *VALID["messages"][:2],
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "t", "content": [{"type": "text"}]}],
            },
        ]  # type: ignore[index]
        check_messages_body({**VALID, "messages": bad})
    check_count_tokens_body({k: v for k, v in VALID.items() if k != "max_tokens"})  # no max_tokens needed
