"""CPU per request of the observability added to the hot path (issue 10), without a server.

    python -m tests.benchmarks.metrics_cost [--requests 200000]

Times, per request, in microseconds:

    observe          GatewayMetrics.observe as Gateway.record calls it (requests, tokens,
                     duration and TTFB histograms), in-process values (one worker, tests)
    observe-mp       the same in multiprocess mode (mmap files in a temporary directory), as
                     `reflex run` serves; measured in a child process, since the mode is
                     chosen per process
    middleware       RequestIdMiddleware around a trivial ASGI app, minus the bare app
    log-filter       RequestIdFilter on one record (only paid by lines that are logged)

Label combinations cycle over 4 models x 2 nodes x 2 statuses, like a small deployment.
Times are CPU time of this process (`time.process_time`), so a busy machine inflates them
less than wall-clock time would. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODELS = ("llama3", "qwen2.5:7b", "coder", "embed")
NODES = ("gpu-1", "gpu-2")
STATUSES = (200, 502)


def time_observe(metrics: object, n: int) -> float:
    observe = metrics.observe  # type: ignore[attr-defined]
    combos = [(m, node, s) for m in MODELS for node in NODES for s in STATUSES]

    def run(count: int) -> None:
        for i in range(count):
            m, node, s = combos[i % len(combos)]
            observe(
                model=m,
                node=node,
                endpoint="/v1/chat/completions",
                status=s,
                source="openai",
                prompt_tokens=10,
                completion_tokens=20,
                duration_s=0.5,
                ttfb_s=0.1 if s == 200 else None,
            )

    run(len(combos))  # the label children exist in a running gateway
    start = time.process_time()
    run(n)
    return (time.process_time() - start) / n * 1e6


def observe_in_process(n: int) -> float:
    from maestro_app.observability.metrics import GatewayMetrics

    return time_observe(GatewayMetrics(), n)


def observe_multiprocess(n: int) -> float:
    """Run in a child: switches this process to prometheus_client's multiprocess values."""
    from maestro_app.observability.metrics import GatewayMetrics
    from maestro_app.observability.metrics_files import prepare_multiprocess

    with tempfile.TemporaryDirectory() as data_dir:
        directory = prepare_multiprocess(Path(data_dir))
        return time_observe(GatewayMetrics(multiprocess_dir=directory), n)


def middleware_cost(n: int) -> float:
    from maestro_app.observability.request_ids import RequestIdMiddleware

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]}
        )
        await send({"type": "http.response.body", "body": b"ok"})

    async def receive():  # type: ignore[no-untyped-def]
        return {"type": "http.request", "body": b""}

    async def send(message):  # type: ignore[no-untyped-def]
        return None

    headers = [
        (b"host", b"gw"),
        (b"user-agent", b"OpenAI/Python 1.0"),
        (b"authorization", b"Bearer x" * 4),
        (b"content-type", b"application/json"),
        (b"accept", b"*/*"),
    ]
    scope = {"type": "http", "method": "POST", "path": "/v1/chat/completions", "headers": headers}

    async def run(target) -> float:  # type: ignore[no-untyped-def]
        start = time.process_time()
        for _ in range(n):
            await target(dict(scope), receive, send)
        return (time.process_time() - start) / n * 1e6

    bare = asyncio.run(run(app))
    wrapped = asyncio.run(run(RequestIdMiddleware(app)))
    return wrapped - bare


def log_filter_cost(n: int) -> float:
    from maestro_app.observability.logs import RequestIdFilter

    filt = RequestIdFilter()
    records = [logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None) for _ in range(n)]
    start = time.process_time()
    for record in records:
        filt.filter(record)
    return (time.process_time() - start) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--child-mp", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_mp:
        print(f"{observe_multiprocess(args.requests):.2f}")
        return
    n = args.requests
    mp = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks.metrics_cost", "--child-mp", "--requests", str(n)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    print(f"observe (in-process)   {observe_in_process(n):6.2f} µs/request")
    print(f"observe (multiprocess) {float(mp):6.2f} µs/request")
    print(f"request-id middleware  {middleware_cost(n // 4):6.2f} µs/request")
    print(f"log filter             {log_filter_cost(n):6.2f} µs/line")


if __name__ == "__main__":
    main()
