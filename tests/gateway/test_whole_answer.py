"""A whole OpenAI stream in hand at once (`OpenAIPassThrough.whole`, taken by `relay_stream`
when the node's answer is complete in its first read): the client gets what the relay
sends chunk by chunk, and answers it cannot vouch for go chunk by chunk instead.

Each case relays the same upstream bytes twice: whole (one read, drained) and a read per
event (the chunk-by-chunk path), and compares what the client would read: text, reasoning,
tool calls, finish reasons, model names, usage chunks, and what the request records."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from maestro_app.gateway.legs import leg_for
from maestro_app.gateway.relay import Exchange, FinalPiece
from maestro_app.providers.sse import SSE_DONE, SSEDecoder, plain_sse_objects
from tests.gateway.relay_support import relay_at_once

pytestmark = pytest.mark.asyncio

REAL, DISPLAY = "org/qwen2.5-coder:7b", "coder"
BASE = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1700000000, "model": REAL}
USAGE = {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}


def event(obj: object) -> bytes:
    return b"data: " + orjson.dumps(obj) + b"\n\n"


def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        **BASE,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        **extra,
    }


def answer(*contents: str, usage: bool = True, done: bool = True) -> list[bytes]:
    """One event per list item, as a vLLM node writes them (orjson is as compact as it)."""
    events = [event(chunk({"role": "assistant", "content": ""}, usage=None))]
    events += [event(chunk({"content": text}, usage=None)) for text in contents]
    events.append(event(chunk({}, "stop", usage=None)))
    if usage:
        events.append(event({**BASE, "choices": [], "usage": USAGE}))
    if done:
        events.append(SSE_DONE)
    return events


def relayed(
    events: list[bytes], *, whole: bool, include_usage: bool = False, kind: str = "chat"
) -> tuple[bytes, Exchange, list[bytes]]:
    """The client's bytes, the exchange (usage, chars) and the messages the relay yielded."""
    transform = leg_for("openai", kind, "vllm").stream(DISPLAY, include_usage, {"model": DISPLAY})
    reads = [b"".join(events)] if whole else events
    pieces, exchange = relay_at_once(reads, transform, drained=whole)
    return b"".join(pieces), exchange, pieces


def read_back(body: bytes) -> dict[str, Any]:
    """What an SDK makes of the stream."""
    decoder = SSEDecoder()
    payloads = decoder.feed(body)
    assert payloads[-1] == "[DONE]" and body.endswith(SSE_DONE)
    seen: dict[str, Any] = {
        "text": "",
        "reasoning": "",
        "calls": [],
        "finish": [],
        "models": set(),
        "usage": [],
    }
    for payload in payloads[:-1]:
        obj = orjson.loads(payload)
        if "error" in obj:
            seen["error"] = obj["error"]["message"]
            continue
        seen["models"].add(obj.get("model"))
        if obj.get("usage"):
            seen["usage"].append(obj["usage"])
        for choice in obj.get("choices") or ():
            delta = choice.get("delta") or {}
            seen["text"] += delta.get("content") or choice.get("text") or ""
            seen["reasoning"] += delta.get("reasoning_content") or ""
            # Printed calls get a fresh id each time they are read.
            seen["calls"] += [{**call, "id": "-"} for call in delta.get("tool_calls") or ()]
            if choice.get("finish_reason"):
                seen["finish"].append(choice["finish_reason"])
    return seen


def at_once(events: list[bytes], *, include_usage: bool = False, kind: str = "chat") -> bytes | None:
    """What `whole` makes of the answer for the client (with the relay's [DONE]), if it takes it."""
    transform = leg_for("openai", kind, "vllm").stream(DISPLAY, include_usage, {"model": DISPLAY})
    done = transform.whole(b"".join(events))  # type: ignore[attr-defined]
    return None if done is None else done[0] + SSE_DONE


