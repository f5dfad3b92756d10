"""What a request body says before it is routed: stream or not, the tokens to reserve at
admission, and the capabilities (tools, vision) a node or group member must have."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from maestro_app.providers.ollama import images_in_ollama_request
from maestro_app.providers.openai import images_in_openai_messages
from maestro_app.providers.responses import responses_needs
from maestro_app.providers.tokens import estimate_tokens

if TYPE_CHECKING:
    from maestro_app.gateway.pipeline import Endpoint


def wants_stream(body: dict[str, Any], ep: Endpoint) -> bool:
    """`stream` as the node will read it: null or absent is the dialect's default (Ollama
    streams, OpenAI does not), as the bridges and the nodes themselves take it."""
    value = body.get("stream")
    return ep.stream_default if value is None else bool(value)


def reservation_estimate(body: dict[str, Any], prompt_chars: int) -> int:
    """Tokens to reserve at admission: the prompt, plus the answer size the client asked for."""
    asked = body.get("max_tokens") or body.get("max_completion_tokens") or body.get("max_output_tokens")
    options = body.get("options")
    if asked is None and isinstance(options, dict):
        asked = options.get("num_predict")
    bound = asked if isinstance(asked, int) and not isinstance(asked, bool) and asked > 0 else 0
    return estimate_tokens(prompt_chars) + min(bound, 32768)


def needs_of(body: dict[str, Any], ep: Endpoint) -> frozenset[str]:
    if ep.kind == "responses":
        return responses_needs(body)
    needs: set[str] = set()
    if body.get("tools"):
        needs.add("tools")
    if ep.dialect != "ollama":  # OpenAI chat, or a body prepared as OpenAI chat (Anthropic)
        if images_in_openai_messages(body.get("messages")):
            needs.add("vision")
    elif images_in_ollama_request(body):
        needs.add("vision")
    return frozenset(needs)
