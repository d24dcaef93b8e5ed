"""Webhooks arrive at a loopback receiver signed with HMAC-SHA256, with the delivery
id and event headers, and fail (to be retried) on timeouts, redirects and errors."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from gongdan.bundle.loader import load_bundle
from gongdan.channels import channels_for
from gongdan.channels.webhooks import encode_body, post_webhook, sign, verify, webhook_secret
from gongdan.engine.outbox.relay import deliver, list_deliveries, relay_once
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.rules.outbound import parse_address
from tests.factories import NOW, StepClock, make_user
from tests.helpers import free_port
from tests.tasks.conftest import SECRET, SECRET_ENV, Receiver, webhook_bundle

LATER = NOW + timedelta(minutes=5)


def test_a_ticket_webhook_arrives_signed_with_hmac_sha256(
    db: Database, tmp_path: Path, receiver: Receiver
) -> None:
    service = TicketService(
        db, load_bundle(webhook_bundle(tmp_path, receiver.url)), clock=StepClock()
    )
    agent = make_user(db, "li.wei@example.com", "agent")
    key = service.create_ticket(agent, "incident", title="VPN down").ticket.key
    service.take_transition(agent, key, "start")
    channels = channels_for(
        environ={SECRET_ENV: SECRET.decode(), "GONGDAN_WEBHOOK_SECRET": "other"}
    )
    assert relay_once(db, lambda i: deliver(db, i, LATER, channels=channels), LATER) == 4

    created, started = sorted(receiver.wait_for(2, timeout=5), key=lambda r: r.path)
    for request in (created, started):
        expected = "sha256=" + hmac.new(SECRET, request.body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(request.headers["x-gongdan-signature"], expected)
        assert request.headers["content-type"] == "application/json"
        assert request.delivery.isdigit()
        document = json.loads(request.body)
        assert document["delivery"] == int(request.delivery)
        assert document["ticket"]["key"] == key
        assert document["ticket"]["requester"] == "li.wei@example.com"
    assert created.path == "/created" and started.path == "/started"
    assert created.headers["x-gongdan-event"] == "on_enter:new"
    assert started.headers["x-gongdan-event"] == "transition:start"
    assert json.loads(started.body)["ticket"]["state"] == "open"
    assert created.delivery != started.delivery
    # A receiver with the wrong secret, or a body changed on the way, is not fooled.
    assert not created.signed(b"other")
    assert not verify(SECRET, created.body + b" ", created.headers["x-gongdan-signature"])
    assert [d.status_code for d in list_deliveries(db, key) if d.kind == "webhook"] == [200, 200]


def test_the_secret_comes_from_secret_env_else_the_default_variable() -> None:
    environ = {"HOOK_A": "a-secret", "GONGDAN_WEBHOOK_SECRET": "default-secret"}
    assert webhook_secret("HOOK_A", environ) == (b"a-secret", "HOOK_A")
    assert webhook_secret(None, environ) == (b"default-secret", "GONGDAN_WEBHOOK_SECRET")
    assert webhook_secret("HOOK_B", environ) == (None, "HOOK_B")
    body = encode_body({"b": 1, "a": "工单"})
    assert body == '{"a":"工单","b":1}'.encode()
    assert sign(b"k", body) == "sha256=" + hmac.new(b"k", body, hashlib.sha256).hexdigest()


def test_a_slow_receiver_times_out(receiver: Receiver) -> None:
    receiver.answer = lambda _n: (200, 2.0)
    result = post_webhook(receiver.url + "/slow", b"{}", {}, timeout=0.3, allow_private=True)
    assert not result.ok
    assert result.status_code is None
    assert "timed out" in (result.error or "")


def test_redirects_and_errors_are_failed_attempts(receiver: Receiver) -> None:
    receiver.answer = lambda n: (302 if n == 0 else 404, 0.0)
    moved = post_webhook(receiver.url, b"{}", {}, allow_private=True)
    assert (moved.ok, moved.status_code) == (False, 302)
    missing = post_webhook(receiver.url, b"{}", {}, allow_private=True)
    assert (missing.ok, missing.status_code) == (False, 404)
    assert missing.error is not None and missing.error.startswith("HTTP 404")
    assert post_webhook("ftp://example.com/x", b"{}", {}).error == (
        "not an http(s) URL: 'ftp://example.com/x'"
    )
    refused = post_webhook(  # nobody listens
        f"http://127.0.0.1:{free_port()}/", b"{}", {}, allow_private=True
    )
    assert refused.status_code is None and "refused" in (refused.error or "").lower()


# The SSRF guard (issue 20, finding 7) ----------------------------------------------


def fake_dns(monkeypatch: pytest.MonkeyPatch, answers: list[str]) -> list[str]:
    """Make names resolve to `answers[0]`, then `answers[1]`, … (the last one after
    that); returns the names asked, in order."""
    asked: list[str] = []

    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        if parse_address(host) is not None:
            return real_getaddrinfo(host, port, *args, **kwargs)
        address = answers[min(len(asked), len(answers) - 1)]
        asked.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    real_getaddrinfo = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def test_delivery_refuses_loopback_unless_the_webhook_allows_private_hosts(
    receiver: Receiver,
) -> None:
    refused = post_webhook(receiver.url + "/hook", b"{}", {})
    assert refused.status_code is None
    assert refused.error is not None and "loopback address 127.0.0.1" in refused.error
    assert receiver.requests == []
    allowed = post_webhook(receiver.url + "/hook", b"{}", {}, allow_private=True)
    assert allowed.ok and len(receiver.requests) == 1


def test_a_host_name_is_judged_by_what_it_resolves_to(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_dns(monkeypatch, ["169.254.169.254"])
    result = post_webhook("http://hooks.example.com/latest/meta-data/", b"{}", {})
    assert result.error == "'hooks.example.com' resolves to a link-local address 169.254.169.254"
    assert receiver.requests == []


def test_the_connection_goes_to_the_address_that_was_checked(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A rebinding name answers the receiver first, then an address nobody listens on:
    # resolving once and connecting to that answer delivers, with the name as Host.
    asked = fake_dns(monkeypatch, ["127.0.0.1", "10.255.255.1"])
    port = receiver.url.rsplit(":", 1)[1]
    result = post_webhook(
        f"http://rebind.example.com:{port}/hook", b"{}", {}, allow_private=True, timeout=2
    )
    assert result.ok, result.error
    assert asked == ["rebind.example.com"]
    assert receiver.requests[0].headers["host"] == f"rebind.example.com:{port}"


def test_the_outbox_delivers_nothing_to_a_private_address(
    db: Database, tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A webhook to a name (so `gongdan check` cannot judge it) that resolves to loopback.
    fake_dns(monkeypatch, ["127.0.0.1"])
    port = receiver.url.rsplit(":", 1)[1]
    config = webhook_bundle(tmp_path, f"http://hooks.example.com:{port}")
    workflow = config / "workflows" / "basic.yaml"
    workflow.write_text(workflow.read_text("utf-8").replace(", allow_private: true", ""))
    service = TicketService(db, load_bundle(config), clock=StepClock())
    agent = make_user(db, "li.wei@example.com", "agent")
    key = service.create_ticket(agent, "incident", title="VPN down").ticket.key
    channels = channels_for(environ={SECRET_ENV: SECRET.decode()})
    relay_once(db, lambda i: deliver(db, i, LATER, channels=channels), LATER)
    (attempt,) = [d for d in list_deliveries(db, key) if d.kind == "webhook"]
    assert attempt.outcome != "delivered"
    assert "resolves to a loopback address" in (attempt.error or "")
    assert receiver.requests == []
