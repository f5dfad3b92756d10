"""Which client application sent a request: one ordered table of signatures.

A signature is one or more header conditions that must all hold; a condition is a lower-case
header name and a lower-case needle looked for in the header's value (`""`: the header is
present). The first signature that matches names the source.

Order matters. Applications come first because most of them run on an SDK and still carry
its marks: Cline, OpenClaw and LangChain.js use openai-node (`OpenAI/JS`, `x-stainless-*`),
Claude Code uses the Anthropic SDK, Cursor's Electron user agent starts with `Mozilla/`.
The SDKs follow, then generic tools (curl, browsers), and last the `x-stainless-*` headers of
an SDK whose `User-Agent` was replaced. When nothing matches, the source is the dialect of
the endpoint (`openai`, `ollama`, `anthropic`).

Clients that send nothing of their own are reported as what they run on: Open WebUI without
`ENABLE_FORWARD_USER_INFO_HEADERS` sends aiohttp's default user agent (-> the dialect),
LangChain for Python and LiteLLM's OpenAI-compatible providers use openai-python (-> the
OpenAI SDK), OpenClaw on an OpenAI-compatible provider sends openai-node's headers only.
"""

from __future__ import annotations

from collections.abc import Mapping

Condition = tuple[str, str]
Signature = tuple[str, tuple[Condition, ...]]


def _agent(needle: str) -> tuple[Condition, ...]:
    return (("user-agent", needle),)


def _has(header: str, needle: str = "") -> tuple[Condition, ...]:
    return ((header, needle),)


SIGNATURES: tuple[Signature, ...] = (
    # -- applications -------------------------------------------------------------------------
    # Electron: "Mozilla/5.0 (...) Cursor/0.45.14 Chrome/... Electron/... Safari/537.36"
    ("cursor", _agent("cursor/")),
    ("cursor", _has("x-cursor-client-version")),
    ("cursor", _has("x-cursor-checksum")),
    # "claude-cli/2.1.2 (external, cli)"; the Agent SDK says "(external, sdk-cli)"
    ("claude-code", _agent("claude-cli/")),
    ("claude-code", _agent("claude-code/")),
    # "codex_cli_rs/0.38.0 (Ubuntu 24.04.2 LTS; x86_64) WindowsTerminal" + "originator: codex_cli_rs";
    # `codex exec` and the IDE extension use the originators codex_exec and codex_vscode.
    ("codex", _agent("codex_")),
    ("codex", _has("originator", "codex")),
    # "Continue/1.0.10 (Visual Studio Code; vscode)", "Continue-CLI/1.4.0"
    ("continue", _agent("continue/")),
    ("continue", _agent("continue-cli/")),
    ("continue", _has("x-continue-unique-id")),
    # "Cline/3.17.14" with "X-Title: Cline" and "HTTP-Referer: https://cline.bot"
    ("cline", _agent("cline/")),
    ("cline", _has("x-title", "cline")),
    ("cline", _has("http-referer", "cline.bot")),
    ("cline", _has("x-cline-version")),
    # OpenClaw's app headers ("X-Title: OpenClaw", "HTTP-Referer: https://openclaw.ai"); on
    # Anthropic providers its model layer (pi-ai) runs the Anthropic JS SDK in browser mode
    # from Node, which only a non-browser with a non-browser user agent can combine.
    ("openclaw", _agent("openclaw")),
    ("openclaw", _has("x-title", "openclaw")),
    ("openclaw", _has("http-referer", "openclaw.ai")),
    ("openclaw", (("user-agent", "anthropic/js"), ("anthropic-dangerous-direct-browser-access", "true"))),
    # Open WebUI's forwarded user headers (ENABLE_FORWARD_USER_INFO_HEADERS) or its app headers
    ("open-webui", _has("x-openwebui-user-id")),
    ("open-webui", _has("x-openwebui-user-name")),
    ("open-webui", _has("x-openwebui-chat-id")),
    ("open-webui", _has("x-title", "open webui")),
    ("open-webui", _has("http-referer", "openwebui.com")),
    # Grafana's HTTP clients ("Grafana/11.3.0") and the headers of its plugin/data source proxy
    ("grafana", _agent("grafana/")),
    ("grafana", _has("x-grafana-org-id")),
    ("grafana", _has("x-grafana-id")),
    # "langchainjs-openai/1.0.0 ((node/v20.18.0; win32; x64))"
    ("langchain", _agent("langchain")),
    # "litellm/1.55.3" (its own HTTP handler: Ollama providers and others)
    ("litellm", _agent("litellm/")),
    # -- SDKs -----------------------------------------------------------------------------------
    # "Anthropic/Python 0.49.0", "AsyncAnthropic/Python 0.49.0", "Anthropic/JS 0.71.2"
    ("anthropic-sdk", _agent("anthropic/")),
    # "OpenAI/Python 1.54.3", "AsyncOpenAI/Python 1.54.3", "OpenAI/JS 4.83.0", "OpenAI/Go 1.0.0"
    ("openai-sdk", _agent("openai/")),
    # "ollama-python/0.4.7 (x86_64 linux) Python/3.12.3", "ollama-js/0.5.14 (x64 linux Node.js/v20.18.0)"
    ("ollama-sdk", _agent("ollama-python/")),
    ("ollama-sdk", _agent("ollama-js/")),
    # The ollama CLI itself: "ollama/0.12.6 (amd64 linux) Go/go1.24.1"
    ("ollama-cli", _agent("ollama/")),
    # -- tools ----------------------------------------------------------------------------------
    ("curl", _agent("curl/")),
    ("browser", _agent("mozilla/")),
    # -- an SDK whose User-Agent was replaced: both Stainless SDKs send the same x-stainless-*
    # set, only the Anthropic one also sends anthropic-version on every request.
    ("anthropic-sdk", (("x-stainless-lang", ""), ("anthropic-version", ""))),
    ("openai-sdk", _has("x-stainless-lang")),
)


_HEADERS = frozenset(header for _, conditions in SIGNATURES for header, _ in conditions)


def _holds(seen: Mapping[str, str], header: str, needle: str) -> bool:
    value = seen.get(header)
    return value is not None and needle in value


_HEADERS_RAW = frozenset(h.encode("latin-1") for h in _HEADERS)
_MEMO: dict[tuple[object, ...], str] = {}
_MEMO_SIZE = 4096


def detect_source(headers: Mapping[str, str], *, dialect: str) -> str:
    """The client application behind a request; `headers` has lower-case keys (Starlette).

    Answers are remembered per set of relevant header values (a client sends the same ones on
    every request): on Starlette's `Headers` the key is built from the raw byte pairs, without
    decoding anything, and the table is emptied when it grows past `_MEMO_SIZE` entries."""
    raw = getattr(headers, "raw", None)
    if raw is None:
        return _detect(headers, dialect)
    # ASGI servers send lower-case names, but nothing here relies on it.
    key = (dialect, *[(low, value) for name, value in raw if (low := name.lower()) in _HEADERS_RAW])
    found = _MEMO.get(key)
    if found is None:
        found = _detect(headers, dialect)
        if len(_MEMO) >= _MEMO_SIZE:
            _MEMO.clear()
        _MEMO[key] = found
    return found


def _detect(headers: Mapping[str, str], dialect: str) -> str:
    # One pass over the request's headers: Starlette's `get` scans the whole list per call.
    seen = {name.lower(): value.lower() for name, value in headers.items() if name.lower() in _HEADERS}
    for source, conditions in SIGNATURES:
        if all(_holds(seen, header, needle) for header, needle in conditions):
            return source
    return dialect
