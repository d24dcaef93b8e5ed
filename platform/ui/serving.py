"""How a web process runs: its garbage collector and its thread pool.

A create allocates thousands of short-lived objects (ORM state, pydantic models, SQL
parameters), so with CPython's default generation-0 threshold (700) the collector runs
several times per request and now and then walks every long-lived object (the bundle,
SQLAlchemy's compiled caches) for nothing. So what exists after start-up is frozen out
of the collector's sight and generation 0 is collected every `GEN0_THRESHOLD`
allocations: creates per second go up and their p95 down (bench/api.py; the figures
are in bench/NOTES.md). Memory is unaffected in practice: cycles are still collected,
only less often.

Sync routes run on a few of anyio's worker threads (`WORKER_THREADS`). More threads
than cores only make the requests in flight take turns holding the GIL (every turn
after a database round trip waits for the holder's switch interval), so fewer creates
get done; the requests beyond them wait in the event loop, first come first served.
Three, not two or four: the count bench/api.py runs, taking turns, did best with (p95,
its spread and creates per second; bench/NOTES.md). Nothing that waits on the
database runs on the event loop itself (the bearer-token lookup too goes to a thread,
`ui.api.deps`): a hung database stalls only the requests that need it.

Several worker processes share one listening socket, and a new connection goes to
whichever accepts it first. Clients that open their connections together and keep
them (an integration with a pool of keep-alive connections, the bench's clients) can
end up nearly all on one worker for as long as they live, that worker saturated and
the other idle. `KeepAliveLimit` closes a connection after
`MAX_REQUESTS_PER_CONNECTION` requests (as nginx's `keepalive_requests` does): the
client reconnects, and the worker less busy at that moment is the one that accepts.
"""

from __future__ import annotations

import gc
from typing import Any

import anyio.to_thread

__all__ = [
    "MAX_REQUESTS_PER_CONNECTION",
    "WORKER_THREADS",
    "KeepAliveLimit",
    "limit_worker_threads",
    "tune_collector",
]

WORKER_THREADS = 3
GEN0_THRESHOLD = 20_000
MAX_REQUESTS_PER_CONNECTION = 100


def tune_collector() -> None:
    """Move everything alive now (modules, the bundle, caches) out of the collector's
    sight and collect young objects less often. Call once, after start-up."""
    gc.collect()
    gc.freeze()
    _gen0, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, max(gen1, 50), max(gen2, 100))


def limit_worker_threads() -> None:
    """Cap the threads that run sync routes (call inside the running event loop)."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = WORKER_THREADS


class KeepAliveLimit:
    """ASGI middleware: the `max_requests`-th response on a connection says
    `Connection: close` (uvicorn then closes it once sent), so long-lived clients
    reconnect now and then and spread over the worker processes again."""

    def __init__(self, app: Any, max_requests: int = MAX_REQUESTS_PER_CONNECTION) -> None:
        self.app = app
        self.max_requests = max_requests
        # Requests so far per connection, by the client's address and port. Entries
        # of connections the client closed first are dropped wholesale now and then.
        self._served: dict[tuple[Any, ...], int] = {}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        client = scope.get("client") if scope["type"] == "http" else None
        if not client:
            await self.app(scope, receive, send)
            return
        key = (*client, *(scope.get("server") or ()))
        served = self._served.get(key, 0) + 1
        if served < self.max_requests:
            if len(self._served) >= 10_000 and key not in self._served:
                self._served.clear()
            self._served[key] = served
            await self.app(scope, receive, send)
            return
        self._served.pop(key, None)

        async def closing(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, value)
                    for name, value in message.get("headers", ())
                    if name.lower() != b"connection"
                ]
                message = {**message, "headers": [*headers, (b"connection", b"close")]}
            await send(message)

        await self.app(scope, receive, closing)
