"""Grafana Assistant chats and their messages (SPEC §2.5), stored per user in the database.

    POST   chats                    {name?, origin?}            -> 201 chat
    GET    chats?limit&offset&includeArchived                   -> {items, pagination}
    GET    chats/{id}                                           -> chat with its messages
    PATCH  chats/{id}               {name?, archived?}          -> chat
    DELETE chats/{id}                                           -> {id, deleted}
    GET    chats/{id}/messages?limit&offset                     -> {items, pagination}
    POST   chats/{id}/messages      message | [message, ...]    -> 201 {items}

Another user's chat answers 404, as an unknown one does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response

from maestro_app.db.models import GrafanaChat, GrafanaChatMessage
from maestro_app.domain.errors import BadRequest
from maestro_app.gateway.grafana_route import (
    GrafanaRoute,
    current_user,
    envelope,
    in_db,
    query_bool,
    query_int,
    read_json,
    runtime_of,
)
from maestro_app.providers.grafana import NAME_MAX, ORIGIN_MAX, parse_messages
from maestro_app.services import grafana_chats
from maestro_app.services.common import MAX_PAGE_SIZE

router = APIRouter(route_class=GrafanaRoute)

DEFAULT_CHAT_NAME = "New chat"
DEFAULT_PAGE = 50


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def chat_json(chat: GrafanaChat) -> dict[str, Any]:
    return {
        "id": chat.id,
        "name": chat.name,
        "origin": chat.origin,
        "archived": chat.archived,
        "createdAt": iso(chat.created_at),
        "updatedAt": iso(chat.updated_at),
    }


def message_json(message: GrafanaChatMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "chatId": message.chat_id,
        "role": message.role,
        "content": message.content,
        "stopReason": message.stop_reason,
        "usage": message.usage,
        "model": message.model,
        "createdAt": iso(message.created_at),
    }


def pagination(*, limit: int, offset: int, total: int) -> dict[str, Any]:
    return {"limit": limit, "offset": offset, "total": total, "hasMore": offset + limit < total}


def _text_field(body: dict[str, Any], key: str, *, limit: int) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"Field '{key}' must be a string", code="invalid_type")
    value = value.strip()
    if len(value) > limit:
        raise BadRequest(f"Field '{key}' must be at most {limit} characters", code="invalid_value")
    return value


def _paging(request: Request) -> tuple[int, int]:
    limit = query_int(request, "limit", DEFAULT_PAGE, low=1, high=MAX_PAGE_SIZE)
    return limit, query_int(request, "offset", 0, low=0, high=2**31 - 1)


@router.post("/chats")
async def create_chat(request: Request) -> Response:
    runtime, user = runtime_of(request), current_user(request)
    body = await read_json(request, runtime)
    name = _text_field(body, "name", limit=NAME_MAX) or DEFAULT_CHAT_NAME
    origin = _text_field(body, "origin", limit=ORIGIN_MAX) or None
    chat = await in_db(runtime, grafana_chats.create_chat, user_id=user.id, name=name, origin=origin)
    return envelope(chat_json(chat), status_code=201)


@router.get("/chats")
async def list_chats(request: Request) -> Response:
    runtime, user = runtime_of(request), current_user(request)
    limit, offset = _paging(request)
    archived = query_bool(request, "includeArchived", False)
    chats, total = await in_db(
        runtime,
        grafana_chats.list_chats,
        user_id=user.id,
        limit=limit,
        offset=offset,
        include_archived=archived,
    )
    return envelope(
        {
            "items": [chat_json(c) for c in chats],
            "pagination": pagination(limit=limit, offset=offset, total=total),
        }
    )


def _chat_with_messages(*, session: Any, user_id: int, chat_id: str) -> dict[str, Any]:
    chat = grafana_chats.get_chat(session=session, user_id=user_id, chat_id=chat_id)
    messages, _ = grafana_chats.list_messages(session=session, user_id=user_id, chat_id=chat_id)
    return {**chat_json(chat), "messages": [message_json(m) for m in messages]}


@router.get("/chats/{chat_id}")
async def get_chat(request: Request, chat_id: str) -> Response:
    user = current_user(request)
    return envelope(await in_db(runtime_of(request), _chat_with_messages, user_id=user.id, chat_id=chat_id))


@router.patch("/chats/{chat_id}")
async def update_chat(request: Request, chat_id: str) -> Response:
    runtime, user = runtime_of(request), current_user(request)
    body = await read_json(request, runtime)
    name = _text_field(body, "name", limit=NAME_MAX)
    archived = body.get("archived")
    if archived is not None and not isinstance(archived, bool):
        raise BadRequest("Field 'archived' must be a boolean", code="invalid_type")
    if name == "":
        raise BadRequest("Field 'name' must not be empty", code="invalid_value")
    chat = await in_db(
        runtime, grafana_chats.update_chat, user_id=user.id, chat_id=chat_id, name=name, archived=archived
    )
    return envelope(chat_json(chat))


@router.delete("/chats/{chat_id}")
async def delete_chat(request: Request, chat_id: str) -> Response:
    user = current_user(request)
    await in_db(runtime_of(request), grafana_chats.delete_chat, user_id=user.id, chat_id=chat_id)
    return envelope({"id": chat_id, "deleted": True})


@router.get("/chats/{chat_id}/messages")
async def list_messages(request: Request, chat_id: str) -> Response:
    runtime, user = runtime_of(request), current_user(request)
    limit, offset = _paging(request)
    messages, total = await in_db(
        runtime, grafana_chats.list_messages, user_id=user.id, chat_id=chat_id, limit=limit, offset=offset
    )
    return envelope(
        {
            "items": [message_json(m) for m in messages],
            "pagination": pagination(limit=limit, offset=offset, total=total),
        }
    )


@router.post("/chats/{chat_id}/messages")
async def add_messages(request: Request, chat_id: str) -> Response:
    runtime, user = runtime_of(request), current_user(request)
    parsed = parse_messages(await read_json(request, runtime, objects_only=False))
    new = [grafana_chats.NewMessage(role=m.role, content=m.content) for m in parsed]
    rows = await in_db(runtime, grafana_chats.add_messages, user_id=user.id, chat_id=chat_id, messages=new)
    return envelope({"items": [message_json(m) for m in rows]}, status_code=201)
