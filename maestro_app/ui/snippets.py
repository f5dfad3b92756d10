"""Copy-paste set-up for common clients, given the gateway's public base URL. Pure text."""

from __future__ import annotations

from dataclasses import dataclass

TOKEN_PLACEHOLDER = "<your Maestro user token>"


@dataclass(frozen=True, slots=True)
class Snippet:
    key: str
    label: str
    language: str
    code: str
    note: str = ""


def connection_snippets(*, base_url: str, model: str) -> list[Snippet]:
    base = base_url.rstrip("/")
    openai_url = f"{base}/v1"
    return [
        Snippet(
            "openai",
            "OpenAI SDK",
            "python",
            f'''from openai import OpenAI

client = OpenAI(base_url="{openai_url}", api_key="{TOKEN_PLACEHOLDER}")
reply = client.chat.completions.create(
    model="{model}",
    messages=[{{"role": "user", "content": "Hello!"}}],
)
print(reply.choices[0].message.content)''',
        ),
        Snippet(
            "curl",
            "curl",
            "bash",
            f'''export MAESTRO_TOKEN="{TOKEN_PLACEHOLDER}"

curl {openai_url}/models -H "Authorization: Bearer $MAESTRO_TOKEN"

curl {openai_url}/chat/completions \\
  -H "Authorization: Bearer $MAESTRO_TOKEN" \\
  -H "Content-Type: application/json" \\
  -d '{{"model": "{model}", "messages": [{{"role": "user", "content": "Hello!"}}]}}\'''',
        ),
        Snippet(
            "ollama",
            "Ollama",
            "bash",
            f'''export OLLAMA_HOST={base}
export OLLAMA_API_KEY="{TOKEN_PLACEHOLDER}"

ollama list
ollama run {model}''',
            note="The gateway speaks the Ollama API under /api and needs the token as a "
            "bearer token. The ollama Python library sends OLLAMA_API_KEY as one; an ollama "
            "CLI version that sends no Authorization header to other hosts gets 401.",
        ),
        Snippet(
            "anthropic",
            "Claude Code",
            "bash",
            f'''export ANTHROPIC_BASE_URL={base}
export ANTHROPIC_AUTH_TOKEN="{TOKEN_PLACEHOLDER}"
export ANTHROPIC_MODEL={model}

claude''',
            note="Anthropic clients use the Messages API at /v1/messages.",
        ),
        Snippet(
            "cursor",
            "Cursor",
            "text",
            f'''Settings → Models → API Keys → OpenAI API Key
  API key:                    {TOKEN_PLACEHOLDER}
  Override OpenAI Base URL:   {openai_url}
Then add the model name "{model}" under Models.''',
        ),
        Snippet(
            "continue",
            "Continue",
            "yaml",
            f"""# ~/.continue/config.yaml
models:
  - name: {model} (Maestro)
    provider: openai
    model: {model}
    apiBase: {openai_url}
    apiKey: {TOKEN_PLACEHOLDER}""",
        ),
        Snippet(
            "openwebui",
            "Open WebUI",
            "text",
            f"""Admin Panel → Settings → Connections → OpenAI API → Add connection
  URL:  {openai_url}
  Key:  {TOKEN_PLACEHOLDER}

or, as an Ollama connection:
  URL:  {base}
  Key:  {TOKEN_PLACEHOLDER}""",
        ),
    ]
