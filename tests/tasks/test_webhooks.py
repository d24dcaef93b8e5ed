"""Webhooks arrive at a loopback receiver signed with HMAC-SHA256, with the delivery
id and event headers, and fail (to be retried) on timeouts, redirects and errors."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from pathlib import Path

from gongdan.bundle.loader import load_bundle
from gongdan.channels import channels_for
from gongdan.channels.webhooks import encode_body, post_webhook, sign, verify, webhook_secret
from gongdan.engine.outbox.relay import deliver, list_deliveries, relay_once
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
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
    result = post_webhook(receiver.url + "/slow", b"{}", {}, timeout=0.3)
    assert not result.ok
    assert result.status_code is None
    assert "timed out" in (result.error or "")


def test_redirects_and_errors_are_failed_attempts(receiver: Receiver) -> None:
    receiver.answer = lambda n: (302 if n == 0 else 404, 0.0)
    moved = post_webhook(receiver.url, b"{}", {})
    assert (moved.ok, moved.status_code) == (False, 302)
    missing = post_webhook(receiver.url, b"{}", {})
    assert (missing.ok, missing.status_code) == (False, 404)
    assert missing.error is not None and missing.error.startswith("HTTP 404")
    assert post_webhook("ftp://example.com/x", b"{}", {}).error == (
        "not an http(s) URL: 'ftp://example.com/x'"
    )
    refused = post_webhook(f"http://127.0.0.1:{free_port()}/", b"{}", {})  # nobody listens
    assert refused.status_code is None and "refused" in (refused.error or "").lower()
