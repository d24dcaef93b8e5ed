"""Session secret and CSRF protection for the HTML side of the app.

Sessions are Starlette's signed cookies (itsdangerous); the signing key comes from
`GONGDAN_SECRET_KEY`, else from a file under `GONGDAN_DATA_DIR` created once, so every
process of one installation signs alike. Each session holds a random CSRF token: HTML
forms carry it as the hidden field `csrf_token`, htmx sends it as the header
`X-CSRF-Token` (set on <body> in base.html). `CsrfMiddleware` refuses any POST, PUT,
PATCH or DELETE outside `/api/` without it (the API authenticates with bearer tokens,
which a browser never sends on its own, so it needs no CSRF token).
"""

from __future__ import annotations

import contextlib
import hmac
import os
import secrets
import tempfile
from pathlib import Path

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "CsrfMiddleware",
    "csrf_token",
    "rotate_csrf_token",
    "secret_key",
]

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_SESSION_KEY = "csrf"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def secret_key() -> str:
    """The session signing key: `$GONGDAN_SECRET_KEY`, else `$GONGDAN_DATA_DIR/secret_key`
    (made on first use; a race between processes keeps the first file written)."""
    configured = os.environ.get("GONGDAN_SECRET_KEY")
    if configured:
        return configured
    path = Path(os.environ.get("GONGDAN_DATA_DIR", "data")) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False) as handle:
            handle.write(secrets.token_urlsafe(48))
        os.chmod(handle.name, 0o600)
        # link() fails if another process got there first: theirs wins, for everyone.
        with contextlib.suppress(FileExistsError):
            os.link(handle.name, path)
        os.unlink(handle.name)
    return path.read_text(encoding="utf-8").strip()


def csrf_token(request: Request) -> str:
    """This session's CSRF token (created on first use)."""
    token = request.session.get(_SESSION_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[_SESSION_KEY] = token
    return token


def rotate_csrf_token(request: Request) -> str:
    """A fresh token, for a session that just signed in or out."""
    request.session[_SESSION_KEY] = secrets.token_urlsafe(32)
    return str(request.session[_SESSION_KEY])


class CsrfMiddleware:
    """Refuse state-changing requests outside `/api/` without this session's token.

    It runs inside the session middleware. A form post without the header has its body
    read here to find the field, then replayed to the app unchanged.
    """

    def __init__(self, app: ASGIApp, *, refuse: ASGIApp) -> None:
        self.app, self.refuse = app, refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] in _SAFE_METHODS
            or scope["path"].startswith("/api/")
        ):
            await self.app(scope, receive, send)
            return
        session = scope.get("session") or {}
        expected = session.get(_SESSION_KEY)
        headers = Headers(scope=scope)
        given = headers.get(CSRF_HEADER)
        if given is None and headers.get("content-type", "").startswith(_FORM_TYPES):
            body = await _read_body(receive)
            receive = _replay(body, then=receive)
            given = await _form_token(scope, body)
        if not (
            isinstance(expected, str)
            and isinstance(given, str)
            and hmac.compare_digest(expected.encode(), given.encode())
        ):
            await self.refuse(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, then: Receive | None = None) -> Receive:
    """The body once, then what `then` says (the client's real disconnect)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return await then() if then is not None else {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _form_token(scope: Scope, body: bytes) -> str | None:
    request = Request(scope, receive=_replay(body))
    try:
        form = await request.form()
    except Exception:  # a malformed body has no token; the refusal says what to do
        return None
    try:
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    finally:
        await form.close()
