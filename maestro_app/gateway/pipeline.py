"""The hot path, top to bottom.

    authenticate -> read body -> resolve route (prefix, group, mapping, allowlist) ->
    for each attempt: send upstream (failover before the first byte) ->
    relay (rename, bridge, tap usage) -> enqueue one activity record

Reads only the in-memory snapshot; never queries the database.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from maestro_app.db.models import utcnow
from maestro_app.domain.errors import (
    BadRequest,
    GatewayError,
    NotFound,
    UpstreamFailed,
    UpstreamTimeout,
)
from maestro_app.domain.request_rules import check_maintenance
from maestro_app.domain.routing import Attempt, Route, resolve
from maestro_app.domain.snapshot import UserView
from maestro_app.domain.source import detect_source
from maestro_app.gateway.attempt_plan import AttemptPlan
from maestro_app.gateway.auth import Authenticator
from maestro_app.gateway.body import check_request, parse_object, read_limited
from maestro_app.gateway.errors import error_body
from maestro_app.gateway.legs import Leg, leg_for
from maestro_app.gateway.relay import (
    CLIENT_CLOSED,
    ClientGone,
    DisconnectWatch,
    Exchange,
    RelayResponse,
    content_chars,
    relay_stream,
)
from maestro_app.gateway.request_facts import needs_of, reservation_estimate, wants_stream
from maestro_app.gateway.shaping import shape_request
from maestro_app.gateway.upstream import (
    UpstreamError,
    UpstreamResponse,
    UpstreamTimeoutError,
)
from maestro_app.observability.logs import log_request
from maestro_app.observability.request_ids import current_ids, new_ids
from maestro_app.providers.ollama import is_load_request, load_answer
from maestro_app.providers.responses import responses_prompt_chars
from maestro_app.providers.tokens import estimate_tokens, prompt_chars
from maestro_app.providers.types import Usage
from maestro_app.runtime import Runtime
from maestro_app.stores.limits import Reservation

logger = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
MEDIA_TYPES = {
    "openai": "text/event-stream",
    "ollama": "application/x-ndjson",
    "responses": "text/event-stream",
    "anthropic": "text/event-stream",
}


@dataclass(frozen=True, slots=True)
class Endpoint:
    path: str
    dialect: str  # "openai" | "ollama" | "anthropic"
    kind: str  # chat | completion | generate | embed | embed_legacy | responses
    stream_default: bool
    # Endpoints only one application calls (the Grafana Assistant's) name it themselves.
    source: str | None = None
    # For a dialect routed as another (Anthropic Messages as OpenAI chat): checks the
    # client's body (BadRequest) and returns the body that is routed. None: `check_request`.
    prepare: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    @property
    def streams(self) -> bool:
        return self.kind not in ("embed", "embed_legacy")

    @property
    def stream_format(self) -> str:
        """How a streamed answer is framed for the client (see `gateway.relay`)."""
        return "responses" if self.kind == "responses" else self.dialect


@dataclass(slots=True)
class Call:
    """What the activity record of one request will say."""

    request_id: str
    started: float
    endpoint: str
    source: str
    stream: bool
    client_request_id: str | None = None
    user: UserView | None = None
    model: str | None = None
    real_model: str | None = None
    node_id: int | None = None
    node_name: str | None = None
    prompt_chars: int = 0
    reservation: Reservation | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Gateway:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        settings = runtime.settings
        self.auth = Authenticator(jwt_secret=settings.jwt_secret_key or "", admin_token=settings.admin_token)
        self.log_requests = settings.log_requests

    # -- entry point ----------------------------------------------------------------------

    async def handle(self, request: Request, ep: Endpoint) -> Response:
        started = time.perf_counter()
        snapshot = self.rt.snapshot
        try:
            user = self.auth.request_user(request.headers, snapshot, api_key=ep.dialect == "anthropic")
            raw = await read_limited(request, int(snapshot.setting("max_body_bytes")))
            body = parse_object(raw)
        except GatewayError as err:
            self.rt.metrics.rejected(endpoint=ep.path, status=err.status)
            raise
        return await self.handle_body(request, ep, user, body, started=started)

    async def handle_body(
        self, request: Request, ep: Endpoint, user: UserView, body: dict[str, Any], *, started: float
    ) -> Response:
        """The rest of the pipeline, for a body already read (or built from another API's
        request, as the Grafana Assistant's prompt is) and its authenticated user."""
        snapshot = self.rt.snapshot
        try:
            if ep.prepare is not None:
                body = ep.prepare(body)
            else:
                check_request(body, f"{ep.dialect}.{ep.kind}")
        except GatewayError as err:
            self.rt.metrics.rejected(endpoint=ep.path, status=err.status)
            raise
        stream = ep.streams and wants_stream(body, ep)
        ids = current_ids() or new_ids()
        call = Call(
            # Always our own id: it keys the idempotent ledger, so it must be unique.
            request_id=ids.own,
            client_request_id=ids.client,
            started=started,
            endpoint=ep.path,
            source=ep.source or detect_source(request.headers, dialect=ep.dialect),
            stream=stream,
            user=user,
            model=body["model"],
            prompt_chars=responses_prompt_chars(body) if ep.kind == "responses" else prompt_chars(body),
        )
        try:
            route = resolve(
                snapshot, body["model"], user=user, state=self.rt.balancer, needs=needs_of(body, ep)
            )
            route = check_maintenance(snapshot, route)
            call.reservation = await self.rt.limits.admit(
                user, estimate=reservation_estimate(body, call.prompt_chars)
            )
            if ep.dialect == "ollama" and is_load_request(body, ep.kind):
                loaded = await self._load_locally(ep, call, route, body)
                if loaded is not None:
                    return loaded
            return await self.forward(request, ep, call, route, body, stream)
        except GatewayError as err:
            await self.record(call, status=err.status, error=err.message)
            raise

    # -- sending with failover -----------------------------------------------------------

    async def forward(
        self, request: Request, ep: Endpoint, call: Call, route: Route, body: dict[str, Any], stream: bool
    ) -> Response:
        watch = DisconnectWatch(request.receive)
        try:
            response = await self._forward(watch, ep, call, route, body, stream)
        except BaseException:
            watch.close()
            raise
        if not (isinstance(response, RelayResponse) and response.watch is watch):
            watch.close()  # else the stream took it over: it watches the client to the end
        return response

    async def _forward(
        self,
        watch: DisconnectWatch,
        ep: Endpoint,
        call: Call,
        route: Route,
        body: dict[str, Any],
        stream: bool,
    ) -> Response:
        client_usage = ep.dialect == "ollama" or bool((body.get("stream_options") or {}).get("include_usage"))
        cooldown = float(self.rt.snapshot.setting("node_cooldown_s"))
        failures: list[str] = []
        timed_out = False
        for attempt in (plan := AttemptPlan(self.rt.snapshot, route, self.rt.balancer)):
            node = attempt.node
            leg = leg_for(ep.dialect, ep.kind, node.node_type)
            call.real_model, call.node_id, call.node_name = attempt.real_model, node.id, node.name
            try:
                payload = orjson.dumps(
                    shape_request(
                        self.rt.snapshot, body, attempt=attempt, route=route, user=call.user, ep=ep, leg=leg
                    )
                )
            except (TypeError, ValueError) as exc:
                raise BadRequest(f"Request cannot be translated for this node: {exc}") from None
            self.rt.balancer.start(node.id)
            try:
                # Watched too: a node sends its headers only with a non-streamed answer (and
                # Ollama with the first token), so a client leaving before then must cancel it.
                resp = await watch.guard(
                    self.rt.upstream.send(
                        "POST", node.base_url + leg.path, body=payload, headers=node.upstream_headers
                    )
                )
            except ClientGone:
                self.rt.balancer.finish(node.id)
                await self.record(call, status=CLIENT_CLOSED, error="client closed before the answer")
                return Response(status_code=CLIENT_CLOSED)
            except UpstreamError as exc:
                self.rt.balancer.finish(node.id)
                self.rt.balancer.cool_down(node.id, cooldown)
                timed_out = isinstance(exc, UpstreamTimeoutError)
                failures.append(f"{node.name}: {exc}")
                logger.warning("node %s failed before answering: %s", node.name, exc)
                continue
            if resp.status in RETRYABLE_STATUS:
                detail = await _error_detail(resp)
                plan.fall_back_for_context(attempt, resp.status, detail)
                resp.close()
                self.rt.balancer.finish(node.id)
                if resp.status >= 500:
                    self.rt.balancer.cool_down(node.id, cooldown)
                timed_out = resp.status in (408, 504)
                failures.append(f"{node.name}: HTTP {resp.status} {detail}")
                continue
            if resp.status >= 400 and plan.falls_back(attempt, resp, await _error_detail(resp), failures):
                continue
            if resp.status >= 400:
                return await self._relay_error(call, ep, attempt, resp)
            if stream:
                streamed = await self._start_stream(watch, ep, call, attempt, leg, resp, client_usage, body)
                if streamed is not None:
                    return streamed
            else:
                answered = await self._answer(watch, ep, call, attempt, leg, resp, body)
                if answered is not None:
                    return answered
            self.rt.balancer.cool_down(node.id, cooldown)
            failures.append(f"{node.name}: {call.extra.pop('failure', 'answer broke off')}")
        summary = "; ".join(failures[-3:]) or "no node answered"
        if timed_out:
            raise UpstreamTimeout(f"Upstream timed out for model '{route.requested}' ({summary})")
        raise UpstreamFailed(
            f"All {len(route.attempts)} node(s) failed for model '{route.requested}' ({summary})"
        )

    async def _start_stream(
        self,
        watch: DisconnectWatch,
        ep: Endpoint,
        call: Call,
        attempt: Attempt,
        leg: Leg,
        resp: UpstreamResponse,
        client_usage: bool,
        body: dict[str, Any],
    ) -> Response | None:
        """Read the first chunk (still fail-over-able), then hand the rest to the relay."""
        chunks = resp.iter_chunks().__aiter__()
        try:
            first = await watch.guard(chunks.__anext__())
        except StopAsyncIteration:
            first = b""
        except UpstreamError as exc:
            resp.close()
            self.rt.balancer.finish(attempt.node.id)
            call.extra["failure"] = str(exc)
            return None
        except ClientGone:
            resp.close()
            self.rt.balancer.finish(attempt.node.id)
            await self.record(call, status=CLIENT_CLOSED, error="client closed before the first byte")
            return Response(status_code=CLIENT_CLOSED)
        ttfb = time.perf_counter()
        node_id = attempt.node.id

        async def on_close(exchange: Exchange) -> None:
            self.rt.balancer.finish(node_id)
            await self.record(
                call,
                status=exchange.status,
                error=exchange.error,
                usage=exchange.usage,
                ttfb=ttfb,
                output_chars=exchange.output_chars,
            )

        exchange = Exchange(resp, on_close=on_close)
        transform = leg.stream(call.model or "", client_usage, body)
        content = relay_stream(
            exchange, chunks, first, framing=leg.framing, dialect=ep.stream_format, transform=transform
        )
        return RelayResponse(
            content,
            exchange,
            watch=watch,
            media_type=MEDIA_TYPES[ep.stream_format],
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    async def _answer(
        self,
        watch: DisconnectWatch,
        ep: Endpoint,
        call: Call,
        attempt: Attempt,
        leg: Leg,
        resp: UpstreamResponse,
        body: dict[str, Any],
    ) -> Response | None:
        node_id = attempt.node.id
        try:
            raw = await watch.guard(resp.read())
        except UpstreamError as exc:
            call.extra["failure"] = str(exc)
            return None
        except ClientGone:
            await self.record(call, status=CLIENT_CLOSED, error="client closed before the answer")
            return Response(status_code=CLIENT_CLOSED)
        finally:
            resp.close()
            self.rt.balancer.finish(node_id)
        ttfb = time.perf_counter()
        try:
            upstream = orjson.loads(raw)
            if not isinstance(upstream, dict):
                raise ValueError("not an object")
            usage = leg.usage(upstream)
            answer = leg.answer(upstream, call.model or "", body)
        except (ValueError, TypeError, KeyError) as exc:
            call.extra["failure"] = f"unreadable answer ({exc})"
            return None
        await self.record(
            call, status=200, usage=usage, ttfb=ttfb, output_chars=0 if usage else content_chars(answer)
        )
        return Response(orjson.dumps(answer), media_type="application/json")

    async def _relay_error(
        self, call: Call, ep: Endpoint, attempt: Attempt, resp: UpstreamResponse
    ) -> Response:
        """A node's own non-retryable error, in the client's dialect, names as the client knows them."""
        detail = await _error_detail(resp)
        resp.close()
        self.rt.balancer.finish(attempt.node.id)
        status = resp.status
        if attempt.real_model and call.model and attempt.real_model != call.model:
            detail = detail.replace(attempt.real_model, call.model)
        if status in (401, 403):
            # The node refused the gateway's own credentials: a gateway problem, not the client's.
            status, detail = 502, f"Node '{attempt.node.name}' refused the gateway's credentials"
        await self.record(call, status=status, error=detail)
        error = NotFound(detail) if status == 404 else GatewayError(detail, code="upstream_error")
        if status != 404:
            error.status, error.type = status, "invalid_request_error"
        content = error_body(error, dialect=ep.dialect)
        return Response(orjson.dumps(content), status_code=status, media_type="application/json")

    async def _load_locally(
        self, ep: Endpoint, call: Call, route: Route, body: dict[str, Any]
    ) -> Response | None:
        """An Ollama load request (empty chat/prompt) for a vLLM node: vLLM keeps its models
        loaded, so answer as Ollama would instead of asking the node to generate."""
        attempt = route.attempts[0]
        if attempt.node.node_type == "ollama":
            return None  # Ollama nodes load for real
        call.real_model, call.node_id, call.node_name = attempt.real_model, attempt.node.id, attempt.node.name
        await self.record(call, status=200, usage=Usage(0, 0))
        answer = load_answer(model=call.model or "", kind=ep.kind, keep_alive=body.get("keep_alive"))
        return Response(orjson.dumps(answer), media_type="application/json")

    def after_models_changed(self, node_id: int) -> None:
        """A node's model list changed through us (pull, delete, ...): rediscover it soon."""
        self.rt.discover_soon(node_id)

    # -- activity ------------------------------------------------------------------------

    async def record(
        self,
        call: Call,
        *,
        status: int,
        error: str | None = None,
        usage: Usage | None = None,
        ttfb: float | None = None,
        output_chars: int = 0,
    ) -> None:
        """Make the activity record durable, settle the limit reservation, count the request
        in the metrics (and log it, when LOG_REQUESTS is on)."""
        end = time.perf_counter()
        estimated = usage is None and status < 400
        if usage is not None:
            prompt, completion = usage.prompt_tokens, usage.completion_tokens
        elif status < 400 or output_chars:
            prompt, completion = estimate_tokens(call.prompt_chars), estimate_tokens(output_chars)
            estimated = True
        else:
            prompt = completion = 0
        user = call.user
        duration = end - call.started
        self.rt.metrics.observe(
            model=call.model,
            node=call.node_name,
            endpoint=call.endpoint,
            status=status,
            source=call.source,
            prompt_tokens=prompt,
            completion_tokens=completion,
            duration_s=duration,
            ttfb_s=ttfb - call.started if ttfb else None,
        )
        await self.rt.ledger.append(
            {
                "request_id": call.request_id,
                "client_request_id": call.client_request_id,
                "user_id": user.id if user else None,
                "username": user.username if user else None,
                "model": call.model,
                "real_model": call.real_model,
                "node_id": call.node_id,
                "node_name": call.node_name,
                "endpoint": call.endpoint,
                "source": call.source,
                "stream": call.stream,
                "status_code": status,
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
                "estimated": estimated,
                "duration_ms": duration * 1000.0,
                "ttfb_ms": (ttfb - call.started) * 1000.0 if ttfb else None,
                "error": error,
                "created_at": utcnow(),
            }
        )
        if call.reservation is not None:
            reservation, call.reservation = call.reservation, None
            # The gateway could not answer: the request does not count against the quota.
            refund = status >= 500 and usage is None and not output_chars
            await self.rt.limits.settle(reservation, tokens=prompt + completion, refund=refund)
        if self.log_requests:
            log_request(
                endpoint=call.endpoint,
                model=call.model,
                node=call.node_name,
                user=user.username if user else None,
                source=call.source,
                status=status,
                duration_s=duration,
                tokens=(prompt, completion),
                error=error,
            )


async def _error_detail(resp: UpstreamResponse) -> str:
    try:
        raw = await resp.read()
    except UpstreamError as exc:
        return str(exc)
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw[:500].decode("utf-8", "replace").strip() or f"HTTP {resp.status}"
    if isinstance(obj, dict):
        err = obj.get("error", obj.get("detail", obj.get("message")))
        if isinstance(err, dict):
            err = err.get("message", err)
        if err is not None:
            return str(err)
    return raw[:500].decode("utf-8", "replace")
