"""The Grafana Assistant API (SPEC §2.5): the plugin's recorded session against the gateway
in front of a fake node, chats kept in the database, the prompt through the normal pipeline."""

from __future__ import annotations

import pytest

from tests.gateway.grafana_support import BASE, MODEL, SESSION, replay, setup
from tests.support import activity, add_user

SYSTEM = "You are Grafana Assistant. Answer about the user's Grafana instance."


def _chat_requests(fake):  # type: ignore[no-untyped-def]
    return [r.json for r in fake.requests if r.path in ("/v1/chat/completions", "/api/chat")]


@pytest.mark.parametrize("node_type", ["vllm", "ollama"])
def test_the_plugins_session_replays(gateway, upstream_factory, node_type):
    fake = upstream_factory([MODEL], chunks=4)
    client = gateway.client(setup(gateway, fake, node_type=node_type))
    done = replay(client)

    settings = done.data("settings")
    assert settings["assistantApiUrl"] == gateway.url + "/grafana"
    assert settings["model"] == MODEL and settings["features"]["chat"] is True
    assert done.data("terms")["accepted"] is True
    assert done.answers["feature flags"].json() == {"flags": []}
    assert done.data("infra discovery") == {"available": False}
    assert [done.data(s) for s in ("quickstarts", "rules", "mcp tools", "skills")] == [[]] * 4
    assert done.data("prompt limits")["unlimited"] is True
    assert done.data("chat history (empty)") == {
        "items": [],
        "pagination": {"limit": 20, "offset": 0, "total": 0, "hasMore": False},
    }

    # The plain prompt: the head event, then the message so far, then the stop reason and usage.
    chat_id = done.names["chatId"]
    first, *progress, final = done.events("prompt")
    assert first == {"messageId": final["messageId"], "chatId": chat_id, "role": "assistant"}
    texts = [e["content"][0]["text"] for e in progress]
    assert texts and all(later.startswith(earlier) for earlier, later in zip(texts, texts[1:], strict=False))
    assert final["content"] == [{"type": "text", "text": "w0 w1 w2 w3 "}]
    assert final["stopReason"] == "end_turn" and final["model"] == MODEL
    assert final["usage"]["outputTokens"] == 4 and final["usage"]["inputTokens"] > 0

    # The tool: offered to the model as an OpenAI function, its call comes back as tool_use.
    (call,) = [p for p in done.events("prompt with a tool")[-1]["content"] if p["type"] == "tool_use"]
    assert call["name"] == "query_prometheus" and call["input"] == {"query": "Show its p95 latency"}
    assert done.names["toolUseId"] == call["id"]
    follow_up = done.events("follow-up after the tool")[-1]
    assert follow_up["stopReason"] == "end_turn" and follow_up["content"][0]["text"]

    # What the node saw: the system prompt first, history, the tool and its result.
    sent = _chat_requests(fake)
    assert len(sent) == 3
    assert all(body["messages"][0] == {"role": "system", "content": SYSTEM} for body in sent)
    assert [m["role"] for m in sent[0]["messages"]] == ["system", "user"]
    tools = sent[1]["tools"]
    assert [t["function"]["name"] for t in tools] == ["query_prometheus"]
    assert tools[0]["function"]["parameters"]["required"] == ["query"]
    last = sent[2]["messages"]
    assert [m["role"] for m in last] == ["system", "user", "assistant", "user", "assistant", "tool"]
    assert "2.4s" in str(last[-1]["content"])

    # The stored chat: every prompt and answer, in order.
    (listed,) = done.data("chat history")["items"]
    assert (
        listed["id"] == chat_id
        and listed["name"] == "Why is checkout slow?"
        and listed["origin"] == "sidebar"
    )
    messages = done.data("open chat")["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant", "tool", "assistant"]
    assert messages[1]["id"] == final["messageId"] and messages[1]["content"] == final["content"]
    assert messages[1]["usage"] == final["usage"] and messages[3]["stopReason"] == "tool_use"
    assert done.data("chat messages")["items"] == messages
    assert done.answers["deleted chat is gone"].json()["status"] == "error"

    # Usage: one record per prompt, source grafana, with the node's own counts.
    records = activity(gateway)
    assert len(records) == 3
    assert {(r["source"], r["endpoint"], r["status_code"], r["estimated"]) for r in records} == {
        ("grafana", "/grafana/assistant/api/v1/chats/{id}/prompt-stream", 200, False)
    }
    assert sorted(r["completion_tokens"] for r in records) == [4, 4, 4]
    prompts = ("prompt", "prompt with a tool", "follow-up after the tool")
    assert {r["request_id"] for r in records} == {done.answers[s].headers["x-request-id"] for s in prompts}
    assert client.get(BASE + "usage/limits/prompt").json()["data"]["used"] == 3