async def same_either_way(events: list[bytes], **options: Any) -> tuple[dict[str, Any], bytes]:
    """The client's view (equal both ways) and the bytes of the whole relay."""
    whole_body, whole_exchange, pieces = relayed(events, whole=True, **options)
    step_body, step_exchange, _ = relayed(events, whole=False, **options)
    seen = read_back(whole_body)
    assert seen == read_back(step_body)
    assert whole_exchange.usage == step_exchange.usage
    assert (whole_exchange.status, whole_exchange.error) == (step_exchange.status, step_exchange.error)
    if whole_exchange.usage is None:  # the estimate's basis; unused when the node counted
        assert whole_exchange.output_chars == step_exchange.output_chars
    assert len(pieces) == 1 and pieces[0].__class__ is FinalPiece  # one write either way
    return seen, whole_body


WHOLE = [
    pytest.param(answer(*(f"w{i} " for i in range(32))), {}, id="32 chunks, usage asked of the node only"),
    pytest.param(answer("Hé, ", "ça ", "va? 日本"), {}, id="text beyond ASCII"),
    pytest.param(answer('say "hi"\n', "\\ back"), {}, id="escapes in the text"),
    pytest.param(answer("a", "b"), {"include_usage": True}, id="client asked for usage"),
    pytest.param(answer("a", "b", usage=False), {}, id="no usage: counted for the estimate"),
    pytest.param(answer("a", "b", done=False), {}, id="no [DONE] from the node"),
    pytest.param(answer("  ", "\n", "x"), {}, id="whitespace first"),
    pytest.param(
        [
            event(chunk({"role": "assistant", "content": "hi"}, usage=None)),
            event(chunk({}, "stop", usage=USAGE)),
            SSE_DONE,
        ],
        {},
        id="usage on the last chunk with choices",
    ),
    pytest.param(
        [event(chunk({"role": "assistant", "content": "hi"}, "stop", usage=USAGE)), SSE_DONE],
        {},
        id="one event",
    ),
    pytest.param(
        answer("nested ", "model", "data: {x}"),
        {},
        id="the model's name and the framing's words in the text",
    ),
    pytest.param(
        [
            event(chunk({"role": "assistant", "content": ""})),
            event(
                chunk(
                    {"tool_calls": [{"index": 0, "id": "c1", "function": {"name": "f", "arguments": "{}"}}]}
                )
            ),
            event(chunk({}, "tool_calls")),
            SSE_DONE,
        ],
        {},
        id="native tool calls",
    ),
]


@pytest.mark.parametrize(("events", "options"), WHOLE)
async def test_a_plain_answer_goes_at_once_as_the_client_would_get_it_chunk_by_chunk(
    events: list[bytes], options: dict[str, Any]
) -> None:
    seen, body = await same_either_way(events, **options)
    assert body == at_once(events, **options)  # the relay took the whole answer at once
    assert seen["models"] == {DISPLAY}


async def test_usage_reaches_the_client_only_when_asked() -> None:
    quiet, _ = await same_either_way(answer("a"))
    asked, _ = await same_either_way(answer("a"), include_usage=True)
    assert quiet["usage"] == []
    assert asked["usage"] == [USAGE]


async def test_without_usage_the_text_is_counted_for_the_estimate() -> None:
    _, exchange, _ = relayed(answer("Hé, ", "ça va", usage=False), whole=True)
    assert exchange.usage is None and exchange.output_chars == len("Hé, ça va")


async def test_completions_go_at_once_too() -> None:
    events = [
        event(
            {**BASE, "object": "text_completion", "choices": [{"index": 0, "text": t, "finish_reason": None}]}
        )
        for t in ("one ", "two")
    ]
    events += [event({**BASE, "choices": [], "usage": USAGE}), SSE_DONE]
    seen, body = await same_either_way(events, kind="completion")
    assert body == at_once(events, kind="completion")
    assert seen["text"] == "one two" and seen["models"] == {DISPLAY}


