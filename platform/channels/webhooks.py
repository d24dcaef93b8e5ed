"""Signed webhook requests: HMAC-SHA256 over the body, one HTTP POST with a timeout.

Receivers check `X-Gongdan-Signature: sha256=<hex>` (the HMAC of the raw body with the
shared secret, compared in constant time) and deduplicate on `X-Gongdan-Delivery`,
which stays the same on every retry of one delivery. Redirects are not followed: a
webhook answers 2xx or the attempt failed. The call goes only to public addresses,
resolved once (`gongdan.channels.outbound`), unless the webhook says
`allow_private: true`. Only the standard library is used, so the worker needs no HTTP
client dependency.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gongdan.channels.outbound import OutboundRefused, open_connection
from gongdan.engine import Attempt, WebhookCall

__all__ = [
    "DEFAULT_SECRET_ENV",
    "SIGNATURE_HEADER",
    "TIMEOUT_SECONDS",
    "SignedWebhooks",
    "WebhookResult",
    "encode_body",
    "post_webhook",
    "sign",
    "verify",
    "webhook_secret",
]

DEFAULT_SECRET_ENV = "GONGDAN_WEBHOOK_SECRET"  # noqa: S105 - the name of a variable, not a secret
SIGNATURE_HEADER = "X-Gongdan-Signature"
TIMEOUT_SECONDS = 10.0
USER_AGENT = "Gongdan-Webhook/0.1"
# Enough of an error response to say what went wrong, not enough to fill the log.
ERROR_BODY_BYTES = 500


@dataclass(frozen=True, slots=True)
class WebhookResult:
    """What one POST came to: the HTTP status (None if no response) and an error."""

    status_code: int | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status_code is not None and 200 <= self.status_code < 300


def encode_body(document: Mapping[str, Any]) -> bytes:
    """The exact bytes that are sent and signed: compact UTF-8 JSON."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def sign(secret: bytes, body: bytes) -> str:
    """The signature header value for `body`: `sha256=<hex HMAC-SHA256>`."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, signature: str) -> bool:
    """Whether `signature` is the signature of `body` (constant-time comparison)."""
    return hmac.compare_digest(sign(secret, body), signature)


def webhook_secret(
    secret_env: str | None, environ: Mapping[str, str] | None = None
) -> tuple[bytes | None, str]:
    """The secret from the variable an action names in `secret_env`, else from
    `GONGDAN_WEBHOOK_SECRET`; with the name of the variable read (for the error)."""
    env = os.environ if environ is None else environ
    name = secret_env or DEFAULT_SECRET_ENV
    value = env.get(name)
    return (value.encode() if value else None), name


def post_webhook(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    timeout: float = TIMEOUT_SECONDS,
    allow_private: bool = False,
) -> WebhookResult:
    """POST `body` (JSON) to `url` with `headers`; never raises for network trouble.
    The host must resolve to public addresses only (`gongdan.channels.outbound`)
    unless `allow_private`; a redirect is an answer like any other (not followed)."""
    try:
        connection, target = open_connection(url, timeout=timeout, allow_private=allow_private)
    except OutboundRefused as refused:
        return WebhookResult(None, str(refused))
    try:
        connection.request(
            "POST",
            target.path,
            body=body,
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
        )
        response = connection.getresponse()
        detail = response.read(ERROR_BODY_BYTES).decode("utf-8", "replace").strip()
    except (http.client.HTTPException, OSError, ValueError) as error:
        reason = "timed out" if isinstance(error, TimeoutError) else error
        return WebhookResult(None, f"{type(error).__name__}: {reason}")
    finally:
        connection.close()
    if 200 <= response.status < 300:
        return WebhookResult(response.status)
    message = f"HTTP {response.status} {response.reason}" + (f": {detail}" if detail else "")
    return WebhookResult(response.status, message)


@dataclass(frozen=True, slots=True)
class SignedWebhooks:
    """The webhook channel the outbox delivers through: the secret read from
    `environ` (None: `os.environ`, at each delivery), the body signed, one POST."""

    environ: Mapping[str, str] | None = None
    timeout: float = TIMEOUT_SECONDS

    def post(self, call: WebhookCall) -> Attempt:
        secret, secret_name = webhook_secret(call.secret_env, self.environ)
        if secret is None:
            return Attempt(
                "webhook", call.url, False, None, f"no webhook secret: set ${secret_name}"
            )
        body = encode_body(dict(call.document))
        headers = {
            SIGNATURE_HEADER: sign(secret, body),
            "X-Gongdan-Delivery": str(call.delivery_id),
            "X-Gongdan-Event": call.event,
        }
        result = post_webhook(
            call.url, body, headers, timeout=self.timeout, allow_private=call.allow_private
        )
        return Attempt("webhook", call.url, result.ok, result.status_code, result.error)
