"""How a web process serves: a long-lived connection is closed now and then so that
clients spread over the worker processes again (`ui.serving.KeepAliveLimit`)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from gongdan.ui.serving import MAX_REQUESTS_PER_CONNECTION, KeepAliveLimit
from tests.helpers import free_port, wait_until


async def hello(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", b"5")],
        }
    )
    await send({"type": "http.response.body", "body": b"hello"})


@pytest.fixture
def server() -> Iterator[int]:
    """A real uvicorn server on loopback whose connections close after 3 requests."""
    port = free_port()
    config = uvicorn.Config(
        KeepAliveLimit(hello, max_requests=3), host="127.0.0.1", port=port, log_level="warning"
    )
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    assert wait_until(lambda: running.started, 20, interval=0.05), "uvicorn did not start"
    yield port
    running.should_exit = True
    thread.join(timeout=20)


def ask(connection: socket.socket) -> bytes:
    """One GET on a keep-alive connection; the response's head and body."""
    connection.sendall(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
    received = b""
    while not received.endswith(b"hello"):
        chunk = connection.recv(4096)
        assert chunk, f"closed before the response ended: {received!r}"
        received += chunk
    return received


def test_the_last_allowed_request_closes_its_connection(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server), timeout=10) as connection:
        first, second, third = ask(connection), ask(connection), ask(connection)
        assert b"connection: close" not in first.lower()
        assert b"connection: close" not in second.lower()
        assert b"connection: close" in third.lower()
        assert connection.recv(4096) == b""  # the server closed it
    # A new connection starts counting afresh.
    with socket.create_connection(("127.0.0.1", server), timeout=10) as connection:
        assert b"connection: close" not in ask(connection).lower()
        assert b"connection: close" not in ask(connection).lower()


def test_the_app_closes_keep_alive_connections_like_nginx(tmp_path: Any) -> None:
    from gongdan.ui.app import create_app
    from tests.bundles import EXAMPLE

    app = create_app(str(EXAMPLE), database_url=f"sqlite:///{tmp_path / 'app.db'}")
    limits = [m for m in app.user_middleware if m.cls is KeepAliveLimit]
    assert len(limits) == 1
    assert 10 <= MAX_REQUESTS_PER_CONNECTION <= 1000
