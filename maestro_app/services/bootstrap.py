"""First-start seeding: the default Ollama node, the first dashboard admin, the tool-set presets."""

from __future__ import annotations

import logging

from sqlmodel import Session, select

from maestro_app.db.models import DashboardAdmin, Node
from maestro_app.services.passwords import hash_password
from maestro_app.services.snapshot import bump_config_version
from maestro_app.services.tool_sets import seed_tool_set_presets
from maestro_app.settings import Settings

logger = logging.getLogger(__name__)


def seed_first_start(session: Session, *, settings: Settings) -> None:
    if settings.ollama_base_url and session.exec(select(Node.id).limit(1)).first() is None:
        session.add(
            Node(
                name="default",
                code="default",
                base_url=settings.ollama_base_url.rstrip("/"),
                node_type="ollama",
                priority=0,
            )
        )
        bump_config_version(session)
        logger.info("registered node 'default' at %s", settings.ollama_base_url)
    if session.exec(select(DashboardAdmin.id).limit(1)).first() is None:
        session.add(
            DashboardAdmin(
                username=settings.admin_username,
                password_hash=hash_password(settings.admin_password or ""),
            )
        )
        logger.info("created dashboard admin '%s'", settings.admin_username)
    seed_tool_set_presets(session)
