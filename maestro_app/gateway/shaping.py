"""The body one attempt sends to its node: the request rules of `domain.request_rules`
around the leg's dialect translation.

    client body -> tools filtered, unsupported params removed, system prompt merged
                -> leg.request (model renamed, dialect translated)
                -> num_ctx for Ollama nodes, unsupported params removed (node's names),
                   Anthropic thinking dropped for an Ollama model known not to think

Everything comes from the snapshot; the client's body is never modified.
"""

from __future__ import annotations

from typing import Any, Protocol

from maestro_app.domain.names import split_node_prefix
from maestro_app.domain.request_rules import (
    config_for_attempt,
    declared_context_length,
    filter_tools,
    merge_system_prompt,
    remove_params,
    select_system_prompt,
    with_num_ctx,
)
from maestro_app.domain.routing import Attempt, Route
from maestro_app.domain.snapshot import Snapshot, UserView
from maestro_app.gateway.legs import Leg

Body = dict[str, Any]
_PROMPTED_KINDS = frozenset({"chat", "generate", "responses"})


class EndpointKind(Protocol):
    @property
    def dialect(self) -> str: ...

    @property
    def kind(self) -> str: ...


def model_names(route: Route, attempt: Attempt) -> list[str]:
    """The names a `model` system prompt may match: the requested name, the model part of a
    `node:` name, and the group member the attempt serves."""
    names = [route.requested]
    pinned = split_node_prefix(route.requested)
    if pinned is not None:
        names.append(pinned[1])
    if attempt.member is not None:
        names.append(attempt.display_model)
    return names


def shape_request(
    snapshot: Snapshot,
    body: Body,
    *,
    attempt: Attempt,
    route: Route,
    user: UserView | None,
    ep: EndpointKind,
    leg: Leg,
) -> Body:
    """What `attempt`'s node receives for the client's `body`."""
    config = config_for_attempt(snapshot, route, attempt)
    shaped = body
    if config is not None:
        if config.allowed_tools is not None:
            shaped = filter_tools(shaped, config.allowed_tools)
        shaped = remove_params(shaped, config.unsupported_params)
    if ep.kind in _PROMPTED_KINDS and snapshot.system_prompts:
        prompt = select_system_prompt(
            snapshot,
            username=user.username if user is not None else None,
            node=attempt.node,
            group=route.group.name if route.group is not None else None,
            models=model_names(route, attempt),
            mapping=attempt.mapping.display_name if attempt.mapping is not None else None,
        )
        if prompt:
            shaped = merge_system_prompt(shaped, prompt, kind=ep.kind)
    node_body = leg.request(dict(shaped, model=attempt.real_model))
    if attempt.node.node_type == "ollama":
        context_length = declared_context_length(attempt)
        if context_length:
            node_body = with_num_ctx(node_body, context_length)
    if config is not None:
        node_body = remove_params(node_body, config.unsupported_params)
    if ep.dialect == "anthropic" and "think" in node_body and not _may_think(attempt):
        # Anthropic clients ask every model to think (they believe it is Claude); an Ollama
        # model known not to think refuses the option outright.
        node_body = {key: value for key, value in node_body.items() if key != "think"}
    return node_body


def _may_think(attempt: Attempt) -> bool:
    """False when the attempt's model is known not to think: the mapping's declared
    capabilities, else the discovered ones, lack `thinking`. Unknown: True."""
    capabilities: tuple[str, ...] = ()
    if attempt.mapping is not None and attempt.mapping.capabilities:
        capabilities = attempt.mapping.capabilities
    elif (info := attempt.node.find_model(attempt.real_model)) is not None:
        capabilities = info.capabilities
    return not capabilities or "thinking" in capabilities
