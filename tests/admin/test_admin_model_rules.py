"""/admin/model-config, /admin/tool-sets and /admin/system-prompts: CRUD, validation, audit,
the seeded tool-set presets, and the routing snapshot following every change."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from maestro_app.domain.tool_presets import PRESETS
from tests.admin.conftest import audit_actions
from tests.conftest import LiveGateway

DOCS = Path(__file__).resolve().parents[2] / "docs" / "TOOL_SETS.md"


def _config(admin: httpx.Client, prefix: str = "qwen", **fields: Any) -> httpx.Response:
    return admin.post("/admin/model-config", json={"model_prefix": prefix, **fields})


def _tool_set(
    admin: httpx.Client, name: str = "mine", tools: list[str] | None = None, **fields: Any
) -> httpx.Response:
    return admin.post("/admin/tool-sets", json={"name": name, "tools": tools, **fields})


def _prompt(admin: httpx.Client, **fields: Any) -> httpx.Response:
    body = {"scope_type": "user", "scope_value": "alice", "prompt": "Be kind.", **fields}
    return admin.post("/admin/system-prompts", json=body)


def test_auth_is_required(live: LiveGateway, anon: httpx.Client) -> None:
    for path in ("/admin/model-config", "/admin/tool-sets", "/admin/system-prompts"):
        assert anon.get(path).status_code == 401
        assert live.client("wrong").get(path).status_code == 403


# -- tool sets ----------------------------------------------------------------------------------


def test_six_presets_are_seeded(live: LiveGateway, admin: httpx.Client) -> None:
    listed = admin.get("/admin/tool-sets").json()
    assert listed["total"] == 6
    by_name = {t["name"]: t for t in listed["items"]}
    assert set(by_name) == {"full", "standard", "extended", "basic", "minimal", "readonly"}
    assert by_name["full"]["tools"] is None
    for name in ("minimal", "basic", "standard", "extended"):
        assert set(by_name["minimal"]["tools"]) <= set(by_name[name]["tools"])
    assert (
        set(by_name["basic"]["tools"]) < set(by_name["standard"]["tools"]) < set(by_name["extended"]["tools"])
    )
    writes = {"Write", "Edit", "Bash", "run_terminal_cmd", "execute_command", "apply_patch", "write_to_file"}
    assert not writes & set(by_name["readonly"]["tools"])
    assert {"Read", "Grep", "read_file", "codebase_search"} <= set(by_name["readonly"]["tools"])
    assert live.runtime.snapshot.tool_sets["readonly"].tools is not None
    assert "read_file" in live.runtime.snapshot.tool_sets["readonly"].tools  # type: ignore[operator]


def test_presets_are_documented_tool_by_tool() -> None:
    text = DOCS.read_text()
    for name, (tools, _) in PRESETS.items():
        assert f"`{name}`" in text, name
        for tool in tools or ():
            assert f"`{tool}`" in text, (name, tool)


def test_tool_set_crud(live: LiveGateway, admin: httpx.Client) -> None:
    resp = _tool_set(admin, "mine", ["read_file", "READ_FILE", "grep"], description="mine")
    assert resp.status_code == 201, resp.text
    assert resp.json()["tools"] == ["read_file", "grep"] and resp.json()["used_by"] == []
    assert live.runtime.snapshot.tool_sets["mine"].tools == frozenset({"read_file", "grep"})
    assert _tool_set(admin, "mine", []).status_code == 409
    assert admin.get("/admin/tool-sets/mine").json()["description"] == "mine"
    assert admin.get("/admin/tool-sets", params={"search": "min"}).json()["total"] == 2  # mine, minimal

    resp = admin.put("/admin/tool-sets/mine", json={"tools": None})
    assert resp.status_code == 200 and resp.json()["tools"] is None
    assert live.runtime.snapshot.tool_sets["mine"].tools is None
    assert admin.put("/admin/tool-sets/mine", json={"name": "full"}).status_code == 409
    assert admin.put("/admin/tool-sets/mine", json={"name": None}).status_code == 422
    assert admin.delete("/admin/tool-sets/mine").status_code == 204
    assert admin.get("/admin/tool-sets/mine").status_code == 404
    assert audit_actions(admin, entity_type="tool_set") == [
        "tool_set.delete",
        "tool_set.update",
        "tool_set.create",
    ]


def test_tool_set_in_use_renames_through_and_cannot_be_deleted(
    live: LiveGateway, admin: httpx.Client
) -> None:
    assert _tool_set(admin, "mine", ["Read"]).status_code == 201
    assert _config(admin, "qwen", tool_set="mine").status_code == 201
    resp = admin.delete("/admin/tool-sets/mine")
    assert resp.status_code == 409 and "qwen" in resp.json()["detail"]
    resp = admin.put("/admin/tool-sets/mine", json={"name": "ours", "tools": ["Read", "Grep"]})
    assert resp.status_code == 200 and resp.json()["used_by"] == ["qwen"]
    assert admin.get("/admin/model-config/qwen").json()["tool_set"] == "ours"
    assert live.runtime.snapshot.model_configs["qwen"].allowed_tools == frozenset({"read", "grep"})


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x"},  # tools must be given (null allows every tool)
        {"name": "", "tools": None},
        {"name": "x", "tools": "Read"},
        {"name": "x", "tools": [""]},
        {"name": "x", "tools": [1]},
        {"name": "x", "tools": None, "extra": 1},
    ],
)
def test_bad_tool_set_bodies_are_422(admin: httpx.Client, body: dict[str, object]) -> None:
    assert admin.post("/admin/tool-sets", json=body).status_code == 422


# -- model configs ------------------------------------------------------------------------------


def test_model_config_crud(live: LiveGateway, admin: httpx.Client) -> None:
    resp = _config(
        admin,
        " Qwen2.5-Coder ",
        allowed_tools=["read_file"],
        unsupported_params=["seed", "seed", "top_k"],
        description="coders",
    )
    assert resp.status_code == 201, resp.text
    config = resp.json()
    assert config["model_prefix"] == "qwen2.5-coder" and config["unsupported_params"] == ["seed", "top_k"]
    assert config["maintenance_mode"] is False and config["tool_set"] is None
    view = live.runtime.snapshot.model_configs["qwen2.5-coder"]
    assert (view.allowed_tools, view.unsupported_params) == (frozenset({"read_file"}), ("seed", "top_k"))

    assert _config(admin, "QWEN2.5-coder").status_code == 409
    assert admin.get(f"/admin/model-config/{config['id']}").json()["model_prefix"] == "qwen2.5-coder"
    assert admin.get("/admin/model-config/Qwen2.5-CODER").json()["id"] == config["id"]
    assert admin.get("/admin/model-config/nope").status_code == 404
    listed = admin.get("/admin/model-config").json()
    assert (listed["total"], listed["limit"], listed["offset"]) == (1, 50, 0)

    resp = admin.put(
        "/admin/model-config/qwen2.5-coder", json={"maintenance_mode": True, "allowed_tools": None}
    )
    assert resp.status_code == 200, resp.text
    view = live.runtime.snapshot.model_configs["qwen2.5-coder"]
    assert view.maintenance_mode and view.allowed_tools is None
    assert admin.delete(f"/admin/model-config/{config['id']}").status_code == 204
    assert live.runtime.snapshot.model_configs == {}
    assert audit_actions(admin, entity_type="model_config") == [
        "model_config.delete",
        "model_config.update",
        "model_config.create",
    ]


def test_allowed_tools_take_precedence_over_the_tool_set(live: LiveGateway, admin: httpx.Client) -> None:
    assert _config(admin, "a", tool_set="minimal").status_code == 201
    assert _config(admin, "b", tool_set="minimal", allowed_tools=["Bash"]).status_code == 201
    assert _config(admin, "c", tool_set="full").status_code == 201
    configs = live.runtime.snapshot.model_configs
    assert "read_file" in (configs["a"].allowed_tools or ())
    assert configs["b"].allowed_tools == frozenset({"bash"})
    assert configs["c"].allowed_tools is None  # full: no filtering


def test_model_config_validation(admin: httpx.Client, audit_count: Callable[[], int]) -> None:
    before = audit_count()
    resp = _config(admin, tool_set="no-such-set")
    assert resp.status_code == 422 and "no-such-set" in resp.json()["detail"]
    for fields in (
        {"unsupported_params": ["messages"]},
        {"unsupported_params": ["stream", "seed"]},
        {"unsupported_params": "seed"},
        {"maintenance_mode": "yes"},
        {"allowed_tools": [""]},
        {"extra": True},
    ):
        assert _config(admin, **fields).status_code == 422, fields
    assert admin.post("/admin/model-config", json={"model_prefix": ""}).status_code == 422
    assert audit_count() == before
    config = _config(admin).json()
    for body in ({"model_prefix": None}, {"tool_set": "missing"}, {"unsupported_params": ["model"]}):
        assert admin.put(f"/admin/model-config/{config['id']}", json=body).status_code == 422, body


# -- system prompts -----------------------------------------------------------------------------


def test_system_prompt_crud(live: LiveGateway, admin: httpx.Client) -> None:
    resp = _prompt(
        admin, scope_type="model", scope_value="Llama3", prompt="  Answer in English.\n", priority=3
    )
    assert resp.status_code == 201, resp.text
    prompt = resp.json()
    assert (prompt["scope_type"], prompt["prompt"], prompt["priority"]) == ("model", "Answer in English.", 3)
    views = live.runtime.snapshot.system_prompts[("model", "llama3:latest")]
    assert [v.prompt for v in views] == ["Answer in English."]

    assert _prompt(admin).status_code == 201
    assert admin.get("/admin/system-prompts").json()["total"] == 2
    only = admin.get("/admin/system-prompts", params={"scope_type": "user"}).json()
    assert only["total"] == 1 and only["items"][0]["scope_value"] == "alice"
    assert admin.get("/admin/system-prompts", params={"scope_type": "planet"}).status_code == 422

    resp = admin.put(f"/admin/system-prompts/{prompt['id']}", json={"is_active": False})
    assert resp.status_code == 200 and resp.json()["is_active"] is False
    assert ("model", "llama3:latest") not in live.runtime.snapshot.system_prompts
    assert admin.get(f"/admin/system-prompts/{prompt['id']}").json()["is_active"] is False
    assert admin.delete(f"/admin/system-prompts/{prompt['id']}").status_code == 204
    assert admin.get(f"/admin/system-prompts/{prompt['id']}").status_code == 404
    assert admin.delete(f"/admin/system-prompts/{prompt['id']}").status_code == 404
    assert audit_actions(admin, entity_type="system_prompt") == [
        "system_prompt.delete",
        "system_prompt.update",
        "system_prompt.create",
        "system_prompt.create",
    ]


@pytest.mark.parametrize(
    "fields",
    [
        {"scope_type": "planet"},
        {"scope_value": ""},
        {"prompt": "   "},
        {"prompt": None},
        {"priority": "high"},
        {"is_active": 1},
        {"extra": 1},
    ],
)
def test_bad_system_prompt_bodies_are_422(admin: httpx.Client, fields: dict[str, object]) -> None:
    assert _prompt(admin, **fields).status_code == 422
    assert admin.get("/admin/system-prompts").json()["total"] == 0


def test_system_prompt_ids_out_of_range(admin: httpx.Client) -> None:
    assert admin.get("/admin/system-prompts/0").status_code == 422
    assert admin.get(f"/admin/system-prompts/{2**40}").status_code == 422
    assert admin.put("/admin/system-prompts/99", json={"prompt": "x"}).status_code == 404
