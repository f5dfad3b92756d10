"""Groups page in Chromium: create a group, add members with weights, capability tags and a
preferred node, reorder the members by drag and drop and by the menu, edit, refuse bad
input, remove a member and delete the group; checked through the admin API."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import MaestroServer
from tests.e2e.helpers import fits_narrow_window, open_page, save_screenshot, toast, unique

pytestmark = pytest.mark.e2e


def api_group(server: MaestroServer, name: str) -> dict[str, Any]:
    with server.admin_client() as admin:
        found = admin.get(f"/admin/model-groups/{name}")
        assert found.status_code == 200, found.text
        return found.json()  # type: ignore[no-any-return]


def api_order(server: MaestroServer, name: str) -> list[str]:
    """Member models by priority, as the API (and routing) see them."""
    members = sorted(api_group(server, name)["members"], key=lambda m: (m["priority"], m["id"]))
    return [m["model_display_name"] for m in members]


def member_ids(server: MaestroServer, name: str) -> dict[str, int]:
    return {m["model_display_name"]: m["id"] for m in api_group(server, name)["members"]}


def shown_order(card: Locator) -> list[str]:
    return card.locator(".member-model").all_inner_texts()


def check_box(page: Page, class_name: str, label: str) -> Locator:
    return page.locator(f".{class_name}").filter(has_text=label).get_by_role("checkbox")


def add_member(page: Page, card: Locator, model: str, **fields: str) -> None:
    card.locator(".add-member").click()
    page.locator("#member-model").fill(model)
    for field, value in fields.items():
        page.locator(f"#member-{field}").fill(value)
    page.locator("#save-member").click()
    expect(page.locator("#member-editor")).to_have_count(0)


def test_group_members_are_reordered_by_drag_and_drop(
    maestro_server: MaestroServer, browser_page: Page
) -> None:
    page = browser_page
    node_name = unique("e2e-grp-node")
    with maestro_server.admin_client() as admin:
        created = admin.post(
            "/admin/nodes", json={"name": node_name, "base_url": "http://127.0.0.1:9", "node_type": "ollama"}
        )
        assert created.status_code == 201, created.text
        node_id = created.json()["id"]
    group = unique("e2e-group")
    first, second, third = (unique(f"e2e-member-{n}") for n in ("a", "b", "c"))
    open_page(page, maestro_server, "/groups", "Groups")

    # Create: weighted, in the catalog, three failover retries.
    page.locator("#new-group").click()
    page.locator("#group-name").fill(group)
    page.get_by_role("combobox", name="Strategy").click()
    page.get_by_role("option", name=re.compile("^Weighted")).click()
    page.locator("#group-retries").fill("3")
    page.get_by_role("switch", name="List in catalog").click()
    page.locator("#save-group").click()
    expect(toast(page, f"Group {group} created")).to_be_visible()
    saved = api_group(maestro_server, group)
    assert (
        saved["strategy"],
        saved["list_in_catalog"],
        saved["max_failover_retries"],
        saved["is_active"],
    ) == (
        "weighted",
        True,
        3,
        True,
    )
    card = page.locator(f"#group-card-{saved['id']}")
    expect(card.locator(".group-catalog")).to_be_visible()
    expect(card).to_contain_text("No members yet")

    # Members: the first with a weight, a context length, two tags and a preferred node.
    card.locator(".add-member").click()
    page.locator("#member-model").fill(first)
    page.locator("#member-weight").fill("3")
    page.locator("#member-context").fill("32K")
    check_box(page, "member-tag", "vision").click()
    check_box(page, "member-tag", "tools").click()
    check_box(page, "member-node-choice", node_name).click()
    expect(page.locator("#member-editor")).to_contain_text("Only the checked node serves this member.")
    page.locator("#save-member").click()
    expect(toast(page, f"Member {first} added to {group}")).to_be_visible()
    add_member(page, card, second)
    add_member(page, card, third, weight="2")
    expect(card.locator(".member-row")).to_have_count(3)
    assert shown_order(card) == [first, second, third]
    assert api_order(maestro_server, group) == [first, second, third]
    member = next(m for m in api_group(maestro_server, group)["members"] if m["model_display_name"] == first)
    assert (
        member["weight"],
        member["context_length"],
        member["capability_tags"],
        member["preferred_node_ids"],
    ) == (
        3,
        32768,
        ["tools", "vision"],
        [node_id],
    )
    first_row = card.locator(f"#member-{member['id']}")
    expect(first_row).to_contain_text("vision")
    expect(first_row.locator(".member-nodes")).to_contain_text(node_name)
    expect(first_row).to_contain_text("weight 3")

    # Drag the third member onto the top half of the first: it lands first, saved at once.
    ids = member_ids(maestro_server, group)
    card.locator(f"#member-{ids[third]}").drag_to(
        card.locator(f"#member-{ids[first]}"), target_position={"x": 60, "y": 4}
    )
    expect(toast(page, "Member order saved")).to_be_visible()
    expect(card.locator(".member-model").first).to_have_text(third)
    assert shown_order(card) == [third, first, second]
    assert api_order(maestro_server, group) == [third, first, second]
    assert sorted(m["priority"] for m in api_group(maestro_server, group)["members"]) == [0, 1, 2]

    # The menu moves a member too (keyboard and touch users).
    card.locator(f"#member-{ids[third]}").locator(".member-menu").click()
    page.get_by_role("menuitem", name="Move down").click()
    expect(card.locator(".member-model").first).to_have_text(first)
    assert api_order(maestro_server, group) == [first, third, second]

    # Edit a member: inactive, weight 5.
    card.locator(f"#member-{ids[second]}").locator(".edit-member").click()
    expect(page.locator("#member-model")).to_have_value(second)
    page.locator("#member-weight").fill("5")
    page.locator("#member-editor").get_by_role("switch", name="Active").click()
    page.locator("#save-member").click()
    expect(card.locator(f"#member-{ids[second]}")).to_contain_text("inactive")
    edited = next(m for m in api_group(maestro_server, group)["members"] if m["id"] == ids[second])
    assert (edited["weight"], edited["is_active"]) == (5, False)

    save_screenshot(page, "groups")
    fits_narrow_window(
        page, page.get_by_role("heading", name="Groups", exact=True), card.locator(".add-member")
    )

    # Remove a member after confirming.
    card.locator(f"#member-{ids[second]}").locator(".member-menu").click()
    page.get_by_role("menuitem", name="Remove").click()
    page.locator("#confirm-delete-member-ok").click()
    expect(card.locator(".member-row")).to_have_count(2)
    assert api_order(maestro_server, group) == [first, third]

    # Delete the group: cancel first, then confirm.
    card.locator(".delete-group").click()
    expect(page.locator("#confirm-delete-group")).to_contain_text("2 member(s) go with it")
    page.locator("#confirm-delete-group").get_by_role("button", name="Cancel").click()
    assert api_group(maestro_server, group)["name"] == group
    card.locator(".delete-group").click()
    page.locator("#confirm-delete-group-ok").click()
    expect(card).to_have_count(0)
    with maestro_server.admin_client() as admin:
        assert admin.get(f"/admin/model-groups/{group}").status_code == 404


def test_bad_group_input_shows_the_reason_and_changes_nothing(
    maestro_server: MaestroServer, browser_page: Page
) -> None:
    page = browser_page
    group, other = unique("e2e-strict"), unique("e2e-other")
    with maestro_server.admin_client() as admin:
        for name in (group, other):
            assert admin.post("/admin/model-groups", json={"name": name}).status_code == 201
        member = admin.post(f"/admin/model-groups/{group}/members", json={"model_display_name": "llama3:8b"})
        assert member.status_code == 201
    before = api_group(maestro_server, group)
    open_page(page, maestro_server, "/groups", "Groups")
    page.locator("#group-search").fill(group)
    card = page.locator(f"#group-card-{before['id']}")
    expect(page.locator(".group-card")).to_have_count(1)

    card.locator(".edit-group").click()
    page.locator("#group-retries").fill("lots")
    page.locator("#save-group").click()
    expect(toast(page, "Failover retries: 'lots' is not a whole number")).to_be_visible()
    page.locator("#group-retries").fill("101")
    page.locator("#save-group").click()
    expect(toast(page, "max_failover_retries")).to_be_visible()
    page.locator("#group-name").fill(other)
    page.locator("#group-retries").fill("1")
    page.locator("#save-group").click()
    expect(toast(page, "already exists")).to_be_visible()
    expect(page.locator("#group-editor")).to_be_visible()
    page.keyboard.press("Escape")

    # A member may not be a group, nor a node-pinned name.
    card.locator(".add-member").click()
    page.locator("#member-model").fill(other)
    page.locator("#save-member").click()
    expect(toast(page, "groups do not nest")).to_be_visible()
    page.locator("#member-model").fill("node:gpu:llama3")
    page.locator("#save-member").click()
    expect(toast(page, "must not start with 'node:'")).to_be_visible()
    page.locator("#member-model").fill("qwen3:8b")
    page.locator("#member-context").fill("huge")
    page.locator("#save-member").click()
    expect(toast(page, "context_length")).to_be_visible()
    page.keyboard.press("Escape")

    assert api_group(maestro_server, group) == before
    expect(card.locator(".member-row")).to_have_count(1)
