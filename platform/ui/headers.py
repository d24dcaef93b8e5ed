"""Security headers on every answer (ASGI middleware, outermost but one).

Every HTML answer carries a strict Content-Security-Policy: scripts only from our own
origin (`/static/…`: no inline `<script>`, no `on…=` attributes, and htmx is told not
to evaluate anything, `allowEval: false` in base.html), styles only from our own
stylesheets (no template has a `style=` attribute and htmx's indicator styles are off,
so `style-src` needs no `'unsafe-inline'`), no plugins, no `<base>`, forms posting only
here, and `frame-ancestors 'none'` with `X-Frame-Options: DENY` for older browsers.
The vendored Swagger UI page (`/docs`) sets inline styles on the elements it builds,
so its policy alone allows `'unsafe-inline'` styles (never scripts: its start-up is
`static/swagger-init.js`).

Every answer, HTML or not, carries `X-Content-Type-Options: nosniff` and a
`Referrer-Policy` (a route that set its own, e.g. `no-referrer` on password links,
keeps it). Over HTTPS, `Strict-Transport-Security` too. Whether a request came over
HTTPS is the ASGI scope's `scheme`: behind a reverse proxy, uvicorn rewrites it from
`X-Forwarded-Proto` only for the addresses in `GONGDAN_TRUSTED_PROXIES`
(`gongdan serve` passes them as `forwarded_allow_ips`), never for anyone else.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CSP", "DOCS_CSP", "SecurityHeaders"]

_COMMON = (
    "default-src 'self'; script-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
CSP = f"{_COMMON}; style-src 'self'"
DOCS_CSP = f"{_COMMON}; style-src 'self' 'unsafe-inline'"
_ALWAYS = ((b"x-content-type-options", b"nosniff"),)
_HTML = (
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
)


class SecurityHeaders:
    """Add the headers of the module docstring to each response of `app`."""

    def __init__(self, app: ASGIApp, *, hsts_seconds: int = 31_536_000) -> None:
        self.app = app
        self.hsts = f"max-age={hsts_seconds}; includeSubDomains".encode() if hsts_seconds else b""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"
        docs = scope["path"] == "/docs"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                extra = [h for h in _ALWAYS if h[0] not in present]
                if b"referrer-policy" not in present:
                    extra.append((b"referrer-policy", b"same-origin"))
                content_type = next((v for n, v in headers if n.lower() == b"content-type"), b"")
                if content_type.startswith(b"text/html"):
                    policy = DOCS_CSP if docs else CSP
                    extra.append((b"content-security-policy", policy.encode()))
                    extra.extend(h for h in _HTML if h[0] not in present)
                if https and self.hsts:
                    extra.append((b"strict-transport-security", self.hsts))
                message = {**message, "headers": [*headers, *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
