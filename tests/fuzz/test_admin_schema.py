"""Schemathesis against the admin API's own OpenAPI document, served over a real socket.

Every `/admin` operation of the document the gateway serves (`/api/openapi.json`) gets
generated requests with the admin token, valid ones and invalid ones: no answer may be a
5xx, every status must be documented, and every body must match its documented schema;
invalid input must be refused. Bounded (`MAESTRO_FUZZ_EXAMPLES`, default 10, per operation
and mode) so the run stays around a minute; `MAESTRO_FUZZ_SEED` replays a failed run.

Schemathesis's own pytest integration (`schema.parametrize()`) does not run on pytest 9.2
(it writes `Item._nodeid`, which pytest 9.2 no longer has), so the cases come from its
Python API (`operation.as_strategy()`) under a Hypothesis `@given` of our own.
"""

from __future__ import annotations

import os
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import given
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.config._checks import NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import LiveGateway
from tests.fuzz.bounds import FUZZ_BACKEND, FUZZ_SEED, bounded

FUZZ_EXAMPLES = int(os.environ.get("MAESTRO_FUZZ_EXAMPLES", "10"))
# A login checks an argon2 hash (~0.3 s by design): fewer of them.
FEWER_EXAMPLES = {("POST", "/admin/auth/login"): 3}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# These two call the node (a generated base URL) and answer 502 when it does not answer,
# by design; they are covered against fake nodes in tests/admin.
SKIPPED = {("POST", "/admin/nodes/{node_id}/health-check"), ("POST", "/admin/nodes/{node_id}/discover")}


def _served_schema(gateway: LiveGateway) -> Any:
    user, password = gateway.settings.docs_credentials
    resp = httpx.get(gateway.url + "/api/openapi.json", auth=(user, password))
    assert resp.status_code == 200, resp.text
    doc = resp.json()
    doc["paths"] = {path: item for path, item in doc["paths"].items() if path.startswith("/admin")}
    # 413 refuses invalid input too: the config import checks the body's size (against a
    # max_body_bytes this very fuzzing may lower) before the query is validated.
    refusals = [*NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES, "413"]
    config = SchemathesisConfig.from_dict(
        {"checks": {"negative_data_rejection": {"expected-statuses": refusals}}}
    )
    loaded = schemathesis.openapi.from_dict(doc, config=config)
    loaded.config.update(
        base_url=gateway.url, headers={"Authorization": f"Bearer {gateway.settings.admin_token}"}
    )
    return loaded


def _fuzz(operation: Any, mode: GenerationMode, session: requests.Session) -> None:
    checks = [*CHECKS, negative_data_rejection] if mode is GenerationMode.NEGATIVE else CHECKS
    examples = FEWER_EXAMPLES.get((operation.method.upper(), operation.path), FUZZ_EXAMPLES)

    @bounded(examples)
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        case.call_and_validate(session=session, checks=checks, timeout=30)

    run()


def _modes(operation: Any) -> list[GenerationMode]:
    """Positive, and negative where something can be made invalid: a body, a query, a
    path parameter that is not free text (any text is a valid name)."""
    typed_path = any(
        p.definition.get("schema", {}).get("type") != "string" for p in operation.path_parameters
    )
    if list(operation.body) or list(operation.query) or typed_path:
        return [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    return [GenerationMode.POSITIVE]


@pytest.mark.parametrize("database_url", [FUZZ_BACKEND], indirect=True)
def test_admin_api_matches_its_schema(gateway: LiveGateway) -> None:
    loaded = _served_schema(gateway)
    failures: list[str] = []
    with requests.Session() as session:
        for result in loaded.get_all_operations():
            operation = result.ok()
            if (operation.method.upper(), operation.path) in SKIPPED:
                continue
            for mode in _modes(operation):
                try:
                    _fuzz(operation, mode, session)
                except (Exception, FailureGroup) as exc:  # every operation is tried; all reported
                    failures.append(f"{operation.label} ({mode.value}): {exc}")
    assert not failures, f"seed {FUZZ_SEED} (MAESTRO_FUZZ_SEED):\n" + "\n\n".join(failures)
