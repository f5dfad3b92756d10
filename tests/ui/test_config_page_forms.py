"""What the model config, tool set and system prompt dialogs send: bodies the services'
strict input models accept, with the choices the forms stand for."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from maestro_app.services.errors import InvalidInput
from maestro_app.services.model_configs import ModelConfigCreate, ModelConfigUpdate
from maestro_app.services.system_prompts import SystemPromptCreate
from maestro_app.services.tool_sets import ToolSetCreate
from maestro_app.ui.pages.model_configs import NO_TOOL_SET, config_fields, tools_rule
from maestro_app.ui.pages.system_prompts import preview, prompt_fields
from maestro_app.ui.pages.tool_sets import PRESET_NAMES, tool_set_fields


def test_tools_rule_follows_the_precedence_of_the_own_list() -> None:
    assert tools_rule(None, None) == "every tool"
    assert tools_rule(None, "readonly") == "tool set"
    assert tools_rule(["Read"], "readonly") == "own list"
    assert tools_rule([], None) == "own list"  # an empty own list removes every tool


def test_config_form_with_a_tool_set_and_no_own_list() -> None:
    form = {
        "model_prefix": "  Qwen2.5-Coder ",
        "tool_set": "readonly",
        "allowed_tools": "Read",  # left in the hidden area: ignored while the switch is off
        "unsupported_params": "temperature, top_p",
        "maintenance_mode": "on",
        "description": "",
    }
    body = ModelConfigCreate(**config_fields(form, own_list=False))
    assert body.model_prefix == "qwen2.5-coder"
    assert (body.tool_set, body.allowed_tools) == ("readonly", None)
    assert body.unsupported_params == ["temperature", "top_p"]
    assert body.maintenance_mode is True
    assert body.description is None


def test_config_form_with_an_own_list_and_no_tool_set() -> None:
    form = {
        "model_prefix": "llama",
        "tool_set": NO_TOOL_SET,
        "allowed_tools": "Read\nGrep",
        "unsupported_params": "",
    }
    body = ModelConfigUpdate(**config_fields(form, own_list=True))
    assert (body.tool_set, body.allowed_tools) == (None, ["Read", "Grep"])
    assert body.maintenance_mode is False
    assert body.given()["tool_set"] is None  # sent: an edit clears a tool set
    empty = ModelConfigUpdate(**config_fields({**form, "allowed_tools": ""}, own_list=True))
    assert empty.allowed_tools == []


def test_config_form_refuses_protected_parameters() -> None:
    form = {"model_prefix": "llama", "unsupported_params": "temperature, model"}
    with pytest.raises(ValidationError, match="model cannot be removed"):
        ModelConfigCreate(**config_fields(form, own_list=False))


def test_tool_set_form() -> None:
    form = {"name": " coder ", "tools": "Read, Edit\nBash", "description": " "}
    body = ToolSetCreate(**tool_set_fields(form, every_tool=False))
    assert (body.name, body.tools, body.description) == ("coder", ["Read", "Edit", "Bash"], None)
    assert ToolSetCreate(**tool_set_fields(form, every_tool=True)).tools is None
    assert ToolSetCreate(**tool_set_fields({"name": "none"}, every_tool=False)).tools == []


def test_the_six_presets_are_named() -> None:
    assert set(PRESET_NAMES) == {"minimal", "readonly", "basic", "standard", "extended", "full"}


def test_prompt_form() -> None:
    form = {"scope_value": " alice ", "prompt": "Be brief.", "priority": "-5", "is_active": "on"}
    body = SystemPromptCreate(**prompt_fields(form, scope_type="user"))
    assert (body.scope_type, body.scope_value, body.prompt, body.priority, body.is_active) == (
        "user",
        "alice",
        "Be brief.",
        -5,
        True,
    )
    assert prompt_fields({**form, "is_active": None}, scope_type="user")["is_active"] is False


def test_prompt_form_refuses_a_priority_that_is_not_a_number() -> None:
    with pytest.raises(InvalidInput, match="Priority: 'high' is not a whole number"):
        prompt_fields({"scope_value": "a", "prompt": "b", "priority": "high"}, scope_type="user")


def test_a_blank_prompt_is_refused_by_the_service_model() -> None:
    with pytest.raises(ValidationError, match="prompt"):
        SystemPromptCreate(
            **prompt_fields({"scope_value": "a", "prompt": "  \n", "priority": "0"}, scope_type="model")
        )


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Be brief.", "Be brief."),
        ("Line one.\n\n  Line two.", "Line one. Line two."),
        ("word " * 50, ("word " * 32).strip() + " …"),
    ],
)
def test_preview(text: str, shown: str) -> None:
    assert preview(text) == shown
    assert len(preview(text)) <= 162
