"""The one place where errors become HTTP answers (CONVENTIONS.md).

For pages: a bilingual error page with the right status (404, 403, 409, 422, 400); for
htmx requests, the same message as a fragment swapped into the page's `#flash` region
(`HX-Retarget`), so a failed button press says why without leaving the page. A visitor
who must sign in is redirected (htmx: `HX-Redirect`). Paths under `/api/` always get
JSON `{error, detail, fields}` (the API's own route class converts its errors first;
these handlers only catch what reaches the app). Forms that can show errors next to
their fields catch `ValidationFailed` themselves and re-render; the handler here is
the fallback for any other.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import Receive, Scope, Send

from gongdan.errors import (
    Conflict,
    GongdanError,
    NotFound,
    PermissionDenied,
    TransitionNotAllowed,
    ValidationFailed,
)
from gongdan.ui.ratelimit import SlidingWindow, client_address
from gongdan.ui.render import is_htmx, redirect, render

__all__ = [
    "LoginRequired",
    "StaffOnly",
    "install_error_handlers",
    "refuse_csrf",
    "too_many_requests",
]


class LoginRequired(Exception):
    """The page needs a signed-in user; `target` is where to come back to."""

    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.target = target


class StaffOnly(Exception):
    """A requester asked for an agents' page."""


# (status, error code, title key, text key) per error class, most specific first.
_KINDS: tuple[tuple[type[GongdanError], int, str, str, str], ...] = (
    (NotFound, 404, "not_found", "error.not_found", "error.not_found_text"),
    (PermissionDenied, 403, "permission_denied", "error.forbidden", "error.forbidden_text"),
    (TransitionNotAllowed, 409, "transition_not_allowed", "error.transition", ""),
    (Conflict, 409, "conflict", "error.conflict", "error.conflict_text"),
    (ValidationFailed, 422, "validation_failed", "error.invalid", ""),
)
_HTTP_CODES = {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _json(status: int, error: str, detail: str, fields: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error": error, "detail": detail, "fields": fields or {}}, status)


def error_page(
    request: Request,
    status: int,
    title_key: str,
    text_key: str = "",
    *,
    detail: str = "",
    fields: dict[str, str] | None = None,
) -> Response:
    """The bilingual error page, or its message as a `#flash` fragment for htmx."""
    context: dict[str, Any] = {
        "status": status,
        "title_key": title_key,
        "text_key": text_key,
        "detail": detail,
        "fields": fields or {},
    }
    if is_htmx(request):
        headers = {"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"}
        return render(
            request, "errors/error.html", context, block="message", status_code=status,
            headers=headers,
        )  # fmt: skip
    return render(request, "errors/error.html", context, status_code=status)


def too_many_requests(request: Request, window: SlidingWindow) -> Response | None:
    """None if the client may go on; else the 429 page saying when to try again."""
    key = client_address(request.client.host if request.client else None)
    if window.allow(key):
        return None
    wait = window.retry_after(key)
    response = error_page(
        request, 429, "error.too_many", "error.too_many_text", detail=f"{(wait + 59) // 60} min"
    )
    response.headers["Retry-After"] = str(wait)
    return response


def _gongdan_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, GongdanError):
        raise exc
    detail = str(getattr(exc, "detail", exc))
    fields = dict(getattr(exc, "fields", {}) or {})
    for kind, status, code, title_key, text_key in _KINDS:
        if isinstance(exc, kind):
            if _is_api(request):
                return _json(status, code, detail, fields)
            return error_page(request, status, title_key, text_key, detail=detail, fields=fields)
    if _is_api(request):
        return _json(400, "bad_request", detail)
    return error_page(request, 400, "error.bad_request", detail=detail)


def _login_required(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, LoginRequired):
        raise exc
    target = "/login?next=" + quote(exc.target, safe="/")
    return redirect(request, target)


def _staff_only(request: Request, exc: Exception) -> Response:
    if request.method == "GET" and request.headers.get("hx-request") != "true":
        return RedirectResponse("/portal", status_code=303)
    return error_page(request, 403, "error.staff_only", "error.forbidden_text")


def _http_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, StarletteHTTPException):
        raise exc
    if _is_api(request):
        code = _HTTP_CODES.get(exc.status_code, "error")
        response = _json(exc.status_code, code, str(exc.detail))
        response.headers.update(exc.headers or {})
        return response
    if exc.status_code == 404:
        return error_page(request, 404, "error.not_found", "error.not_found_text")
    title = "error.forbidden" if exc.status_code == 403 else "error.bad_request"
    return error_page(request, exc.status_code, title, detail=str(exc.detail))


def _request_invalid(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, RequestValidationError):
        raise exc
    fields = {
        ".".join(str(part) for part in error["loc"][1:]) or "request": error["msg"]
        for error in exc.errors()
    }
    detail = "; ".join(f"{name}: {message}" for name, message in fields.items())
    if _is_api(request):
        return _json(422, "validation_failed", detail, fields)
    return error_page(request, 400, "error.bad_request", detail=detail)


async def refuse_csrf(scope: Scope, receive: Receive, send: Send) -> None:
    """The answer to a state-changing request without a valid CSRF token: 403."""
    request = Request(scope, receive)
    response = error_page(request, 403, "error.csrf", "error.csrf_text")
    await response(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers above on `app`."""
    app.add_exception_handler(GongdanError, _gongdan_error)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(StaffOnly, _staff_only)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _request_invalid)
