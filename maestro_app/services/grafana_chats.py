"""Grafana Assistant chats (SPEC §2.5): each user's conversations and their messages.

Every function takes the calling user's id and only ever sees that user's chats: another
user's chat is `EntityNotFound`, exactly like a chat that does not exist, so ids reveal
nothing. Called by the gateway off the event loop (`gateway.grafana_route.in_db`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from maestro_app.db.models import GrafanaChat, GrafanaChatMessage, utcnow
from maestro_app.services.errors import EntityNotFound

_CHAT_ID = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True, slots=True)
class NewMessage:
    role: str
    content: list[dict[str, Any]]
    id: str | None = None
    stop_reason: str | None = None
    usage: dict[str, Any] | None = None
    model: str | None = None
    request_id: str | None = None
    created_at: datetime | None = None  # default: when it is stored


def new_id() -> str:
    return uuid.uuid4().hex


def create_chat(*, session: Session, user_id: int, name: str, origin: str | None) -> GrafanaChat:
    chat = GrafanaChat(id=new_id(), user_id=user_id, name=name, origin=origin)
    session.add(chat)
    session.flush()
    return chat


def get_chat(*, session: Session, user_id: int, chat_id: str) -> GrafanaChat:
    # Ids are our own hex strings: anything else is unknown, and never reaches a query.
    chat = session.get(GrafanaChat, chat_id) if _CHAT_ID.fullmatch(chat_id) else None
    if chat is None or chat.user_id != user_id:
        raise EntityNotFound(f"Chat '{chat_id}' not found")
    return chat


def list_chats(
    *, session: Session, user_id: int, limit: int, offset: int, include_archived: bool
) -> tuple[list[GrafanaChat], int]:
    """A page of the user's chats, most recently active first, and how many there are."""
    where = [col(GrafanaChat.user_id) == user_id]
    if not include_archived:
        where.append(col(GrafanaChat.archived).is_(False))
    total = session.exec(select(func.count()).select_from(GrafanaChat).where(*where)).one()
    rows = session.exec(
        select(GrafanaChat)
        .where(*where)
        .order_by(col(GrafanaChat.updated_at).desc(), col(GrafanaChat.id))
        .offset(offset)
        .limit(limit)
    ).all()
    return list(rows), int(total)


def update_chat(
    *, session: Session, user_id: int, chat_id: str, name: str | None = None, archived: bool | None = None
) -> GrafanaChat:
    chat = get_chat(session=session, user_id=user_id, chat_id=chat_id)
    if name is not None:
        chat.name = name
    if archived is not None:
        chat.archived = archived
    chat.updated_at = utcnow()
    session.add(chat)
    session.flush()
    return chat


def delete_chat(*, session: Session, user_id: int, chat_id: str) -> None:
    chat = get_chat(session=session, user_id=user_id, chat_id=chat_id)
    # The foreign key cascades too; deleting the messages first does not rely on it.
    session.execute(delete(GrafanaChatMessage).where(col(GrafanaChatMessage.chat_id) == chat.id))
    session.delete(chat)
    session.flush()


def list_messages(
    *, session: Session, user_id: int, chat_id: str, limit: int | None = None, offset: int = 0
) -> tuple[list[GrafanaChatMessage], int]:
    """The chat's messages in conversation order (a page of them when `limit` is given)."""
    chat = get_chat(session=session, user_id=user_id, chat_id=chat_id)
    where = col(GrafanaChatMessage.chat_id) == chat.id
    statement = select(GrafanaChatMessage).where(where).order_by(col(GrafanaChatMessage.seq))
    if limit is None:
        rows = list(session.exec(statement).all())
        return rows, len(rows)
    total = session.exec(select(func.count()).select_from(GrafanaChatMessage).where(where)).one()
    return list(session.exec(statement.offset(offset).limit(limit)).all()), int(total)


def add_messages(
    *, session: Session, user_id: int, chat_id: str, messages: Sequence[NewMessage]
) -> list[GrafanaChatMessage]:
    """Append messages to the chat, in order, all or none."""
    chat = get_chat(session=session, user_id=user_id, chat_id=chat_id)
    now = utcnow()
    rows = [
        GrafanaChatMessage(
            id=m.id or new_id(),
            chat_id=chat.id,
            role=m.role,
            content=m.content,
            stop_reason=m.stop_reason,
            usage=m.usage,
            model=m.model,
            request_id=m.request_id,
            created_at=m.created_at or now,
        )
        for m in messages
    ]
    for row in rows:
        # One at a time: `seq` (the conversation order) is assigned in insertion order.
        session.add(row)
        session.flush()
    chat.updated_at = now
    session.add(chat)
    session.flush()
    return rows
