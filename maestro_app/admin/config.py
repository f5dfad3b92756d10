"""/admin/config: the configuration as a YAML file (SPEC §5 "Config as code").

`GET /export` answers the file; `POST /import` applies one (YAML, or JSON, in the body;
the content type is not checked, since `curl --data-binary @file` sends a form type) as one
transaction. `?dry_run=true` reports what would change and rolls everything back;
`?prune=true` also deletes what the file's sections leave out (`services.config_import`).
"""

from __future__ import annotations

import os
from typing import Annotated, Any

import anyio.from_thread
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from maestro_app.admin.deps import AdminDep, RuntimeDep, SessionDep, commit_and_reload
from maestro_app.admin.routing import ErrorAnswer, ProtectedRoute
from maestro_app.services import config_export, config_import
from maestro_app.services.config_import import ImportReport

router = APIRouter(prefix="/config", route_class=ProtectedRoute, tags=["admin: config"])

YAML_TYPE = "application/yaml"
_YAML_DOCUMENT: dict[str, Any] = {YAML_TYPE: {"schema": config_import.DOCUMENT_SCHEMA}}


async def file_body(request: Request, runtime: RuntimeDep) -> bytes:
    """The request body, refused (413) once it outgrows the `max_body_bytes` setting."""
    limit = int(runtime.snapshot.settings.get("max_body_bytes") or 32 * 1024 * 1024)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"The configuration file is larger than max_body_bytes ({limit} bytes)")
        chunks.append(chunk)
    return b"".join(chunks)


@router.get(
    "/export",
    response_class=Response,
    responses={200: {"description": "The configuration as YAML", "content": _YAML_DOCUMENT}},
)
def export_config(session: SessionDep) -> Response:
    text = config_export.export_config(session=session)
    return Response(text, media_type=YAML_TYPE)


@router.post(
    "/import",
    openapi_extra={"requestBody": {"required": True, "content": _YAML_DOCUMENT}},
    responses={413: {"model": ErrorAnswer, "description": "The file is larger than max_body_bytes"}},
)
def import_config(
    data: Annotated[bytes, Depends(file_body)],
    actor: AdminDep,
    session: SessionDep,
    runtime: RuntimeDep,
    dry_run: Annotated[bool, Query(description="Report what would change; change nothing")] = False,
    prune: Annotated[bool, Query(description="Also delete what the file's sections leave out")] = False,
) -> ImportReport:
    outcome = config_import.import_config(
        session=session, data=data, actor=actor, environ=os.environ, prune=prune, dry_run=dry_run
    )
    if dry_run:
        session.rollback()
        return outcome.report
    commit_and_reload(session, runtime)
    for node_id in outcome.rediscover:
        anyio.from_thread.run_sync(runtime.check_new_node_soon, node_id)
    return outcome.report
