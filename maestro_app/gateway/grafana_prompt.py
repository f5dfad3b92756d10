"""`POST chats/{id}/prompt-stream`: the Grafana Assistant's prompt, answered as SSE events.

    read the prompt -> load the chat (off the loop) -> build an OpenAI chat request
    (`grafana_model`, stored messages + prompt, `systemPrompt`, tools)
    -> `Gateway.handle_body`: the normal pipeline (allowlist, limits, groups, mappings,
       tool filtering, system prompts, failover, usage, activity record with source `grafana`)
    -> its OpenAI stream re-encoded as the assistant's events (`providers.grafana_answer`)
    -> when the stream ends, or the client leaves: the prompt and the answer seen so far
       are stored (off the loop)

No database session is open while the model answers: the chat is read before the request
goes upstream and written after the stream is over.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import anyio
import orjson
from fastapi import APIRouter, Request, Response
from sqlmodel import Session

from maestro_app.db.models import utcnow
from maestro_app.domain.errors import ServiceUnavailable
from maestro_app.gateway.grafana_route import (
    GrafanaRoute,
    current_user,
    error_response,
    in_db,
    read_json,
    runtime_of,
)
from maestro_app.gateway.pipeline import Endpoint, Gateway
from maestro_app.gateway.relay import RelayResponse
from maestro_app.providers.grafana import Message, chat_request, parse_prompt
from maestro_app.providers.grafana_answer import AnswerBuilder
from maestro_app.providers.sse import SSEDecoder, sse_data
from maestro_app.runtime import Runtime
from maestro_app.services import grafana_chats
from maestro_app.services.errors import EntityNotFound

logger = logging.getLogger(__name__)

router = APIRouter(route_class=GrafanaRoute)
Store = Callable[[], Awaitable[None]]

PROMPT_STREAM = Endpoint(
    "/grafana/assistant/api/v1/chats/{id}/prompt-stream",
    "openai",
    "chat",
    stream_default=True,
    source="grafana",
)


def _history(*, session: Session, user_id: int, chat_id: str) -> list[Message]:
    rows, _ = grafana_chats.list_messages(session=session, user_id=user_id, chat_id=chat_id)
    return [Message(role=row.role, content=row.content) for row in rows]


@router.post("/chats/{chat_id}/prompt-stream")
async def prompt_stream(request: Request, chat_id: str) -> Response:
    started = time.perf_counter()
    runtime, user = runtime_of(request), current_user(request)
    gateway: Gateway = request.app.state.gateway
    prompt = parse_prompt(await read_json(request, runtime))
    model = runtime.snapshot.setting("grafana_model")
    if not model:
        raise ServiceUnavailable(
            "No model is set for the Grafana Assistant: an admin sets 'grafana_model' in /admin/settings",
            code="grafana_model_not_set",
        )
    asked = None
    if prompt.content is not None:
        asked = grafana_chats.NewMessage(role="user", content=prompt.content, created_at=utcnow())
    history = await in_db(runtime, _history, user_id=user.id, chat_id=chat_id)
    body = chat_request(model=model, prompt=prompt, history=history)
    response = await gateway.handle_body(request, PROMPT_STREAM, user, body, started=started)
    if not isinstance(response, RelayResponse):
        return _as_error(response)
    answer = AnswerBuilder(message_id=grafana_chats.new_id(), chat_id=chat_id, model=model)
    request_id = response.headers.get("x-request-id")

    def reframe(stream: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        return answer_events(
            stream, answer, store=lambda: _store(runtime, user.id, asked, answer, request_id)
        )

    return response.reframed(
        reframe,
        media_type="text/event-stream",
        headers={"X-Request-ID": request_id or "", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _as_error(response: Response) -> Response:
    """A node's own error (or the client already gone), in the assistant's error envelope."""
    try:
        detail = orjson.loads(bytes(response.body)).get("error")
    except (orjson.JSONDecodeError, AttributeError):
        detail = None
    message = detail.get("message") if isinstance(detail, dict) else detail
    code = detail.get("code") if isinstance(detail, dict) else None
    return error_response(
        response.status_code,
        str(code or "upstream_error"),
        str(message or f"The model answered HTTP {response.status_code}"),
    )


async def answer_events(
    stream: AsyncIterator[bytes], answer: AnswerBuilder, *, store: Store
) -> AsyncIterator[bytes]:
    """The pipeline's OpenAI SSE stream as the assistant's events; `store` runs at the end,
    whatever the end was (done, broken off, client gone)."""
    decoder = SSEDecoder()
    try:
        yield sse_data(answer.start_event())
        async for chunk in stream:
            if _feed(answer, decoder.feed(chunk)) and answer.error is None:
                yield sse_data(answer.progress_event())
        _feed(answer, decoder.flush())
        yield sse_data(answer.final_event())
    except (asyncio.CancelledError, GeneratorExit):
        answer.cancelled = True
        raise
    finally:
        with anyio.CancelScope(shield=True):
            await _close(stream)
            await store()


def _feed(answer: AnswerBuilder, frames: list[str]) -> bool:
    changed = False
    for frame in frames:
        if frame == "[DONE]" or answer.error is not None:
            continue
        try:
            obj = orjson.loads(frame)
        except orjson.JSONDecodeError:
            continue
        if not isinstance(obj, dict):
            continue
        error = obj.get("error")
        if error is not None and not obj.get("choices"):
            answer.fail(str(error.get("message") if isinstance(error, dict) else error))
            continue
        changed = answer.feed(obj) or changed
    return changed


async def _close(stream: AsyncIterator[bytes]) -> None:
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()


async def _store(
    runtime: Runtime,
    user_id: int,
    asked: grafana_chats.NewMessage | None,
    answer: AnswerBuilder,
    request_id: str | None,
) -> None:
    """The prompt and the answer as far as it went, in one transaction."""
    messages = [asked] if asked is not None else []
    messages.append(
        grafana_chats.NewMessage(
            id=answer.message_id,
            role="assistant",
            content=answer.content(final=True),
            stop_reason=answer.stop_reason,
            usage=answer.usage,
            model=answer.model,
            request_id=request_id,
        )
    )
    try:
        await in_db(
            runtime, grafana_chats.add_messages, user_id=user_id, chat_id=answer.chat_id, messages=messages
        )
    except EntityNotFound:
        logger.info("chat %s was deleted while it was answered; the answer is not stored", answer.chat_id)
    except Exception:
        logger.exception("could not store the answer of chat %s", answer.chat_id)
