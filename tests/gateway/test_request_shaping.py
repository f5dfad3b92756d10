"""Model config, system prompts and num_ctx, checked on what the fake upstream received."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import event

from maestro_app.db.engine import background_db_work
from tests.conftest import LiveGateway
from tests.fakes.upstream import FakeModel, FakeUpstream
from tests.support import activity, add_mapping, add_node, add_user

CHAT = "/v1/chat/completions"
HELLO = [{"role": "user", "content": "hello there"}]


def tool(name: str) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {"name": name, "parameters": {"type": "object", "properties": {}}},
    }


def add_config(live: LiveGateway, prefix: str, **fields: Any) -> dict[str, Any]:
    resp = live.admin.post("/admin/model-config", json={"model_prefix": prefix, **fields})
    assert resp.status_code == 201, resp.text
    return resp.json()  # type: ignore[no-any-return]


def add_prompt(live: LiveGateway, scope_type: str, scope_value: str, prompt: str, **fields: Any) -> None:
    body = {"scope_type": scope_type, "scope_value": scope_value, "prompt": prompt, **fields}
    resp = live.admin.post("/admin/system-prompts", json=body)
    assert resp.status_code == 201, resp.text


def setup(
    live: LiveGateway, upstream_factory: Any, node_type: str, **node_fields: Any
) -> tuple[FakeUpstream, httpx.Client]:
    fake = upstream_factory([FakeModel("coder-7b:latest", capabilities=["completion", "tools"])])
    add_node(live, fake, name="gpu-a", code="a", node_type=node_type, **node_fields)
    return fake, live.client(add_user(live))


def sent(fake: FakeUpstream) -> dict[str, Any]:
    return fake.requests[-1].json  # type: ignore[no-any-return]


# -- tools ---------------------------------------------------------------------------------------


def test_tools_outside_the_allowlist_never_reach_the_node(gateway, upstream_factory):  # type: ignore[no-untyped-def]
    fake, client = setup(gateway, upstream_factory, "vllm")
    add_config(gateway, "Coder", allowed_tools=["read_file", "GREP_SEARCH"])
    body = {
        "model": "coder-7b",
        "messages": HELLO,
        "tools": [tool("read_file"), tool("run_terminal_cmd"), tool("grep_search")],
        "tool_choice": {"type": "function", "function": {"name": "run_terminal_cmd"}},
    }
    resp = client.post(CHAT, json=body)
    assert resp.status_code == 200, resp.text
    assert [t["function"]["name"] for t in sent(fake)["tools"]] == ["read_file", "grep_search"]
    assert sent(fake)["tool_choice"] == "auto"

    kept = dict(body, tool_choice={"type": "function", "function": {"name": "read_file"}})
    assert client.post(CHAT, json=kept).status_code == 200
    assert sent(fake)["tool_choice"] == kept["tool_choice"]

    nothing_left = dict(body, tools=[tool("run_terminal_cmd")], tool_choice="required")
    assert client.post(CHAT, json=nothing_left).status_code == 200
    assert "tools" not in sent(fake) and "tool_choice" not in sent(fake)


def test_tool_set_filters_ollama_tools_and_allowed_tools_take_precedence(gateway, upstream_factory):  # type: ignore[no-untyped-def]
    fake, client = setup(gateway, upstream_factory, "ollama")
    config = add_config(gateway, "coder", tool_set="readonly")
    body = {
        "model": "coder-7b",
        "messages": HELLO,
        "stream": False,
        "tools": [tool("Read"), tool("Bash"), tool("WebFetch"), tool("Edit")],
    }
    assert client.post("/api/chat", json=body).status_code == 200
    assert [t["function"]["name"] for t in sent(fake)["tools"]] == ["Read", "WebFetch"]

    resp = gateway.admin.put(f"/admin/model-config/{config['id']}", json={"allowed_tools": ["bash"]})
    assert resp.status_code == 200, resp.text
    assert client.post("/api/chat", json=body).status_code == 200
    assert [t["function"]["name"] for t in sent(fake)["tools"]] == ["Bash"]

    # An OpenAI client on the Ollama node: filtered before the translation.
    openai_body = {"model": "coder-7b", "messages": HELLO, "tools": [tool("Bash"), tool("Edit")]}
    assert client.post(CHAT, json=openai_body).status_code == 200
    assert [t["function"]["name"] for t in sent(fake)["tools"]] == ["Bash"]


# -- parameters and maintenance ----------------------------------------------------------------


def test_unsupported_params_are_removed_in_both_dialects(gateway, upstream_factory):  # type: ignore[no-untyped-def]
    vllm = upstream_factory([FakeModel("coder-7b")])
    ollama = upstream_factory([FakeModel("coder-13b:latest")])
    add_node(gateway, vllm, name="v", node_type="vllm")
    add_node(gateway, ollama, name="o", node_type="ollama")
    add_config(gateway, "coder", unsupported_params=["seed", "top_k", "logit_bias"])
    client = gateway.client(add_user(gateway))

    body = {
        "model": "coder-7b",
        "messages": HELLO,
        "seed": 7,
        "top_k": 3,
        "temperature": 0.2,
        "logit_bias": {"1": 2},
    }
    assert client.post(CHAT, json=body).status_code == 200
    got = sent(vllm)
    assert "seed" not in got and "top_k" not in got and "logit_bias" not in got and got["temperature"] == 0.2

    ollama_body = {
        "model": "coder-13b",
        "messages": HELLO,
        "stream": False,
        "options": {"seed": 7, "top_k": 3, "temperature": 0.2},
    }
    assert client.post("/api/chat", json=ollama_body).status_code == 200
    assert sent(ollama)["options"] == {"temperature": 0.2}

    # OpenAI names on an Ollama node: gone before the translation puts them into options.
    assert client.post(CHAT, json=dict(body, model="coder-13b")).status_code == 200
    assert sent(ollama)["options"] == {"temperature": 0.2}


def test_maintenance_answers_503_in_each_dialect_without_reaching_the_node(gateway, upstream_factory):  # type: ignore[no-untyped-def]
    fake, client = setup(gateway, upstream_factory, "ollama")
    config = add_config(gateway, "coder", maintenance_mode=True)
    message = "Model 'coder-7b' is in maintenance; try again later"

    resp = client.post(CHAT, json={"model": "coder-7b", "messages": HELLO})
    assert resp.status_code == 503
    assert resp.json() == {
        "error": {"message": message, "type": "api_error", "param": None, "code": "model_maintenance"}
    }
    for path, extra in (
        ("/api/chat", {"messages": HELLO}),
        ("/api/generate", {"prompt": "hi"}),
        ("/api/embed", {"input": "hi"}),
        ("/v1/embeddings", {"input": "hi"}),
    ):
        resp = client.post(path, json={"model": "coder-7b", **extra})
        assert resp.status_code == 503, path
        error = resp.json()["error"]
        assert (error if path.startswith("/api/") else error["message"]) == message
    assert sum(fake.hits[p] for p in ("/api/chat", "/api/generate", "/api/embed")) == 0
    assert {r["status_code"] for r in activity(gateway)} == {503}

    assert (
        gateway.admin.put(f"/admin/model-config/{config['id']}", json={"maintenance_mode": False}).status_code
        == 200
    )
    assert client.post(CHAT, json={"model": "coder-7b", "messages": HELLO}).status_code == 200


# -- system prompts ------------------------------------------------------------------------------


def test_system_prompts_merge_into_chat_in_order(gateway, upstream_factory):  # type: ignore[no-untyped-def]
    fake, client = setup(gateway, upstream_factory, "vllm")
    add_prompt(gateway, "mapping", "coder-7b", "NOT A MAPPING HERE")
    add_prompt(gateway, "model", "coder-7b", "MODEL")
    add_prompt(gateway, "node", "a", "NODE")  # by code
    add_prompt(gateway, "user", "alice", "USER")
    add_prompt(gateway, "user", "alice", "FIRST", priority=5)
    add_prompt(gateway, "user", "bob", "BOB")
    add_prompt(gateway, "model", "coder-7b", "OFF", is_active=False)
    rules = "FIRST\n\nUSER\n\nNODE\n\nMODEL"

    existing = [{"role": "system", "content": "Be brief."}, *HELLO]
    assert client.post(CHAT, json={"model": "coder-7b", "messages": existing}).status_code == 200
    assert sent(fake)["messages"] == [{"role": "system", "content": f"{rules}\n\nBe brief."}, *HELLO]

    parts = [{"role": "system", "content": [{"type": "text", "text": "Be brief."}]}, *HELLO]
    assert client.post(CHAT, json={"model": "coder-7b", "messages": parts}).status_code == 200
    assert sent(fake)["messages"][0]["content"] == [{"type": "text", "text": f"{rules}\n\nBe brief."}]

    assert client.post(CHAT, json={"model": "coder-7b", "messages": HELLO}).status_code == 200
    assert sent(fake)["messages"] == [{"role": "system", "content": rules}, *HELLO]

    ollama = client.post("/api/chat", json={"model": "coder-7b", "messages": HELLO, "stream": False})
    assert ollama.status_code == 200
    assert sent(fake)["messages"][0] == {"role": "system", "content": rules}


def test_system_prompts_on_ollama_chat_and_generate(gateway, upstream_factory):  # type: ignore[no-untyped-def]
    fake = upstream_factory([FakeModel("real-coder:7b")])
    add_node(gateway, fake, name="gpu-b", node_type="ollama")
    add_mapping(gateway, "coder", "real-coder:7b")
    add_prompt(gateway, "mapping", "coder", "MAPPING")
    add_prompt(gateway, "group", "team", "GROUP")
    add_prompt(gateway, "node", "gpu-b", "NODE", priority=-1)
    resp = gateway.admin.post("/admin/model-groups", json={"name": "team"})
    assert resp.status_code == 201
    assert (
        gateway.admin.post(
            "/admin/model-groups/team/members", json={"model_display_name": "coder"}
        ).status_code
        == 201
    )
    client = gateway.client(add_user(gateway))

    chat = {"model": "coder", "stream": False, "messages": [{"role": "system", "content": "Mine."}, *HELLO]}
    assert client.post("/api/chat", json=chat).status_code == 200
    assert sent(fake)["messages"][0] == {"role": "system", "content": "MAPPING\n\nNODE\n\nMine."}
    assert client.post("/api/chat", json=dict(chat, model="team")).status_code == 200
    assert sent(fake)["messages"][0]["content"] == "GROUP\n\nMAPPING\n\nNODE\n\nMine."

    assert (
        client.post("/api/generate", json={"model": "coder", "prompt": "hi", "stream": False}).status_code
        == 200
    )
    assert sent(fake)["system"] == "MAPPING\n\nNODE"
    generate = {"model": "coder", "prompt": "hi", "system": "Mine.", "stream": False}
    assert client.post("/api/generate", json=generate).status_code == 200
    assert sent(fake)["system"] == "MAPPING\n\nNODE\n\nMine."
    assert sent(fake)["prompt"] == "hi"

    # An OpenAI client on the Ollama node gets the same first system message.
    assert client.post(CHAT, json={"model": "coder", "messages": HELLO}).status_code == 200
    assert sent(fake)["messages"][0] == {"role": "system", "content": "MAPPING\n\nNODE"}

    # A load request (no messages) stays a load request.
    assert client.post("/api/chat", json={"model": "coder", "messages": []}).status_code == 200
    assert sent(fake)["messages"] == []


def test_each_attempt_shapes_the_clients_body_afresh(gateway, upstream_factory):  # type: ignore[no-untyped-def]
    """A member's failover attempt gets its own config and prompts, from the client's body as
    sent: nothing the first attempt filtered or merged carries over (no shared object changes)."""
    first = upstream_factory([FakeModel("m-a")])
    second = upstream_factory([FakeModel("m-b")])
    add_node(gateway, first, name="gpu-1", code="g1", node_type="vllm", priority=2)
    add_node(gateway, second, name="gpu-2", code="g2", node_type="vllm", priority=1)
    assert gateway.admin.post("/admin/model-groups", json={"name": "team"}).status_code == 201
    for model in ("m-a", "m-b"):
        member = {"model_display_name": model}
        assert gateway.admin.post("/admin/model-groups/team/members", json=member).status_code == 201
    add_config(gateway, "m-a", allowed_tools=["read_file"], unsupported_params=["seed"])
    add_prompt(gateway, "group", "team", "GROUP")
    add_prompt(gateway, "node", "gpu-1", "ONE")
    add_prompt(gateway, "node", "g2", "TWO")
    client = gateway.client(add_user(gateway))
    body = {
        "model": "team",
        "messages": [{"role": "system", "content": "Mine."}, *HELLO],
        "tools": [tool("read_file"), tool("Bash")],
        "tool_choice": {"type": "function", "function": {"name": "Bash"}},
        "seed": 3,
    }

    first.fail_next("status", status=503)
    resp = client.post(CHAT, json=body)
    assert resp.status_code == 200, resp.text
    tried = sent(first)
    assert tried["messages"] == [{"role": "system", "content": "ONE\n\nGROUP\n\nMine."}, *HELLO]
    assert [t["function"]["name"] for t in tried["tools"]] == ["read_file"]
    assert tried["tool_choice"] == "auto" and "seed" not in tried
    served = sent(second)
    assert served["messages"] == [{"role": "system", "content": "TWO\n\nGROUP\n\nMine."}, *HELLO]
    assert [t["function"]["name"] for t in served["tools"]] == ["read_file", "Bash"]
    assert served["tool_choice"] == body["tool_choice"] and served["seed"] == 3

    # The same request again: the same bodies, nothing accumulated in the snapshot.
    assert client.post(CHAT, json=body).status_code == 200
    assert first.requests[-1].json == tried
    assert (first.hits[CHAT], second.hits[CHAT]) == (2, 1)


# -- num_ctx -------------------------------------------------------------------------------------


def test_num_ctx_for_ollama_nodes_from_a_declared_context_length(gateway, upstream_factory):  # type: ignore[no-untyped-def]
    ollama = upstream_factory([FakeModel("real-chat:8b", context_length=131072), FakeModel("plain:latest")])
    vllm = upstream_factory([FakeModel("real-vllm")])
    add_node(gateway, ollama, name="o", node_type="ollama")
    add_node(gateway, vllm, name="v", node_type="vllm")
    add_mapping(gateway, "chat", "real-chat:8b", context_length="16K")
    add_mapping(gateway, "fast", "real-vllm", context_length="16K")
    client = gateway.client(add_user(gateway))

    assert (
        client.post("/api/chat", json={"model": "chat", "messages": HELLO, "stream": False}).status_code
        == 200
    )
    assert sent(ollama)["options"] == {"num_ctx": 16384}
    generate = {"model": "chat", "prompt": "hi", "stream": False, "options": {"temperature": 0}}
    assert client.post("/api/generate", json=generate).status_code == 200
    assert sent(ollama)["options"] == {"temperature": 0, "num_ctx": 16384}
    assert client.post(CHAT, json={"model": "chat", "messages": HELLO, "max_tokens": 5}).status_code == 200
    assert sent(ollama)["options"] == {"num_predict": 5, "num_ctx": 16384}

    mine = {"model": "chat", "messages": HELLO, "stream": False, "options": {"num_ctx": 2048}}
    assert client.post("/api/chat", json=mine).status_code == 200
    assert sent(ollama)["options"] == {"num_ctx": 2048}

    # The discovered length (the model's maximum) is never sent as num_ctx.
    assert (
        client.post("/api/chat", json={"model": "plain", "messages": HELLO, "stream": False}).status_code
        == 200
    )
    assert "options" not in sent(ollama)
    assert (
        client.post(
            "/api/chat", json={"model": "real-chat:8b", "messages": HELLO, "stream": False}
        ).status_code
        == 200
    )
    assert "options" not in sent(ollama)

    # vLLM nodes have no num_ctx.
    assert (
        client.post("/api/chat", json={"model": "fast", "messages": HELLO, "stream": False}).status_code
        == 200
    )
    assert "num_ctx" not in vllm.requests[-1].body.decode()


def test_num_ctx_from_a_group_members_context_length(gateway, upstream_factory):  # type: ignore[no-untyped-def]
    ollama = upstream_factory([FakeModel("real-chat:8b")])
    add_node(gateway, ollama, name="o", node_type="ollama")
    assert gateway.admin.post("/admin/model-groups", json={"name": "g"}).status_code == 201
    member = {"model_display_name": "real-chat:8b", "context_length": "24K"}
    assert gateway.admin.post("/admin/model-groups/g/members", json=member).status_code == 201
    client = gateway.client(add_user(gateway))
    assert (
        client.post("/api/chat", json={"model": "g", "messages": HELLO, "stream": False}).status_code == 200
    )
    assert sent(ollama)["options"] == {"num_ctx": 24576}


# -- the hot path stays free of queries ----------------------------------------------------------


def test_no_sql_with_groups_configs_and_prompts(gateway, upstream_factory):  # type: ignore[no-untyped-def]
    fake, client = setup(gateway, upstream_factory, "ollama")
    add_mapping(gateway, "chat", "coder-7b:latest", context_length="8K")
    add_config(gateway, "chat", tool_set="standard", unsupported_params=["seed"])
    add_prompt(gateway, "user", "alice", "Hi Alice.")
    add_prompt(gateway, "model", "chat", "Be exact.")
    assert gateway.admin.post("/admin/model-groups", json={"name": "team"}).status_code == 201
    assert (
        gateway.admin.post(
            "/admin/model-groups/team/members", json={"model_display_name": "chat"}
        ).status_code
        == 201
    )
    statements: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if not background_db_work.get():
            statements.append(statement)

    event.listen(gateway.runtime.engine, "before_cursor_execute", count)
    try:
        for i in range(20):
            body = {
                "model": "team" if i % 2 else "chat",
                "messages": HELLO,
                "seed": 1,
                "tools": [tool("Read")],
            }
            assert client.post(CHAT, json=body).status_code == 200
    finally:
        event.remove(gateway.runtime.engine, "before_cursor_execute", count)
    assert statements == []
    got = sent(fake)
    assert got["messages"][0]["content"] == "Hi Alice.\n\nBe exact." and "seed" not in (
        got.get("options") or {}
    )
