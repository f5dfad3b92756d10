"""Which client application sent a request, from its User-Agent and known headers."""

from __future__ import annotations

from collections.abc import Mapping

# (needle in the lower-cased User-Agent, source); first match wins, so specific before generic.
_USER_AGENT_RULES: tuple[tuple[str, str], ...] = (
    ("cursor", "cursor"),
    ("claude-code", "claude-code"),
    ("claude-cli", "claude-code"),
    ("continue", "continue"),
    ("cline", "cline"),
    ("openclaw", "openclaw"),
    ("open-webui", "open-webui"),
    ("openwebui", "open-webui"),
    ("grafana", "grafana"),
    ("langchain", "langchain"),
    ("anthropic/", "anthropic-sdk"),
    ("anthropicpython", "anthropic-sdk"),
    ("openai/python", "openai-sdk"),
    ("openai/js", "openai-sdk"),
    ("asyncopenai", "openai-sdk"),
    ("ollama-python", "ollama-sdk"),
    ("ollama-js", "ollama-sdk"),
    ("ollama/", "ollama-cli"),
    ("curl/", "curl"),
)
_HEADER_RULES: tuple[tuple[str, str], ...] = (
    ("x-cursor-checksum", "cursor"),
    ("x-grafana-org-id", "grafana"),
    ("x-stainless-lang", "openai-sdk"),
)


def detect_source(headers: Mapping[str, str], *, dialect: str) -> str:
    agent = (headers.get("user-agent") or "").lower()
    if agent:
        for needle, source in _USER_AGENT_RULES:
            if needle in agent:
                return source
    for header, source in _HEADER_RULES:
        if header in headers:
            if source == "openai-sdk" and "anthropic" in (headers.get("x-stainless-package-version") or ""):
                return "anthropic-sdk"
            return source
    return dialect
