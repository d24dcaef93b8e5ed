"""Fixtures for background work: a loopback webhook receiver and a bundle whose
workflow posts a signed webhook when a ticket is created (and when it is started)."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from gongdan.channels.webhooks import verify
from tests.bundles import make_bundle

SECRET = b"s3cret-for-tests"
SECRET_ENV = "GONGDAN_TEST_HOOK_SECRET"  # noqa: S105 - a variable name

WORKFLOW = """\
kind: Workflow
id: basic
initial: new
states:
  new: {{category: new}}
  open: {{category: open}}
  done: {{category: closed}}
transitions:
  - id: start
    from: [new]
    to: open
    actions: [{{webhook: {{url: "{url}/started", secret_env: {secret_env}, allow_private: true}}}}]
  - id: finish
    from: [open]
    to: done
on_enter:
  new: [{{webhook: {{url: "{url}/created", secret_env: {secret_env}, allow_private: true}}}}]
  done: [{{notify: requester, template: resolved}}, {{notify: team}}]
"""
TICKET_TYPE = """\
kind: TicketType
id: incident
name: Incident
key_prefix: INC
workflow: basic
fields:
  - id: category
    type: select
    options: [hardware, software]
"""


def webhook_bundle(root: Path, url: str) -> Path:
    """A config bundle whose tickets post webhooks to `url` (signed with `SECRET`,
    read from `$GONGDAN_TEST_HOOK_SECRET`)."""
    return make_bundle(
        root,
        {
            "workflows/basic.yaml": WORKFLOW.format(url=url, secret_env=SECRET_ENV),
            "ticket_types/incident.yaml": TICKET_TYPE,
            "routing/default.yaml": None,
            "sla/sla.yaml": None,
        },
    )


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def delivery(self) -> str:
        return self.headers["x-gongdan-delivery"]

    def signed(self, secret: bytes = SECRET) -> bool:
        return verify(secret, self.body, self.headers.get("x-gongdan-signature", ""))


@dataclass
class Receiver:
    """A webhook endpoint on 127.0.0.1: records every request as it arrives, then
    answers what `answer(n)` says for the n-th request (0-based): (status, delay)."""

    answer: Callable[[int], tuple[int, float]] = lambda _n: (200, 0.0)
    requests: list[Received] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.arrived = threading.Condition(self.lock)

    def record(self, request: Received) -> int:
        with self.arrived:
            self.requests.append(request)
            self.arrived.notify_all()
            return len(self.requests) - 1

    def wait_for(self, count: int, timeout: float) -> list[Received]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.requests) >= count, timeout)
            return list(self.requests)

    def deliveries(self) -> set[str]:
        """What the receiver has seen once deduplicated on X-Gongdan-Delivery."""
        with self.lock:
            return {r.delivery for r in self.requests}


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            number = receiver.record(Received(self.path, headers, body))
            status, delay = receiver.answer(number)
            time.sleep(delay)
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet tests

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        # A sender that gave up (a timeout, a killed worker) is what some tests do.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    server = _Server(("127.0.0.1", 0), _handler(hook))
    hook.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield hook
    server.shutdown()
    server.server_close()
    thread.join(5)
