"""Benchmark: the CPU time the security layers add to one API request (issue 20).

On a loaded, shared machine bench/api.py's creates per second swing by a factor of
three between runs of the same code, far more than the few percent at stake. This
measures the added work directly, as CPU time of this process (not wall time, so other
processes' load matters little): an API create's request (a 600-byte JSON POST with a
bearer token) through the two middlewares every request now passes
(`ui.headers.SecurityHeaders`, `ui.bodylimit.BodyLimit`) around an app that answers
201 at once, against the same app without them; and a recognised token's extra work
(none: `ui.api.deps` looks at the throttle only for unknown tokens; a session is only
looked up for requests with a session cookie, which API clients do not send).
Prints the median and spread of `--repeats` rounds of `--requests` each, and the added
CPU per request as a share of an API create's CPU in a web worker (`--create-cpu-ms`,
from bench/api.py's "CPU time of the thread" lines: engine + auth + HTTP layer).

    .venv/bin/python bench/security_overhead.py [--requests N] [--repeats N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Sequence
from typing import Any

from gongdan.ui.bodylimit import BodyLimit
from gongdan.ui.headers import SecurityHeaders
from gongdan.ui.websettings import WebSettings

BODY = b'{"type": "it_incident", "title": "' + b"x" * 540 + b'", "fields": {}}'
SCOPE = {
    "type": "http",
    "method": "POST",
    "path": "/api/v1/tickets",
    "scheme": "http",
    "headers": [
        (b"host", b"127.0.0.1"),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(BODY)).encode()),
        (b"authorization", b"Bearer gd_" + b"a" * 43),
    ],
}


async def app(scope: Any, receive: Any, send: Any) -> None:
    """Reads the body, answers 201 with JSON (as a create does, minus the create)."""
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send(
        {
            "type": "http.response.start",
            "status": 201,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"2")],
        }
    )
    await send({"type": "http.response.body", "body": b"{}"})


async def refuse(scope: Any, receive: Any, send: Any, limit: int) -> None:
    raise AssertionError("the body is within its limit")


async def run(stack: Any, requests: int) -> float:
    """CPU seconds per request through `stack`."""

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": BODY, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    started = time.process_time()
    for _ in range(requests):
        await stack(dict(SCOPE), receive, send)
    return (time.process_time() - started) / requests


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--create-cpu-ms", type=float, default=3.0)
    args = parser.parse_args(argv)
    guarded = SecurityHeaders(BodyLimit(app, settings=WebSettings(), refuse=refuse))
    added = []
    for _ in range(args.repeats):
        bare = asyncio.run(run(app, args.requests))
        wrapped = asyncio.run(run(guarded, args.requests))
        added.append((wrapped - bare) * 1e6)
    median = statistics.median(added)
    print(
        f"added CPU per request: median {median:.1f} µs, min {min(added):.1f}, "
        f"max {max(added):.1f} ({args.repeats} rounds of {args.requests})"
    )
    share = median / (args.create_cpu_ms * 1000) * 100
    print(f"= {share:.2f} % of an API create's {args.create_cpu_ms} ms of worker CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
