"""Config as code: GET /admin/config/export, POST /admin/config/import, MAESTRO_CONFIG.

Every instance here is the real gateway on a loopback socket with its own database (SQLite
file or PostgreSQL clone); configurations are built and checked through the admin API.
"""

from __future__ import annotations

import secrets
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlmodel import Session, select

from maestro_app.db.models import AuditRecord, User
from maestro_app.runtime import Runtime
from maestro_app.services.config_import import ConfigFileError
from maestro_app.services.nodes import load_node, node_secrets
from tests.admin.conftest import audit_actions
from tests.conftest import RUN_ID, LiveGateway, _pg, _sqlalchemy_pg_url, make_settings

API_KEY = "sk-node-secret-" + secrets.token_hex(8)
HEADER_SECRET = "org-secret-" + secrets.token_hex(8)
SECRET_ENV = {"NODE_GPU1_API_KEY": API_KEY, "NODE_GPU1_HEADER_X_ORG": HEADER_SECRET}

GatewayFactory = Callable[..., LiveGateway]


@pytest.fixture
def other_database_url(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> Iterator[str]:
    """A second fresh database on the same backend as `database_url` (an empty instance)."""
    if database_url.startswith("sqlite"):
        target = tmp_path / "other.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
        yield f"sqlite:///{target}"
        return
    name = f"maestro_{RUN_ID}_{secrets.token_hex(4)}"
    _pg(f'CREATE DATABASE "{name}" TEMPLATE "{request.getfixturevalue("pg_template")}"')
    yield _sqlalchemy_pg_url(name)
    _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def empty_gateway(other_database_url: str, tmp_path: Path, gateway: LiveGateway) -> Iterator[LiveGateway]:
    """A second instance on a fresh database (started after `gateway`, same secrets)."""
    settings = make_settings(
        tmp_path / "other",
        other_database_url,
        admin_token=gateway.settings.admin_token,
        jwt_secret_key=gateway.settings.jwt_secret_key,
    )
    live = LiveGateway(Runtime(settings)).start()
    yield live
    live.stop()
    live.runtime.engine.dispose()


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name, value in SECRET_ENV.items():
        monkeypatch.setenv(name, value)
    return SECRET_ENV


def _ok(resp: httpx.Response, status: int = 200) -> Any:
    assert resp.status_code == status, resp.text
    return (
        resp.json() if resp.content and resp.headers["content-type"].startswith("application/json") else None
    )


def _export(admin: httpx.Client) -> str:
    resp = admin.get("/admin/config/export")
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("application/yaml")
    return resp.text


def _import(admin: httpx.Client, text: str, **params: Any) -> httpx.Response:
    query = {k: str(v).lower() for k, v in params.items()}
    return admin.post("/admin/config/import", content=text.encode(), params=query)


def _build_configuration(admin: httpx.Client) -> None:
    """One of everything the file holds, through the admin API."""
    gpu1 = _ok(
        admin.post(
            "/admin/nodes",
            json={
                "name": "GPU 1",
                "code": "gpu1",
                "base_url": "http://127.0.0.1:9/",
                "node_type": "ollama",
                "api_key": API_KEY,
                "headers": {"X-Org": HEADER_SECRET},
                "priority": 10,
                "warmup_enabled": True,
            },
        ),
        201,
    )
    cpu = _ok(
        admin.post(
            "/admin/nodes", json={"name": "CPU box", "base_url": "http://127.0.0.1:8", "node_type": "vllm"}
        ),
        201,
    )
    _ok(admin.post("/admin/tool-sets", json={"name": "safe", "tools": ["read_file", "grep"]}), 201)
    _ok(
        admin.post(
            "/admin/model-config",
            json={"model_prefix": "Qwen", "tool_set": "safe", "unsupported_params": ["seed"]},
        ),
        201,
    )
    _ok(admin.post("/admin/model-mappings", json={"display_name": "coder", "real_name": "qwen2.5:7b"}), 201)
    _ok(
        admin.post(
            "/admin/model-mappings",
            json={
                "display_name": "coder",
                "real_name": "qwen-big",
                "node_ids": [gpu1["id"]],
                "context_length": "32K",
            },
        ),
        201,
    )
    _ok(
        admin.post(
            "/admin/model-groups", json={"name": "team", "strategy": "round_robin", "list_in_catalog": True}
        ),
        201,
    )
    _ok(
        admin.post("/admin/model-groups/team/members", json={"model_display_name": "coder", "weight": 3}), 201
    )
    _ok(
        admin.post(
            "/admin/model-groups/team/members",
            json={
                "model_display_name": "llama3",
                "preferred_node_ids": [cpu["id"], gpu1["id"]],
                "capability_tags": ["tools"],
            },
        ),
        201,
    )
    prompt = {
        "scope_type": "model",
        "scope_value": "coder",
        "prompt": "Be terse.\nAnswer in English.",
        "priority": 5,
    }
    _ok(admin.post("/admin/system-prompts", json=prompt), 201)
    _ok(
        admin.post(
            "/admin/system-prompts", json={"scope_type": "user", "scope_value": "alice", "prompt": "Hi"}
        ),
        201,
    )
    _ok(
        admin.post(
            "/admin/users",
            json={"username": "alice", "allowed_models": ["coder", "llama3"], "token_limit": 5000},
        ),
        201,
    )
    _ok(
        admin.post("/admin/users", json={"username": "bob", "all_models": True, "can_manage_models": True}),
        201,
    )
    _ok(admin.put("/admin/settings", json={"routing_strategy": "least_busy", "node_cooldown_s": 30}))


def test_round_trip_into_an_empty_instance(
    gateway: LiveGateway, empty_gateway: LiveGateway, secret_env: dict[str, str]
) -> None:
    source, target = gateway, empty_gateway
    _build_configuration(source.admin)
    exported = _export(source.admin)
    assert _export(source.admin) == exported  # deterministic

    report = _ok(_import(target.admin, exported))
    assert report["dry_run"] is False
    assert report["created"]["nodes"] == ["cpu-box", "gpu1"]
    assert report["created"]["users"] == ["alice", "bob"]
    assert report["users_without_token"] == ["alice", "bob"]
    assert "no token" in report["message"] and "/token" in report["message"]
    assert sorted(report["created"]["group_members"]) == ["team/coder", "team/llama3"]
    assert report["changed"]["settings"][0]["fields"] == ["node_cooldown_s", "routing_strategy"]
    assert report["deleted"] == {kind: [] for kind in report["deleted"]}
    assert _export(target.admin) == exported

    # The secrets came from the environment, and the routing snapshot follows at once.
    with Session(target.runtime.engine) as session:
        node_id = target.runtime.snapshot.node_by_code("gpu1").id  # type: ignore[union-attr]
        stored = node_secrets(load_node(session, node_id))
        assert (stored.api_key, stored.headers) == (API_KEY, {"X-Org": HEADER_SECRET})
        users = {u.username: u for u in session.exec(select(User)).all()}
    assert target.runtime.snapshot.settings["routing_strategy"] == "least_busy"
    assert "team" in target.runtime.snapshot.groups
    # Imported users have no token until an admin rotates one.
    assert all(u.token_jti_hash is None and u.token_issued_at is None for u in users.values())
    token = _ok(target.admin.put("/admin/users/alice/token"))["token"]
    assert target.client(token).get("/v1/models").status_code == 200

    # Applying the same file again changes nothing and writes nothing.
    audits = len(audit_actions(target.admin))
    again = _ok(_import(target.admin, exported))
    assert again["created"] == again["deleted"] == {k: [] for k in again["created"]}
    assert again["changed"] == {k: [] for k in again["changed"]}
    assert len(audit_actions(target.admin)) == audits


def test_import_writes_audit_records(
    live: LiveGateway, admin: httpx.Client, secret_env: dict[str, str]
) -> None:
    text = """
nodes:
  - code: gpu1
    name: GPU 1
    node_type: ollama
    base_url: http://127.0.0.1:9
    api_key: ${NODE_GPU1_API_KEY}
users:
  - username: carol
"""
    _ok(_import(admin, text))
    with Session(live.runtime.engine) as session:
        records = session.exec(select(AuditRecord).order_by(AuditRecord.id)).all()  # type: ignore[arg-type]
    mine = [
        (r.actor, r.action, r.entity_id)
        for r in records
        if r.action in ("node.create", "user.create", "config.import")
    ]
    assert mine == [
        ("admin-token", "node.create", mine[0][2]),
        ("admin-token", "user.create", "carol"),
        ("admin-token", "config.import", None),
    ]
    summary = records[-1].details
    assert summary == {"prune": False, "created": {"nodes": 1, "users": 1}, "changed": {}, "deleted": {}}
    assert API_KEY not in str([r.details for r in records])


def test_dry_run_changes_nothing(live: LiveGateway, admin: httpx.Client, secret_env: dict[str, str]) -> None:
    _build_configuration(admin)
    before = _export(admin)
    audits = len(audit_actions(admin))
    version = live.runtime.snapshot.version
    edited = yaml.safe_load(before)
    edited["users"] = [u for u in edited["users"] if u["username"] != "bob"]
    edited["users"].append({"username": "dave", "request_limit": 10})
    edited["nodes"][1]["priority"] = 99
    text = yaml.safe_dump(edited)

    report = _ok(_import(admin, text, dry_run=True, prune=True))
    assert report["dry_run"] is True and report["prune"] is True
    assert report["created"]["users"] == ["dave"]
    assert report["deleted"]["users"] == ["bob"]
    assert report["changed"]["nodes"] == [{"key": "gpu1", "fields": ["priority"]}]
    assert "Dry run: nothing was changed" in report["message"]
    assert _export(admin) == before
    assert len(audit_actions(admin)) == audits
    assert live.runtime.snapshot.version == version

    # Without dry_run the same file does what the dry run said.
    applied = _ok(_import(admin, text, prune=True))
    assert {k: applied[k] for k in ("created", "changed", "deleted")} == {
        k: report[k] for k in ("created", "changed", "deleted")
    }
    assert [u["username"] for u in admin.get("/admin/users").json()["items"]] == ["alice", "dave"]


def test_prune_only_touches_sections_in_the_file(
    live: LiveGateway, admin: httpx.Client, secret_env: dict[str, str]
) -> None:
    _build_configuration(admin)
    report = _ok(
        _import(
            admin,
            "users:\n  - username: alice\n    allowed_models: [coder, llama3]\n    token_limit: 5000\n",
            prune=True,
        )
    )
    assert report["deleted"]["users"] == ["bob"]
    assert all(not report["deleted"][kind] for kind in report["deleted"] if kind != "users")
    assert admin.get("/admin/nodes").json()["total"] == 2
    # Without prune, nothing the file leaves out is deleted.
    report = _ok(_import(admin, "users: []\ntool_sets: []\n"))
    assert all(not items for items in report["deleted"].values())


def test_units_are_replaced_whole(live: LiveGateway, admin: httpx.Client, secret_env: dict[str, str]) -> None:
    """A listed group keeps only the members the file lists; a listed scope only its prompts;
    a display name only its mappings."""
    _build_configuration(admin)
    doc = yaml.safe_load(_export(admin))
    team = doc["model_groups"][0]
    team["members"] = [{"model_display_name": "llama3", "preferred_nodes": ["gpu1"]}]
    doc["system_prompts"] = [p for p in doc["system_prompts"] if p["scope_type"] == "model"]
    doc["system_prompts"][0]["prompt"] = "Be brief."
    doc["model_mappings"] = [m for m in doc["model_mappings"] if m["nodes"] == []]
    doc["model_mappings"][0]["nodes"] = ["cpu-box"]
    report = _ok(_import(admin, yaml.safe_dump(doc)))
    assert report["deleted"]["group_members"] == ["team/coder"]
    assert report["changed"]["group_members"] == [
        # capability_tags left out: back to the default (the entry describes the member whole)
        {"key": "team/llama3", "fields": ["capability_tags", "preferred_node_ids", "priority"]}
    ]
    assert report["changed"]["system_prompts"][0]["fields"] == ["prompt"]
    assert report["deleted"]["system_prompts"] == []  # the file leaves the user scope out: kept
    assert report["deleted"]["model_mappings"] == ["coder @ gpu1"]
    assert report["changed"]["model_mappings"] == [{"key": "coder @ cpu-box", "fields": ["node_ids"]}]
    prompts = admin.get("/admin/system-prompts").json()["items"]
    assert sorted(p["prompt"] for p in prompts) == ["Be brief.", "Hi"]
    members = admin.get("/admin/model-groups/team").json()["members"]
    assert [(m["model_display_name"], m["priority"]) for m in members] == [("llama3", 0)]


def test_secrets_never_in_the_export(live: LiveGateway, admin: httpx.Client) -> None:
    _build_configuration(admin)
    token = _ok(admin.put("/admin/users/alice/token"))["token"]
    text = _export(admin)
    with Session(live.runtime.engine) as session:
        jti_hashes = [u.token_jti_hash for u in session.exec(select(User)).all()]
    for secret in (
        API_KEY,
        HEADER_SECRET,
        token,
        live.settings.admin_token,
        live.settings.jwt_secret_key,
        *jti_hashes,
    ):
        assert secret and secret not in text
    assert API_KEY[-4:] not in text  # not even the masked form
    doc = yaml.safe_load(text)
    gpu1 = next(n for n in doc["nodes"] if n["code"] == "gpu1")
    assert gpu1["api_key"] == "${NODE_GPU1_API_KEY}"
    assert gpu1["headers"] == {"X-Org": "${NODE_GPU1_HEADER_X_ORG}"}
    assert "#   NODE_GPU1_API_KEY\n" in text and "#   NODE_GPU1_HEADER_X_ORG\n" in text
    assert next(n for n in doc["nodes"] if n["code"] == "cpu-box")["api_key"] is None
    assert all(set(u) & {"token", "token_jti_hash", "id", "token_issued_at"} == set() for u in doc["users"])
    assert "$argon2" not in text and "admin" not in [u["username"] for u in doc["users"]]


def test_env_references(live: LiveGateway, admin: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    text = """
nodes:
  - code: edge
    name: Edge
    node_type: vllm
    base_url: http://127.0.0.1:7
    api_key: ${EDGE_KEY_FOR_TEST}
    headers: {X-Team: literal-value}
"""
    monkeypatch.delenv("EDGE_KEY_FOR_TEST", raising=False)
    resp = _import(admin, text)
    assert resp.status_code == 422
    assert resp.json()["detail"] == (
        "nodes[0].api_key: environment variable EDGE_KEY_FOR_TEST is not set "
        "(the file refers to it as ${EDGE_KEY_FOR_TEST})"
    )
    assert admin.get("/admin/nodes").json()["total"] == 0

    monkeypatch.setenv("EDGE_KEY_FOR_TEST", "edge-secret-value-1234")
    _ok(_import(admin, text))
    node = admin.get("/admin/nodes").json()["items"][0]
    assert node["api_key"] == "edg…1234"
    with Session(live.runtime.engine) as session:
        stored = node_secrets(load_node(session, node["id"]))
    assert (stored.api_key, stored.headers) == ("edge-secret-value-1234", {"X-Team": "literal-value"})
    # A changed variable is a change of the node.
    monkeypatch.setenv("EDGE_KEY_FOR_TEST", "edge-secret-value-5678")
    report = _ok(_import(admin, text))
    assert report["changed"]["nodes"] == [{"key": "edge", "fields": ["api_key"]}]


GOOD_START = "nodes:\n  - {code: a1, name: A1, node_type: ollama, base_url: 'http://127.0.0.1:9'}\n"

BAD_FILES: list[tuple[str, str, int, str]] = [  # (label, file, status, part of the message)
    ("not yaml", GOOD_START + "users: [\n", 422, "line 4, column 1: not valid YAML"),
    ("a list", "- 1\n- 2\n", 422, "(document): must be a mapping"),
    ("empty", "", 422, "(document): empty"),
    ("null", "null\n", 422, "(document): empty"),  # schemathesis, seed 1061368322
    ("only comments", "# nodes: []\n", 422, "(document): empty"),
    ("unknown section", GOOD_START + "widgets: []\n", 422, "widgets: unknown section"),
    ("wrong version", GOOD_START + "version: 2\n", 422, "version: this gateway reads version 1"),
    ("section not a list", GOOD_START + "users: {alice: {}}\n", 422, "users: must be a list"),
    (
        "unknown field",
        GOOD_START + "users:\n  - {username: al, colour: red}\n",
        422,
        "users[0].colour: Extra inputs",
    ),
    (
        "wrong type",
        GOOD_START + "users:\n  - {username: al}\n  - {username: bo, request_limit: many}\n",
        422,
        "users[1].request_limit",
    ),
    ("bad url", "nodes:\n  - {name: X, node_type: ollama, base_url: 'ftp://x'}\n", 422, "nodes[0].base_url"),
    (
        "duplicate user",
        GOOD_START + "users:\n  - {username: al}\n  - {username: al}\n",
        422,
        "users[1]: 'al' is already described by users[0]",
    ),
    (
        "unknown node",
        GOOD_START + "model_mappings:\n  - {display_name: m, real_name: r, nodes: [a1, zz]}\n",
        422,
        "model_mappings[0].nodes[1]: 'zz' is not",
    ),
    (
        "node ids",
        GOOD_START + "model_mappings:\n  - {display_name: m, real_name: r, node_ids: [1]}\n",
        422,
        "model_mappings[0].node_ids: name nodes by code",
    ),
    (
        "member field",
        GOOD_START + "model_groups:\n  - name: g\n    members: [{model_display_name: m, weight: -1}]\n",
        422,
        "model_groups[0].members[0].weight",
    ),
    (
        "member is a group",
        GOOD_START + "model_groups:\n  - {name: g, members: [{model_display_name: h}]}\n  - {name: h}\n",
        422,
        "model_groups[0].members[0]: 'h' is a model group",
    ),
    (
        "unknown tool set",
        GOOD_START + "model_configs:\n  - {model_prefix: q, tool_set: nope}\n",
        422,
        "model_configs[0]: Tool set 'nope' does not exist",
    ),
    (
        "token in file",
        GOOD_START + "users:\n  - {username: al, token: abc}\n",
        422,
        "users[0].token: a configuration file never carries tokens",
    ),
    ("alias", GOOD_START + "tool_sets:\n  - &t {name: x, tools: null}\n  - *t\n", 422, "YAML aliases"),
    ("non-text key", GOOD_START + "settings: {1: 2}\n", 422, "settings: keys must be text"),
    (
        "bad setting",
        GOOD_START + "settings: {health_check_interval_s: 0}\n",
        422,
        "settings.health_check_interval_s",
    ),
    ("not utf-8", GOOD_START + "users:\n  - {username: \xff}\n", 422, "not valid YAML"),
    (
        "nul",
        GOOD_START + 'users:\n  - {username: al, description: "a\\0b"}\n',
        422,
        "users[0]: text must not contain NUL",
    ),
]


def test_a_bad_file_changes_nothing(live: LiveGateway, admin: httpx.Client) -> None:
    """Each file is refused with the place of its first problem, and nothing of it (nor of
    its valid first node) is written. One gateway for all cases: they change nothing."""
    before = _export(admin)
    audits = len(audit_actions(admin))
    for label, text, status, message in BAD_FILES:
        body = text.encode("latin-1") if label == "not utf-8" else text.encode()
        resp = admin.post("/admin/config/import", content=body)
        assert resp.status_code == status, (label, resp.text)
        assert message in resp.json()["detail"], (label, resp.json()["detail"])
        assert _export(admin) == before, label
    assert len(audit_actions(admin)) == audits


def test_oversized_file_is_refused(live: LiveGateway, admin: httpx.Client) -> None:
    _ok(admin.put("/admin/settings", json={"max_body_bytes": 2048}))
    resp = admin.post("/admin/config/import", content=b"users: []\n" + b"#" * 4096)
    assert resp.status_code == 413
    assert "max_body_bytes" in resp.json()["detail"]


def test_import_needs_the_admin_token(live: LiveGateway, anon: httpx.Client) -> None:
    assert anon.get("/admin/config/export").status_code == 401
    assert anon.post("/admin/config/import", content=b"users: []").status_code == 401
    assert live.client("wrong").post("/admin/config/import", content=b"users: []").status_code == 403


CONFIG_FILE = """
nodes:
  - code: boot
    name: Boot node
    node_type: vllm
    base_url: http://127.0.0.1:9
    api_key: ${NODE_GPU1_API_KEY}
model_mappings:
  - {display_name: fast, real_name: tiny, nodes: [boot]}
users:
  - {username: erin, all_models: true}
"""


def test_maestro_config_is_applied_at_start(
    gateway_factory: GatewayFactory, tmp_path: Path, secret_env: dict[str, str]
) -> None:
    path = tmp_path / "maestro.yaml"
    path.write_text(CONFIG_FILE)
    live = gateway_factory(maestro_config=path)
    nodes = live.admin.get("/admin/nodes").json()["items"]
    assert [(n["code"], n["api_key"]) for n in nodes] == [("boot", API_KEY[:3] + "…" + API_KEY[-4:])]
    assert live.runtime.snapshot.node_by_code("boot") is not None
    assert [m["display_name"] for m in live.admin.get("/admin/model-mappings").json()["items"]] == ["fast"]
    erin = live.admin.get("/admin/users/erin").json()
    assert erin["token_issued_at"] is None
    assert audit_actions(live.admin, action="config.import") == ["config.import"]
    with Session(live.runtime.engine) as session:
        record = session.exec(select(AuditRecord).where(AuditRecord.action == "config.import")).one()
    assert record.actor == "config-file"


def test_maestro_config_once_when_processes_start_together(
    scaled_gateway_factory: GatewayFactory, tmp_path: Path, secret_env: dict[str, str]
) -> None:
    """Two processes of one deployment start at once: the file is applied by one, the other
    finds nothing to change (the start-up lock of the migrations)."""
    path = tmp_path / "maestro.yaml"
    path.write_text(CONFIG_FILE)
    started: list[LiveGateway] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            started.append(scaled_gateway_factory(maestro_config=path))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors and len(started) == 2
    admin = started[0].admin
    assert audit_actions(admin, action="config.import") == ["config.import"]
    assert audit_actions(admin, action="node.create") == ["node.create"]
    assert admin.get("/admin/nodes").json()["total"] == 1


def test_bad_maestro_config_stops_the_start(gateway_factory: GatewayFactory, tmp_path: Path) -> None:
    path = tmp_path / "maestro.yaml"
    path.write_text("users:\n  - {username: 'has space'}\n")
    with pytest.raises(ConfigFileError, match=r"MAESTRO_CONFIG=.*maestro.yaml: users\[0\]\.username"):
        gateway_factory(maestro_config=path)
    with pytest.raises(ConfigFileError, match="cannot read it"):
        gateway_factory(maestro_config=tmp_path / "missing.yaml")


def test_a_prefix_of_digits_is_a_prefix_not_an_id(live: LiveGateway, admin: httpx.Client) -> None:
    """The model-config service reads a reference of digits as an id first: the import names
    configs by id, so a prefix like "1" never changes the config whose id is 1."""
    first = _ok(admin.post("/admin/model-config", json={"model_prefix": "llama"}), 201)
    digits = str(first["id"])
    _ok(_import(admin, f"model_configs:\n  - {{model_prefix: llama}}\n  - {{model_prefix: '{digits}'}}\n"))
    text = f"model_configs:\n  - {{model_prefix: llama}}\n  - {{model_prefix: '{digits}', maintenance_mode: true}}\n"
    report = _ok(_import(admin, text))
    assert report["changed"]["model_configs"] == [{"key": digits, "fields": ["maintenance_mode"]}]
    configs = admin.get("/admin/model-config").json()["items"]
    assert sorted((c["model_prefix"], c["maintenance_mode"]) for c in configs) == [
        (digits, True),
        ("llama", False),
    ]
    report = _ok(
        _import(
            admin, f"model_configs:\n  - {{model_prefix: '{digits}', maintenance_mode: true}}\n", prune=True
        )
    )
    assert report["deleted"]["model_configs"] == ["llama"]
    assert [c["model_prefix"] for c in admin.get("/admin/model-config").json()["items"]] == [digits]
