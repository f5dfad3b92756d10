"""OpenAI dialect: reading usage, content parts and finish reasons; making ids.

Shapes follow the Chat Completions, Completions and Embeddings APIs as spoken by OpenAI and
by vLLM's OpenAI-compatible server.
"""

import time
import uuid
from collections.abc import Mapping
from typing import Any

from maestro_app.providers._coerce import EMPTY, integer, items, mapping, text
from maestro_app.providers.types import Usage

_TEXT_PARTS = frozenset({"text", "input_text", "output_text"})
_IMAGE_PARTS = frozenset({"image_url", "input_image"})


def usage_from_openai(obj: Mapping[str, Any]) -> Usage | None:
    """Usage of a chat, completion or embeddings answer (or a stream's usage chunk)."""
    usage = obj.get("usage") if isinstance(obj, Mapping) else None
    if not isinstance(usage, Mapping):
        return None
    prompt = integer(usage.get("prompt_tokens"))
    completion = integer(usage.get("completion_tokens"))
    if prompt is None and completion is None:
        return None
    return Usage(prompt_tokens=prompt or 0, completion_tokens=completion or 0)


def usage_to_openai(usage: Usage) -> dict[str, int]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


def _parts(content: Any) -> list[Any]:
    return [content] if isinstance(content, Mapping) else items(content)


def text_of_content(content: Any) -> str:
    """The text of a message `content`: a string, None, or a list of content parts."""
    if isinstance(content, str):
        return content
    texts: list[str] = []
    for part in _parts(content):
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, Mapping) and part.get("type") in _TEXT_PARTS:
            texts.append(text(part.get("text")))
    return "\n".join(texts)


def image_urls_of_content(content: Any) -> list[str]:
    """URLs (http or data:) of the image parts of a message `content`."""
    urls: list[str] = []
    for part in _parts(content):
        if not isinstance(part, Mapping) or part.get("type") not in _IMAGE_PARTS:
            continue
        image = part.get("image_url")
        url = image if isinstance(image, str) else text(mapping(image).get("url"))
        if url:
            urls.append(url)
    return urls


def images_in_openai_messages(messages: Any) -> bool:
    for message in items(messages):
        content = mapping(message).get("content")
        # Text (the usual content) has no parts: asked of every request, so checked first.
        if not isinstance(content, str) and image_urls_of_content(content):
            return True
    return False


def first_choice(resp: Mapping[str, Any]) -> Mapping[str, Any]:
    """Choice 0 of an OpenAI answer or chunk (by its `index`, else the first listed)."""
    choices = [mapping(choice) for choice in items(mapping(resp).get("choices"))]
    for choice in choices:
        if choice.get("index", 0) == 0:
            return choice
    return choices[0] if choices else EMPTY


def finish_reason_from_ollama(done_reason: Any, *, tool_calls: bool) -> str:
    if tool_calls:
        return "tool_calls"
    return "length" if done_reason == "length" else "stop"


def new_chat_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def new_completion_id() -> str:
    return f"cmpl-{uuid.uuid4().hex}"


def new_tool_call_id() -> str:
    return f"call_{uuid.uuid4().hex[:24]}"


def unix_now() -> int:
    return int(time.time())
