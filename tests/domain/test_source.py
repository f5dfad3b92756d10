"""Source detection: one row per client, with the headers the real clients send."""

from __future__ import annotations

import anthropic
import ollama
import openai
import pytest
from starlette.datastructures import Headers

from maestro_app.domain.source import SIGNATURES, detect_source

# The x-stainless-* set openai-node and the Anthropic JS SDK send with every request.
STAINLESS_JS = {
    "x-stainless-lang": "js",
    "x-stainless-package-version": "4.83.0",
    "x-stainless-os": "Linux",
    "x-stainless-arch": "x64",
    "x-stainless-runtime": "node",
    "x-stainless-runtime-version": "v20.18.0",
    "x-stainless-retry-count": "0",
}

CASES: list[tuple[str, dict[str, str], str, str]] = [
    # (case, headers, dialect, expected source)
    (
        "cursor (Electron)",
        {
            "user-agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Cursor/0.45.14 Chrome/128.0.6613.186 Electron/32.2.6 Safari/537.36"
        },
        "openai",
        "cursor",
    ),
    (
        "cursor (its own client headers)",
        {"user-agent": "connect-es/1.6.1", "x-cursor-client-version": "0.48.9", "x-cursor-checksum": "abc"},
        "openai",
        "cursor",
    ),
    (
        "claude code",
        {
            "user-agent": "claude-cli/2.1.2 (external, cli)",
            "x-app": "cli",
            "anthropic-version": "2023-06-01",
            **STAINLESS_JS,
            "x-stainless-package-version": "0.70.0",
        },
        "anthropic",
        "claude-code",
    ),
    ("claude code 1.x", {"user-agent": "claude-cli/1.0.119 (external, cli)"}, "anthropic", "claude-code"),
    (
        "claude agent sdk",
        {"user-agent": "claude-cli/2.1.226 (external, sdk-cli)", "anthropic-version": "2023-06-01"},
        "anthropic",
        "claude-code",
    ),
    (
        "codex cli",
        {
            "user-agent": "codex_cli_rs/0.38.0 (Ubuntu 24.04.2 LTS; x86_64) WindowsTerminal",
            "originator": "codex_cli_rs",
            "version": "0.38.0",
        },
        "openai",
        "codex",
    ),
    (
        "codex behind a replaced user agent",
        {"user-agent": "my-wrapper/1.0", "originator": "codex_cli_rs"},
        "openai",
        "codex",
    ),
    (
        "continue (vs code)",
        {"user-agent": "Continue/1.0.10 (Visual Studio Code; vscode)"},
        "openai",
        "continue",
    ),
    (
        "continue cli",
        {"user-agent": "Continue-CLI/1.4.0", "x-continue-unique-id": "9152ffa0-1fc3-421b-9b2a-183c0cc27672"},
        "openai",
        "continue",
    ),
    (
        "cline",
        {"user-agent": "Cline/3.17.14", "x-title": "Cline", "http-referer": "https://cline.bot"},
        "openai",
        "cline",
    ),
    (
        "cline on openai-node",
        {
            "user-agent": "OpenAI/JS 4.96.0",
            "http-referer": "https://cline.bot",
            "x-title": "Cline",
            **STAINLESS_JS,
        },
        "openai",
        "cline",
    ),
    (
        "openclaw on openai-node",
        {
            "user-agent": "OpenAI/JS 6.10.0",
            "http-referer": "https://openclaw.ai",
            "x-title": "OpenClaw",
            **STAINLESS_JS,
        },
        "openai",
        "openclaw",
    ),
    (
        "openclaw on the anthropic sdk (pi-ai)",
        {
            "user-agent": "Anthropic/JS 0.71.2",
            "anthropic-dangerous-direct-browser-access": "true",
            "anthropic-version": "2023-06-01",
            **STAINLESS_JS,
        },
        "anthropic",
        "openclaw",
    ),
    (
        "open webui (forwarded user headers)",
        {
            "user-agent": "Python/3.11 aiohttp/3.11.18",
            "x-openwebui-user-name": "Alice",
            "x-openwebui-user-id": "4b1f3c0e-8d2a-4f5e-9c7b-1a2b3c4d5e6f",
            "x-openwebui-user-email": "alice@example.com",
            "x-openwebui-user-role": "user",
        },
        "ollama",
        "open-webui",
    ),
    (
        "open webui (app headers)",
        {
            "user-agent": "Python/3.11 aiohttp/3.11.18",
            "http-referer": "https://openwebui.com/",
            "x-title": "Open WebUI",
        },
        "openai",
        "open-webui",
    ),
    ("grafana", {"user-agent": "Grafana/11.3.0", "x-grafana-org-id": "1"}, "openai", "grafana"),
    (
        "grafana plugin proxy",
        {"user-agent": "Go-http-client/1.1", "x-grafana-org-id": "1", "x-grafana-id": "eyJhbGciOi"},
        "openai",
        "grafana",
    ),
    (
        "langchain.js",
        {"user-agent": "langchainjs-openai/1.0.0 ((node/v20.18.0; win32; x64))", **STAINLESS_JS},
        "openai",
        "langchain",
    ),
    ("litellm", {"user-agent": "litellm/1.55.3"}, "ollama", "litellm"),
    (
        "openai-python",
        {"user-agent": "OpenAI/Python 1.54.3", "x-stainless-lang": "python"},
        "openai",
        "openai-sdk",
    ),
    ("openai-python async", {"user-agent": "AsyncOpenAI/Python 1.54.3"}, "openai", "openai-sdk"),
    ("openai-node", {"user-agent": "OpenAI/JS 4.83.0", **STAINLESS_JS}, "openai", "openai-sdk"),
    (
        "ollama-python",
        {"user-agent": "ollama-python/0.4.7 (x86_64 linux) Python/3.12.3"},
        "ollama",
        "ollama-sdk",
    ),
    ("ollama-js", {"user-agent": "ollama-js/0.5.14 (x64 linux Node.js/v20.18.0)"}, "ollama", "ollama-sdk"),
    ("ollama cli", {"user-agent": "ollama/0.12.6 (amd64 linux) Go/go1.24.1"}, "ollama", "ollama-cli"),
    (
        "anthropic-python",
        {
            "user-agent": "Anthropic/Python 0.49.0",
            "x-stainless-lang": "python",
            "anthropic-version": "2023-06-01",
        },
        "anthropic",
        "anthropic-sdk",
    ),
    ("anthropic-python async", {"user-agent": "AsyncAnthropic/Python 0.49.0"}, "anthropic", "anthropic-sdk"),
    (
        "anthropic js",
        {"user-agent": "Anthropic/JS 0.71.2", "anthropic-version": "2023-06-01", **STAINLESS_JS},
        "anthropic",
        "anthropic-sdk",
    ),
    (
        "anthropic sdk behind a replaced user agent",
        {"user-agent": "acme-bot/2.0", "anthropic-version": "2023-06-01", **STAINLESS_JS},
        "anthropic",
        "anthropic-sdk",
    ),
    (
        "openai sdk behind a replaced user agent",
        {"user-agent": "acme-bot/2.0", **STAINLESS_JS},
        "openai",
        "openai-sdk",
    ),
    ("curl", {"user-agent": "curl/8.5.0"}, "ollama", "curl"),
    (
        "chrome",
        {
            "user-agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
        },
        "openai",
        "browser",
    ),
    (
        "firefox",
        {"user-agent": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"},
        "ollama",
        "browser",
    ),
    # Each remaining row of the table on its own: the one header (or agent) that names the
    # client, beside a user agent that does not.
    (
        "cursor: checksum header alone",
        {"user-agent": "connect-es/1.6.1", "x-cursor-checksum": "zX9"},
        "openai",
        "cursor",
    ),
    ("claude code: claude-code/ agent", {"user-agent": "claude-code/2.0.14"}, "anthropic", "claude-code"),
    (
        "continue: unique-id header alone",
        {"user-agent": "node-fetch", "x-continue-unique-id": "9152ffa0-1fc3-421b-9b2a-183c0cc27672"},
        "openai",
        "continue",
    ),
    (
        "cline: referer alone",
        {"user-agent": "OpenAI/JS 4.96.0", "http-referer": "https://cline.bot", **STAINLESS_JS},
        "openai",
        "cline",
    ),
    ("cline: version header alone", {"user-agent": "node", "x-cline-version": "3.17.14"}, "openai", "cline"),
    ("openclaw: its own agent", {"user-agent": "openclaw/2026.1.5"}, "openai", "openclaw"),
    (
        "openclaw: referer alone",
        {"user-agent": "OpenAI/JS 6.10.0", "http-referer": "https://openclaw.ai", **STAINLESS_JS},
        "openai",
        "openclaw",
    ),
    (
        "open webui: user-name header alone",
        {"user-agent": "Python/3.11 aiohttp/3.11.18", "x-openwebui-user-name": "Alice"},
        "ollama",
        "open-webui",
    ),
    (
        "open webui: chat-id header alone",
        {"user-agent": "Python/3.11 aiohttp/3.11.18", "x-openwebui-chat-id": "c1f1a8e2"},
        "openai",
        "open-webui",
    ),
    (
        "open webui: referer alone",
        {"user-agent": "Python/3.11 aiohttp/3.11.18", "http-referer": "https://openwebui.com/"},
        "openai",
        "open-webui",
    ),
    (
        "grafana: id header alone",
        {"user-agent": "Go-http-client/1.1", "x-grafana-id": "eyJhbGciOi"},
        "openai",
        "grafana",
    ),
    # Nothing of its own: the endpoint's dialect.
    (
        "open webui without forwarded headers",
        {"user-agent": "Python/3.11 aiohttp/3.11.18"},
        "ollama",
        "ollama",
    ),
    (
        "grafana llm app (go-openai, Go's default agent)",
        {"user-agent": "Go-http-client/1.1"},
        "openai",
        "openai",
    ),
    ("python-requests", {"user-agent": "python-requests/2.32.3"}, "openai", "openai"),
    ("no headers, openai", {}, "openai", "openai"),
    ("no headers, ollama", {}, "ollama", "ollama"),
    ("no headers, anthropic", {}, "anthropic", "anthropic"),
    ("empty user agent", {"user-agent": ""}, "anthropic", "anthropic"),
]


@pytest.mark.parametrize(
    ("headers", "dialect", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_detect_source(headers: dict[str, str], dialect: str, expected: str) -> None:
    assert detect_source(headers, dialect=dialect) == expected


@pytest.mark.parametrize(
    ("headers", "dialect", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_detect_source_from_starlette_headers(headers: dict[str, str], dialect: str, expected: str) -> None:
    """What the pipeline passes: Starlette's Headers, from raw header bytes in any case."""
    raw = [(name.title().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]
    assert detect_source(Headers(raw=raw), dialect=dialect) == expected


def _lower(headers: dict[str, object]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items() if isinstance(value, str)}


def test_the_installed_sdks_default_headers() -> None:
    """The SDKs in this environment, asked for the headers they actually send."""
    sync_openai = openai.OpenAI(api_key="k", base_url="http://127.0.0.1:9")
    async_openai = openai.AsyncOpenAI(api_key="k", base_url="http://127.0.0.1:9")
    sync_anthropic = anthropic.Anthropic(api_key="k", base_url="http://127.0.0.1:9")
    async_anthropic = anthropic.AsyncAnthropic(api_key="k", base_url="http://127.0.0.1:9")
    assert detect_source(_lower(sync_openai.default_headers), dialect="openai") == "openai-sdk"
    assert detect_source(_lower(async_openai.default_headers), dialect="openai") == "openai-sdk"
    assert detect_source(_lower(sync_anthropic.default_headers), dialect="anthropic") == "anthropic-sdk"
    assert detect_source(_lower(async_anthropic.default_headers), dialect="anthropic") == "anthropic-sdk"
    client_headers = ollama.Client(host="http://127.0.0.1:9")._client.headers
    assert client_headers["user-agent"].startswith("ollama-python/")
    assert detect_source(client_headers, dialect="ollama") == "ollama-sdk"


def test_every_source_of_the_table_is_detected_by_some_case() -> None:
    """Every row of the table is the first match of some case, and the first matching row of
    every case names the expected source (no row is shadowed by a wrong earlier one)."""
    hit: set[int] = set()
    for _, headers, _, expected in CASES:
        seen = {k.lower(): v.lower() for k, v in headers.items()}
        for index, (source, conditions) in enumerate(SIGNATURES):
            if all(name in seen and needle in seen[name] for name, needle in conditions):
                assert source == expected
                hit.add(index)
                break
    sources_seen = {SIGNATURES[i][0] for i in hit}
    assert sources_seen == {source for source, _ in SIGNATURES}
    unmatched = [SIGNATURES[i] for i in range(len(SIGNATURES)) if i not in hit]
    assert not unmatched, f"rows no case reaches first: {unmatched}"
