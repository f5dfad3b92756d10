"""`/t/{token}/api/...`, `/t/{token}/v1/...` (also `anthropic/`, `grafana/`): the user token in the base URL.

For clients that let you set a base URL but no header — above all the Ollama CLI, whose
OLLAMA_HOST keeps a path (`OLLAMA_HOST=http://gw:3000/t/<token> ollama run coder`). The
token becomes `Authorization: Bearer <token>` and the path loses its prefix. Tokens in URLs
end up in proxy logs; prefer the header wherever the client can send one.
"""

from __future__ import annotations

from starlette.types import Scope

PREFIX = "/t/"
GATEWAY_ROOTS = ("api/", "v1/", "anthropic/", "grafana/")


def with_path_token(scope: Scope) -> Scope:
    """`scope` with a `/t/<token>/` prefix turned into `Authorization: Bearer <token>`, or
    unchanged when the path does not name a gateway route after the token."""
    token, slash, tail = scope["path"][len(PREFIX) :].partition("/")
    if not (token and slash and tail.startswith(GATEWAY_ROOTS)):
        return scope
    headers = [(k, v) for k, v in scope["headers"] if k != b"authorization"]
    headers.append((b"authorization", b"Bearer " + token.encode("latin-1")))
    return dict(scope, path="/" + tail, raw_path=("/" + tail).encode(), headers=headers)
