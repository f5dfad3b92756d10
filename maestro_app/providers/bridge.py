"""Translators between the OpenAI and Ollama dialects, in one import.

Requests (body in, new body out), non-streamed answers (`model` = the name the client is
shown) and stateful stream transformers, for chat, text completion and embeddings.
"""

from maestro_app.providers.bridge_chat import (
    ollama_chat_response_to_openai,
    ollama_chat_to_openai,
    openai_chat_response_to_ollama,
    openai_chat_to_ollama,
)
from maestro_app.providers.bridge_embed import (
    ollama_embed_response_to_ollama_legacy,
    ollama_embed_response_to_openai,
    ollama_embed_to_openai_embeddings,
    openai_embeddings_response_to_ollama_embed,
    openai_embeddings_response_to_ollama_legacy,
    openai_embeddings_to_ollama_embed,
)
from maestro_app.providers.bridge_generate import (
    ollama_generate_response_to_openai_completion,
    ollama_generate_to_openai_completions,
    openai_completion_response_to_ollama_generate,
    openai_completions_to_ollama_generate,
)
from maestro_app.providers.stream_to_ollama import OpenAIChatStreamToOllama
from maestro_app.providers.stream_to_openai import OllamaChatStreamToOpenAI

__all__ = [
    "OllamaChatStreamToOpenAI",
    "OpenAIChatStreamToOllama",
    "ollama_chat_response_to_openai",
    "ollama_chat_to_openai",
    "ollama_embed_response_to_ollama_legacy",
    "ollama_embed_response_to_openai",
    "ollama_embed_to_openai_embeddings",
    "ollama_generate_response_to_openai_completion",
    "ollama_generate_to_openai_completions",
    "openai_chat_response_to_ollama",
    "openai_chat_to_ollama",
    "openai_completion_response_to_ollama_generate",
    "openai_completions_to_ollama_generate",
    "openai_embeddings_response_to_ollama_embed",
    "openai_embeddings_response_to_ollama_legacy",
    "openai_embeddings_to_ollama_embed",
]
