"""The admin REST API under /admin (SPEC §5): one router per entity, composed here."""

from __future__ import annotations

from fastapi import APIRouter


def build_admin_router() -> APIRouter:
    router = APIRouter(prefix="/admin")
    return router
