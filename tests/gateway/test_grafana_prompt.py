"""The Grafana Assistant's prompt and chat writes: bad input changes nothing, the pipeline's
rules apply (model setting, allowlist, limits, mappings, tool filtering, system prompts),
and what the client saw is stored when the stream ends, breaks off, or the client leaves."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import event, text

from maestro_app.db.engine import background_db_work
from tests.gateway.grafana_support import BASE, MODEL, events_of, setup
from tests.gateway.test_request_shaping import add_config, add_prompt
from tests.support import activity, add_mapping, add_node, add_user, set_settings, wait_for

TABLES = ("grafana_chats", "grafana_chat_messages")


def new_chat(client: httpx.Client) -> str:
    resp = client.post(BASE + "chats", json={"name": "c"})
    assert resp.status_code == 201, resp.text
    return str(resp.json()["data"]["id"])


def messages(client: httpx.Client, chat_id: str) -> list[dict[str, Any]]:
    resp = client.get(BASE + f"chats/{chat_id}")
    assert resp.status_code == 200, resp.text
    return resp.json()["data"]["messages"]  # type: ignore[no-any-return]


def model_calls(fake) -> int:  # type: ignore[no-untyped-def]
    return sum(r.path in ("/v1/chat/completions", "/api/chat") for r in fake.requests)


# (method, path under the chat or the API, body (raw bytes or JSON), status, words of the error)
BAD_INPUT: list[tuple[str, str, Any, int, str]] = [
    ("POST", "chats", b"not json", 400, "not valid JSON"),
    ("POST", "chats", [], 400, "JSON object"),
    ("POST", "chats", {"name": 5}, 400, "'name' must be a string"),
    ("POST", "chats", {"name": "x" * 513}, 400, "at most 512"),
    ("POST", "chats", {"name": "a\x00b"}, 400, "NUL"),
    ("POST", "chats", {"origin": ["sidebar"]}, 400, "'origin' must be a string"),
    ("PATCH", "{chat}", {"archived": "yes"}, 400, "'archived' must be a boolean"),
    ("PATCH", "{chat}", {"name": " "}, 400, "'name' must not be empty"),
    ("POST", "{chat}/messages", {"role": "wizard", "content": "x"}, 400, "message.role must be one of"),
    ("POST", "{chat}/messages", {"role": "user", "content": 5}, 400, "message.content must be"),
    ("POST", "{chat}/messages", {"role": "user", "content": [{"text": "untyped"}]}, 400, 'string "type"'),
    ("POST", "{chat}/messages", [], 400, "non-empty array"),
    ("POST", "{chat}/messages", {"role": "tool", "content": "plain"}, 400, "only hold tool_result"),
    (
        "POST",
        "{chat}/messages",
        [
            {"role": "user", "content": "fine"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "1"}]},
        ],
        400,
        "messages[1].content[0].name must be a string",
    ),
    ("POST", "{chat}/prompt-stream", {"prompt": 7}, 400, "prompt must be a string or an array"),
    ("POST", "{chat}/prompt-stream", {"prompt": "   "}, 400, "prompt must not be empty"),
    (
        "POST",
        "{chat}/prompt-stream",
        {"prompt": "x", "systemPrompt": 3},
        400,
        "systemPrompt must be a string",
    ),
    ("POST", "{chat}/prompt-stream", {"prompt": "x", "tools": {}}, 400, "tools must be an array"),
    ("POST", "{chat}/prompt-stream", {"prompt": "x", "tools": [{"description": "?"}]}, 400, "tools[0]"),
    ("POST", "{chat}/prompt-stream", {"prompt": "x", "maxTokens": -1}, 400, "maxTokens"),
    ("POST", "{chat}/prompt-stream", {"prompt": "x", "temperature": "hot"}, 400, "temperature"),
    ("POST", "{chat}/prompt-stream", {}, 400, "Missing prompt"),
    ("POST", "{chat}/prompt-stream", b"", 400, "empty"),
    ("POST", "{chat}/prompt-stream", {"prompt": "x" * 2000}, 413, "larger than"),
    ("GET", "chats?limit=abc", None, 400, "'limit' must be an integer"),
    ("GET", "chats?limit=0", None, 400, "'limit' must be from 1"),
    ("GET", "chats?offset=-1", None, 400, "'offset' must be from 0"),
    ("GET", "chats?includeArchived=maybe", None, 400, "'includeArchived' must be true or false"),
    ("GET", "{chat}/messages?limit=x", None, 400, "'limit' must be an integer"),
]


def test_bad_input_gets_a_clear_4xx_and_writes_nothing(gateway, upstream_factory):
    fake = upstream_factory([MODEL])
    client = gateway.client(setup(gateway, fake))
    set_settings(gateway, max_body_bytes=1024)
    chat_id = new_chat(client)
    for method, path, body, status, words in BAD_INPUT:
        url = BASE + path.replace("{chat}", f"chats/{chat_id}")
        raw = body if isinstance(body, bytes) else None if body is None else json.dumps(body).encode()
        resp = client.request(method, url, content=raw, headers={"Content-Type": "application/json"})
        assert resp.status_code == status, (method, path, body, resp.text)
        answer = resp.json()
        assert answer["status"] == "error" and words in answer["error"], (path, body, answer)
    chats = client.get(BASE + "chats").json()["data"]["items"]
    assert [(c["id"], c["name"], c["archived"]) for c in chats] == [(chat_id, "c", False)]
    assert messages(client, chat_id) == []
    assert model_calls(fake) == 0
    assert activity(gateway) == []


def test_the_model_comes_from_settings(gateway, upstream_factory):
    fake = upstream_factory([MODEL, "other"])
    add_node(gateway, fake, name="n", node_type="vllm")
    client = gateway.client(add_user(gateway, "alice", all_models=False, allowed_models=[MODEL]))
    chat_id = new_chat(client)

    unset = client.post(BASE + f"chats/{chat_id}/prompt-stream", json={"prompt": "hi"})
    assert unset.status_code == 503
    assert unset.json()["errorType"] == "grafana_model_not_set" and "grafana_model" in unset.json()["error"]
    assert client.get(BASE + "settings").json()["data"]["modelConfigured"] is False

    set_settings(gateway, grafana_model="other")
    refused = client.post(BASE + f"chats/{chat_id}/prompt-stream", json={"prompt": "hi"})
    assert refused.status_code == 403 and refused.json()["status"] == "error", refused.text
    assert "other" in refused.json()["error"]
    assert messages(client, chat_id) == [] and model_calls(fake) == 0

    set_settings(gateway, grafana_model=MODEL)
    ok = client.post(BASE + f"chats/{chat_id}/prompt-stream", json={"prompt": "hi"})
    assert ok.status_code == 200 and events_of(ok.text)[-1]["model"] == MODEL
    assert [r["status_code"] for r in reversed(activity(gateway))] == [403, 200]


def test_daily_limits_apply(gateway, upstream_factory):
    client = gateway.client(setup(gateway, upstream_factory([MODEL]), request_limit=1))
    chat_id = new_chat(client)
    assert client.post(BASE + f"chats/{chat_id}/prompt-stream", json={"prompt": "one"}).status_code == 200
    refused = client.post(BASE + f"chats/{chat_id}/prompt-stream", json={"prompt": "two"})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert refused.json()["errorType"] == "daily_request_limit_exceeded"
    assert [m["content"][0]["text"] for m in messages(client, chat_id) if m["role"] == "user"] == ["one"]
    limits = client.get(BASE + "usage/limits/prompt").json()["data"]
    assert (limits["limit"], limits["used"], limits["remaining"], limits["unlimited"]) == (1, 1, 0, False)


def test_mappings_tool_filtering_and_system_prompts_apply(gateway, upstream_factory):
    fake = upstream_factory(["real-model:7b"])
    add_node(gateway, fake, name="n", node_type="vllm")
    add_mapping(gateway, "assistant", "real-model:7b")
    add_config(gateway, "assistant", allowed_tools=["query_loki"])
    add_prompt(gateway, "model", "assistant", "Answer briefly.")
    set_settings(gateway, grafana_model="assistant")
    client = gateway.client(add_user(gateway))
    chat_id = new_chat(client)
    tools = [{"name": name, "inputSchema": {"type": "object"}} for name in ("query_prometheus", "query_loki")]
    body = {"prompt": "errors?", "systemPrompt": "You are Grafana Assistant.", "tools": tools}
    resp = client.post(BASE + f"chats/{chat_id}/prompt-stream", json=body)
    assert resp.status_code == 200, resp.text
    sent = fake.requests[-1].json
    assert sent["model"] == "real-model:7b"
    assert [t["function"]["name"] for t in sent["tools"]] == ["query_loki"]
    system = sent["messages"][0]
    assert system["role"] == "system"
    assert "Answer briefly." in system["content"] and "You are Grafana Assistant." in system["content"]
    final = events_of(resp.text)[-1]
    assert final["model"] == "assistant" and final["content"][-1]["name"] == "query_loki"
    (record,) = activity(gateway)
    assert (record["model"], record["real_model"], record["source"]) == (
        "assistant",
        "real-model:7b",
        "grafana",
    )


@pytest.mark.parametrize("node_type", ["vllm", "ollama"])
def test_a_broken_stream_keeps_what_was_answered(gateway, upstream_factory, node_type):
    fake = upstream_factory([MODEL], chunks=10)
    client = gateway.client(setup(gateway, fake, node_type=node_type))
    chat_id = new_chat(client)
    fake.fail_next("cut", after_chunks=4)
    resp = client.post(BASE + f"chats/{chat_id}/prompt-stream", json={"prompt": "go"})
    assert resp.status_code == 200
    final = events_of(resp.text)[-1]
    assert final["stopReason"] == "error" and final["error"]["message"]
    user, answer = messages(client, chat_id)
    assert user["content"] == [{"type": "text", "text": "go"}]
    assert answer["stopReason"] == "error" and answer["content"] == final["content"]
    assert answer["content"][0]["text"].startswith("w0 ")
    (record,) = activity(gateway)
    assert record["status_code"] == 502 and record["source"] == "grafana"


def test_a_client_that_leaves_keeps_what_it_saw(gateway, upstream_factory):
    fake = upstream_factory([MODEL], chunks=200, chunk_delay=0.02)
    client = gateway.client(setup(gateway, fake))
    chat_id = new_chat(client)
    seen: list[dict[str, Any]] = []
    with client.stream("POST", BASE + f"chats/{chat_id}/prompt-stream", json={"prompt": "long"}) as resp:
        assert resp.status_code == 200
        for line in resp.iter_lines():
            if line.startswith("data: "):
                seen.append(json.loads(line[6:]))
            if len(seen) >= 4:
                break
    assert wait_for(lambda: fake.cancelled >= 1, timeout=10)
    stored = wait_for(lambda: len(messages(client, chat_id)) == 2 and messages(client, chat_id), timeout=10)
    assert stored, "the prompt and the partial answer were not stored"
    answer = stored[1]
    assert answer["stopReason"] == "cancelled" and answer["id"] == seen[0]["messageId"]
    text = answer["content"][0]["text"]
    assert text.startswith(seen[-1]["content"][0]["text"]) and len(text.split()) < 200
    record = wait_for(lambda: activity(gateway), timeout=10)[0]
    assert record["status_code"] == 499


def test_continuing_a_chat_after_posted_messages(gateway, upstream_factory):
    fake = upstream_factory([MODEL])
    client = gateway.client(setup(gateway, fake))
    chat_id = new_chat(client)
    posted = client.post(
        BASE + f"chats/{chat_id}/messages",
        json=[
            {"role": "system", "content": "Dashboards are in folder Ops."},
            {
                "role": "user",
                "content": [{"type": "text", "text": "Which dashboards"}, {"type": "text", "text": "exist?"}],
            },
        ],
    )
    assert posted.status_code == 201, posted.text
    assert [m["role"] for m in posted.json()["data"]["items"]] == ["system", "user"]
    resp = client.post(BASE + f"chats/{chat_id}/prompt-stream", json={})
    assert resp.status_code == 200 and events_of(resp.text)[-1]["stopReason"] == "end_turn"
    sent = fake.requests[-1].json["messages"]
    assert sent == [
        {"role": "system", "content": "Dashboards are in folder Ops."},
        {"role": "user", "content": "Which dashboards\nexist?"},
    ]
    assert [m["role"] for m in messages(client, chat_id)] == ["system", "user", "assistant"]
    again = client.post(BASE + f"chats/{chat_id}/prompt-stream", json={})
    assert again.status_code == 400 and "Missing prompt" in again.json()["error"]


def test_deleting_a_user_deletes_their_chats(gateway, upstream_factory):
    client = gateway.client(setup(gateway, upstream_factory([MODEL])))
    chat_id = new_chat(client)
    assert client.post(BASE + f"chats/{chat_id}/prompt-stream", json={"prompt": "hi"}).status_code == 200
    assert gateway.admin.delete("/admin/users/alice").status_code in (200, 204)
    with gateway.runtime.engine.connect() as conn:
        counts = [conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in TABLES]
    assert counts == [0, 0]


def test_no_database_work_while_the_model_answers(gateway, upstream_factory):
    """The chat is read before the request goes upstream and written after the stream: the
    only SQL of a prompt, all of it background work (off the event loop, not routing)."""
    fake = upstream_factory([MODEL], chunks=12, chunk_delay=0.08)
    client = gateway.client(setup(gateway, fake))
    chat_id = new_chat(client)
    statements: list[tuple[float, bool]] = []

    def spy(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if "grafana_chat" in statement:
            statements.append((time.monotonic(), background_db_work.get()))

    event.listen(gateway.runtime.engine, "before_cursor_execute", spy)
    progress: list[float] = []
    try:
        with client.stream("POST", BASE + f"chats/{chat_id}/prompt-stream", json={"prompt": "slow"}) as resp:
            for line in resp.iter_lines():
                if line.startswith("data: ") and "stopReason" not in line and '"content"' in line:
                    progress.append(time.monotonic())
        wait_for(lambda: len(messages(client, chat_id)) == 2)
    finally:
        event.remove(gateway.runtime.engine, "before_cursor_execute", spy)
    assert len(progress) >= 5
    before = [t for t, _ in statements if t < progress[0]]
    during = [t for t, _ in statements if progress[0] < t < progress[-1]]
    after = [t for t, _ in statements if t > progress[-1]]
    assert before and during == [] and after
    assert all(background for _, background in statements)
