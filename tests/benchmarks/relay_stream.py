"""CPU per streamed answer in the relay, without network or server (issue 7, profile follow-up).

    python -m tests.benchmarks.relay_stream [--repeat 3000]

Feeds the frames the fake upstream sends for a 32-chunk OpenAI chat stream (role chunk, 32
content chunks, finish chunk, usage chunk, [DONE]; one upstream read per frame, as the
gateway sees them at chunk-delay 0 or paced) through the steps of `gateway.relay.relay_stream`
with the real leg of an OpenAI client on a vLLM node (rename, usage tap, tool-call and
<think> post-processing), and times each step cumulatively:

    decode      SSEDecoder.feed
    + parse     orjson.loads per frame
    + transform leg.stream(...).feed  (OpenAIPassThrough + OpenAIStreamPostprocess)
    + count     content_chars per item (estimate when no usage)
    + encode    sse_data per item

and, for scale, a bytes-level rename (`bytes.replace` of the model name in each read).
Then the whole `relay_stream` generator (the real code, exchange close included), the
stream arriving one read per frame or in one read (as under load).
Prints microseconds per stream. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable

import orjson

from maestro_app.gateway.legs import leg_for
from maestro_app.gateway.relay import content_chars
from maestro_app.providers.sse import SSEDecoder, sse_data
from tests.gateway.relay_support import relay_at_once

REAL, DISPLAY = "qwen2.5-coder:7b", "coder"
BODY = {"model": DISPLAY, "messages": [{"role": "user", "content": "hi"}], "stream": True}


def upstream_reads(chunks: int = 32) -> list[bytes]:
    base = {
        "id": "chatcmpl-" + "a" * 32,
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": REAL,
    }

    def frame(delta: dict[str, object], finish: str | None = None) -> bytes:
        obj = dict(
            base,
            choices=[{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            usage=None,
        )
        return b"data: " + orjson.dumps(obj) + b"\n\n"

    reads = [frame({"role": "assistant", "content": ""})]
    reads += [frame({"content": f"w{i} "}) for i in range(chunks)]
    reads.append(frame({}, "stop"))
    usage = {"prompt_tokens": 1, "completion_tokens": chunks, "total_tokens": chunks + 1}
    reads.append(b"data: " + orjson.dumps(dict(base, choices=[], usage=usage)) + b"\n\n")
    reads.append(b"data: [DONE]\n\n")
    return reads


def relay(reads: list[bytes], steps: int) -> int:
    leg = leg_for("openai", "chat", "vllm")
    transform = leg.stream(DISPLAY, False, BODY)
    decoder = SSEDecoder()
    sent = 0
    for read in reads:
        out = bytearray()
        for payload in decoder.feed(read):
            if steps < 2 or payload == "[DONE]":
                continue
            obj = orjson.loads(payload)
            if steps < 3:
                continue
            for item in transform.feed(obj):
                if steps >= 4:
                    content_chars(item)
                if steps >= 5:
                    out += sse_data(item)
        sent += len(out)
    if steps >= 3:
        transform.finish()
    return sent


def whole_relay(reads: list[bytes], *, joined: bool) -> int:
    """One stream through `relay_stream`, driven without a loop turn (nothing in it waits)."""
    transform = leg_for("openai", "chat", "vllm").stream(DISPLAY, False, BODY)
    pieces, _ = relay_at_once([b"".join(reads)] if joined else reads, transform, drained=joined)
    return sum(map(len, pieces))


def replace_only(reads: list[bytes]) -> int:
    old, new = b'"model":"' + REAL.encode() + b'"', b'"model":"' + DISPLAY.encode() + b'"'
    return sum(len(r.replace(old, new)) for r in reads)


def timed(label: str, fn: Callable[[], object], repeat: int) -> float:
    for _ in range(min(200, repeat)):
        fn()
    # Thread CPU time, best of 5 rounds: the machine is often shared, and wall time then
    # measures the neighbours as much as the code.
    rounds = []
    for _ in range(5):
        started = time.thread_time()
        for _ in range(max(1, repeat // 5)):
            fn()
        rounds.append((time.thread_time() - started) / max(1, repeat // 5) * 1e6)
    us = min(rounds)
    print(f"  {us:8.1f} µs  {label}")
    return us


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3000)
    args = parser.parse_args(argv)
    reads = upstream_reads()
    print(f"one stream = {len(reads)} upstream reads; cumulative µs per stream:")
    for steps, label in enumerate(
        ("decode (SSEDecoder.feed)", "+ parse (orjson.loads)", "+ transform (rename, usage, post-process)",
         "+ count (content_chars)", "+ encode (sse_data)"),
        start=1,
    ):  # fmt: skip
        timed(label, lambda s=steps: relay(reads, s), args.repeat)
    timed("bytes.replace of the model name per read (for scale)", lambda: replace_only(reads), args.repeat)
    print("the whole relay_stream, µs per stream:")

    async def whole() -> None:  # in a task: the exchange's close enters an anyio scope
        for joined in (False, True):
            timed(
                "one read" if joined else "a read per frame",
                lambda j=joined: whole_relay(reads, joined=j),
                args.repeat,
            )

    asyncio.run(whole())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
