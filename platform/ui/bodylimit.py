"""A size limit on every request body, applied before the body is read (ASGI middleware).

Each route belongs to a family with its own limit (`WebSettings`): HTML form posts,
uploads (HTML upload endpoints and the API's multipart / octet-stream bodies), mail
handed over HTTP (`/mail/…`, `/api/v1/mail…`), and every other API body (JSON). A
request whose `Content-Length` is over its family's limit is answered 413 at once,
without a byte of the body read; a body sent in chunks (or with a lying length) is
counted as it streams and refused at the first chunk past the limit. The answer is
JSON `{error: "payload_too_large", …}` under `/api/`, a short page elsewhere, and
says `Connection: close`: the rest of the body is never read, so the connection
cannot carry another request.

It runs outside the session and CSRF middlewares (the CSRF check reads form bodies to
find the token), so nothing reads a body before this check has seen its size.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gongdan.ui.websettings import WebSettings

__all__ = ["BodyLimit", "BodyTooLarge", "family_of"]

_UPLOAD_TYPES = ("multipart/", "application/octet-stream")
_REPLIES = ("/comments", "/reply")  # the desk's and the portal's reply forms


class BodyTooLarge(HTTPException):
    """A body went past its limit while it was being read. An HTTP error, so that
    FastAPI lets it through (any other error while it parses a body becomes a 400) and
    the app's handler answers it; raised outside the app (the CSRF check reads form
    bodies), `BodyLimit` answers it."""

    def __init__(self, limit: int) -> None:
        detail = f"the request body is larger than {limit} bytes"
        super().__init__(413, detail, headers={"Connection": "close"})
        self.limit = limit


def family_of(path: str, content_type: str) -> str:
    """`forms`, `uploads`, `api` or `mail`: which limit a request's body is under."""
    if path.startswith("/api/"):
        if path.startswith("/api/v1/mail"):
            return "mail"
        return "uploads" if content_type.startswith(_UPLOAD_TYPES) else "api"
    if path.startswith("/mail/"):
        return "mail"
    if "/upload/" in path or path.endswith("/files"):
        return "uploads"
    if path.endswith(_REPLIES) and content_type.startswith("multipart/"):
        return "uploads"  # a reply with its files (desk, portal)
    return "forms"


Refuse = Callable[[Scope, Receive, Send, int], Awaitable[None]]


class BodyLimit:
    """Refuse bodies over their family's limit (see the module docstring); `refuse`
    sends the 413 answer for a limit."""

    def __init__(self, app: ASGIApp, *, settings: WebSettings, refuse: Refuse) -> None:
        self.app, self.refuse = app, refuse
        self.limits = {
            "forms": settings.max_form_bytes,
            "uploads": settings.max_upload_bytes,
            "api": settings.max_api_bytes,
            "mail": settings.max_mail_bytes,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        limit = self.limits[family_of(scope["path"], headers.get("content-type", ""))]
        length = headers.get("content-length", "")
        if length and (not length.isdigit() or int(length) > limit):
            await self.refuse(scope, receive, send, limit)
            return
        started = False
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if started:
                raise
            await self.refuse(scope, receive, send, limit)