def test_unauthenticated_calls_get_401(gateway, upstream_factory):
    fake = upstream_factory([MODEL])
    token = setup(gateway, fake)
    chat_id = gateway.client(token).post(BASE + "chats", json={"name": "mine"}).json()["data"]["id"]
    for auth in (None, "Bearer not-a-token", "Basic abc", "Bearer"):
        client = gateway.client()
        headers = {"Authorization": auth} if auth else {}
        for step in SESSION["steps"]:
            path = BASE + step["path"].replace("{chatId}", chat_id).replace("{toolUseId}", "x")
            resp = client.request(step["method"], path, json=step.get("json"), headers=headers)
            assert resp.status_code == 401, (auth, step["name"], resp.text)
            body = resp.json()
            assert body["status"] == "error" and body["errorType"] == "invalid_api_key" and body["error"]
    # Nothing happened: the chat is still there, empty, and no model was asked.
    owner = gateway.client(token)
    assert owner.get(BASE + f"chats/{chat_id}").json()["data"]["messages"] == []
    assert owner.get(BASE + "chats").json()["data"]["pagination"]["total"] == 1
    assert _chat_requests(fake) == []
    assert activity(gateway) == []


def test_chats_belong_to_their_user(gateway, upstream_factory):
    fake = upstream_factory([MODEL])
    alice = gateway.client(setup(gateway, fake))
    bob = gateway.client(add_user(gateway, "bob"))
    chat_id = alice.post(BASE + "chats", json={"name": "alice's"}).json()["data"]["id"]
    assert alice.post(BASE + f"chats/{chat_id}/prompt-stream", json={"prompt": "hi"}).status_code == 200

    attempts = [
        ("GET", f"chats/{chat_id}", None),
        ("GET", f"chats/{chat_id}/messages", None),
        ("PATCH", f"chats/{chat_id}", {"name": "taken"}),
        ("POST", f"chats/{chat_id}/messages", {"role": "user", "content": "sneaky"}),
        ("POST", f"chats/{chat_id}/prompt-stream", {"prompt": "what did alice ask?"}),
        ("DELETE", f"chats/{chat_id}", None),
    ]
    for method, path, body in attempts:
        resp = bob.request(method, BASE + path, json=body)
        assert resp.status_code == 404, (method, path, resp.text)
        assert resp.json() == {
            "status": "error",
            "errorType": "not_found",
            "error": f"Chat '{chat_id}' not found",
        }
    assert bob.get(BASE + "chats").json()["data"]["items"] == []

    chat = alice.get(BASE + f"chats/{chat_id}").json()["data"]
    assert chat["name"] == "alice's" and [m["role"] for m in chat["messages"]] == ["user", "assistant"]
    assert len(_chat_requests(fake)) == 1  # bob's prompt never reached a node
    assert [r["username"] for r in activity(gateway)] == ["alice"]


def test_unknown_paths_and_chats_are_json_404(gateway, upstream_factory):
    client = gateway.client(setup(gateway, upstream_factory([MODEL])))
    for path in ("/grafana/assistant/api/v1/nope", "/grafana/anything", "/grafana/assistant/api/v2/chats"):
        resp = gateway.client().get(path)
        assert resp.status_code == 404 and resp.json()["status"] == "error", resp.text
    for chat_id in ("0" * 32, "not-an-id", "%00", "'; drop table grafana_chats; --"):
        resp = client.get(BASE + f"chats/{chat_id}")
        assert resp.status_code == 404 and resp.json()["errorType"] == "not_found", (chat_id, resp.text)


def test_archiving_and_pages(gateway, upstream_factory):
    client = gateway.client(setup(gateway, upstream_factory([MODEL])))
    ids = [client.post(BASE + "chats", json={"name": f"c{i}"}).json()["data"]["id"] for i in range(3)]
    assert client.post(BASE + "chats", json={}).json()["data"]["name"] == "New chat"
    archived = client.patch(BASE + f"chats/{ids[0]}", json={"archived": True}).json()["data"]
    assert archived["archived"] is True
    page = client.get(BASE + "chats", params={"limit": 2}).json()["data"]
    assert page["pagination"] == {"limit": 2, "offset": 0, "total": 3, "hasMore": True}
    everything = client.get(BASE + "chats", params={"includeArchived": "true", "limit": 10}).json()["data"]
    assert everything["pagination"]["total"] == 4
    # Most recently active first: the archived chat was just updated.
    assert everything["items"][0]["id"] == ids[0]
    renamed = client.patch(BASE + f"chats/{ids[1]}", json={"name": "  Latency  "}).json()["data"]
    assert renamed["name"] == "Latency"