def _with(events: list[bytes], index: int, raw: bytes) -> list[bytes]:
    return [*events[:index], raw, *events[index + 1 :]]


PLAIN = answer("a", "b")
CHUNK_BY_CHUNK = [
    pytest.param(answer("<think>plan</think>", "done"), id="think block"),
    pytest.param(
        answer("<tool_call>", '{"name": "f", "arguments": {}}', "</tool_call>"), id="printed tool call"
    ),
    pytest.param(
        _with(
            PLAIN,
            1,
            b'data: {"model":"' + REAL.encode() + b'","choices":[{"index":0,"delta":{"content":'
            b'"\\u003cthink\\u003eplan\\u003c/think\\u003e"},"finish_reason":null}]}\n\n',
        ),
        id="think block escaped as Go writes it",
    ),  # fmt: skip
    pytest.param(
        _with(PLAIN, 1, event(chunk({"content": "", "reasoning": "hmm"}))),
        id="reasoning field",
    ),
    pytest.param(
        [piece.replace(b'"model":"', b'"model": "') for piece in PLAIN],
        id="spaces in the JSON",
    ),
    pytest.param(
        [piece.replace(REAL.encode(), REAL.replace("/", "\\/").encode()) for piece in PLAIN],
        id="the model's name escaped otherwise",
    ),
    pytest.param(_with(PLAIN, 1, event({**chunk({"content": "x"}), "model": "other"})), id="another model"),
    pytest.param([piece.replace(b"\n", b"\r\n") for piece in PLAIN], id="CRLF"),
    pytest.param([b": keep-alive\n\n", *PLAIN], id="a comment"),
    pytest.param([b"event: message\n" + PLAIN[0], *PLAIN[1:]], id="named events"),
    pytest.param(
        _with(PLAIN, 1, b'data: {"model":"' + REAL.encode() + b'","choices":[\n\n'), id="malformed event"
    ),
    pytest.param(_with(PLAIN, 1, PLAIN[1][:-2] + b"," + PLAIN[1][6:]), id="two objects in one event"),
    pytest.param(
        _with(PLAIN, 2, event({"error": {"message": "out of memory", "type": "server_error"}})),
        id="error chunk",
    ),
    pytest.param(_with(PLAIN, 1, event(chunk({"content": "x"}, usage=USAGE))), id="usage before the end"),
    pytest.param([b"\xef\xbb\xbf" + PLAIN[0], *PLAIN[1:]], id="byte order mark"),
]


@pytest.mark.parametrize("events", CHUNK_BY_CHUNK)
async def test_an_answer_it_cannot_vouch_for_goes_chunk_by_chunk(events: list[bytes]) -> None:
    assert at_once(events) is None
    await same_either_way(events)


async def test_what_chunk_by_chunk_makes_of_the_answers_that_go_that_way() -> None:
    think, _ = await same_either_way(answer("<think>plan</think>", "done"))
    assert (think["reasoning"], think["text"]) == ("plan", "done")
    error, _ = await same_either_way(
        _with(PLAIN, 2, event({"error": {"message": "out of memory", "type": "server_error"}}))
    )
    assert error["error"] == "out of memory" and error["text"] == "a"


async def test_plain_framing_is_read_exactly() -> None:
    raw = b"".join(PLAIN)
    plain = plain_sse_objects(raw)
    assert plain is not None
    events, payloads = plain
    assert events == raw[: -len(SSE_DONE)]
    assert payloads == [orjson.loads(piece[6:]) for piece in PLAIN[:-1]]
    assert plain_sse_objects(b"data: {}\n\n") == (b"data: {}\n\n", [{}])
    for odd in (
        b"",
        SSE_DONE,
        b"data: {}\n",
        b"data: {}\n\n\n\ndata: {}\n\n",
        b"data:{}\n\n",
        b"data: []\n\n",
    ):
        assert plain_sse_objects(odd) is None, odd
