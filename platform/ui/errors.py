"""The one place where errors become HTTP answers (CONVENTIONS.md).

`ENGINE_ERRORS` is the one table of what each error of `gongdan.errors` is over HTTP:
its status, the API's error code, and the title (and text) of its page; the REST API's
route class (`api.errors`) answers from the same table. `HTTP_CODES` names the API's
code of Starlette's own HTTP errors.

For pages: a bilingual error page with the table's status (404, 403, 409, 422, 400); for
htmx requests, the same message as a fragment swapped into the page's `#flash` region
(`HX-Retarget`), so a failed button press says why without leaving the page. A visitor
who must sign in is redirected (htmx: `HX-Redirect`). Paths under `/api/` always get
JSON `{error, detail, fields}` (the API's own route class converts its errors first;
these handlers only catch what reaches the app). Forms that can show errors next to
their fields catch `ValidationFailed` themselves and re-render; the handler here is
the fallback for any other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import Receive, Scope, Send

from gongdan.engine import DATABASE_ERRORS, database_unavailable
from gongdan.errors import (
    ConfigError,
    Conflict,
    GongdanError,
    NotFound,
    PermissionDenied,
    TransitionNotAllowed,
    ValidationFailed,
)
from gongdan.ui.deps import LoginRequired, StaffOnly
from gongdan.ui.ratelimit import Throttle, client_address
from gongdan.ui.render import is_htmx, redirect, render

__all__ = [
    "ENGINE_ERRORS",
    "HTTP_CODES",
    "ErrorKind",
    "error_json",
    "error_kind",
    "install_error_handlers",
    "refuse_csrf",
    "refuse_too_large",
    "refused_for",
    "too_many_requests",
]


@dataclass(frozen=True, slots=True)
class ErrorKind:
    """What one kind of error is over HTTP: status, the API's `error` code, and the
    catalogue keys of its page's title and text."""

    status: int
    code: str
    title_key: str
    text_key: str = ""


# Most specific first (a subclass before its base).
ENGINE_ERRORS: tuple[tuple[type[GongdanError], ErrorKind], ...] = (
    (NotFound, ErrorKind(404, "not_found", "error.not_found", "error.not_found_text")),
    (PermissionDenied, ErrorKind(403, "forbidden", "error.forbidden", "error.forbidden_text")),
    (TransitionNotAllowed, ErrorKind(409, "transition_not_allowed", "error.transition")),
    (Conflict, ErrorKind(409, "conflict", "error.conflict", "error.conflict_text")),
    (ValidationFailed, ErrorKind(422, "validation_failed", "error.invalid")),
    (ConfigError, ErrorKind(409, "conflict", "error.title")),
)
_OTHER = ErrorKind(400, "bad_request", "error.bad_request")
HTTP_CODES = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
}


def error_kind(exc: GongdanError) -> ErrorKind:
    """The row of `ENGINE_ERRORS` for `exc` (a 400 for any other GongdanError)."""
    for kind, row in ENGINE_ERRORS:
        if isinstance(exc, kind):
            return row
    return _OTHER


def error_json(
    status: int,
    error: str,
    detail: str,
    fields: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """The API's error body `{error, detail, fields}` (and any `extra` members)."""
    body = {"error": error, "detail": detail, "fields": dict(fields or {}), **extra}
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/healthz"


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


def too_many_requests(
    request: Request, throttle: Throttle, action: str, account: str = ""
) -> Response | None:
    """Count one `action` (`password_mail`, `signup`) for the client's address and the
    address typed (`ui.ratelimit`); None if the client may go on, else the 429 page."""
    subjects = {"ip": client_address(request.client.host if request.client else None)}
    if account.strip():
        subjects["account"] = " ".join(account.split())[:320]
    wait, _ = throttle.count(action, **subjects)
    return None if wait is None else refused_for(request, wait)


def refused_for(request: Request, wait: int) -> Response:
    """The 429 page (or `#flash` fragment) saying to try again in `wait` seconds."""
    response = error_page(
        request, 429, "error.too_many", "error.too_many_text", detail=f"{(wait + 59) // 60} min"
    )
    response.headers["Retry-After"] = str(wait)
    return response


def _gongdan_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, GongdanError):
        raise exc
    kind = error_kind(exc)
    # The fields a form got wrong; a refused transition's reason is its detail already.
    fields = exc.fields if isinstance(exc, ValidationFailed) else {}
    if _is_api(request):
        return error_json(kind.status, kind.code, str(exc), fields)
    return error_page(
        request, kind.status, kind.title_key, kind.text_key, detail=str(exc), fields=fields
    )


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
        code = HTTP_CODES.get(exc.status_code, "error")
        return error_json(exc.status_code, code, str(exc.detail), headers=exc.headers)
    if exc.status_code == 404:
        return error_page(request, 404, "error.not_found", "error.not_found_text")
    if exc.status_code == 413:
        response = error_page(request, 413, "error.too_large", "error.too_large_text")
        response.headers.update(exc.headers or {})
        return response
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
        return error_json(422, "validation_failed", detail, fields)
    return error_page(request, 400, "error.bad_request", detail=detail)


async def refuse_csrf(scope: Scope, receive: Receive, send: Send) -> None:
    """The answer to a state-changing request without a valid CSRF token: 403."""
    request = Request(scope, receive)
    response = error_page(request, 403, "error.csrf", "error.csrf_text")
    await response(scope, receive, send)


async def refuse_too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    """The answer to a body over its limit (`ui.bodylimit`): 413, JSON under `/api/`,
    a short page elsewhere; the rest of the body is never read, so the connection
    closes."""
    request = Request(scope, receive)
    detail = f"the request body is larger than {limit} bytes"
    if _is_api(request):
        response: Response = error_json(413, "payload_too_large", detail)
    else:
        response = error_page(request, 413, "error.too_large", "error.too_large_text")
    response.headers["Connection"] = "close"
    await response(scope, receive, send)


# How long a client should wait before it tries again when the database is away.
UNAVAILABLE_RETRY_SECONDS = 5


def _database_error(request: Request, exc: Exception) -> Response:
    """The database is down or cut off: 503 with `Retry-After`, JSON
    `{error: "unavailable", …}` on the API (and `/healthz`), a bilingual page
    elsewhere; the connection stays usable. Any other database error is a bug: 500."""
    if not database_unavailable(exc):
        raise exc
    headers = {"Retry-After": str(UNAVAILABLE_RETRY_SECONDS)}
    detail = "the database is unavailable; nothing was changed, try again shortly"
    if _is_api(request):
        return error_json(
            503, "unavailable", detail, headers=headers, retry_after=UNAVAILABLE_RETRY_SECONDS
        )
    response = error_page(request, 503, "error.unavailable", "error.unavailable_text")
    response.headers.update(headers)
    return response


def _unexpected(request: Request, exc: Exception) -> Response:
    """A bug (the traceback is logged by the server): 500, JSON on the API, the error
    page elsewhere, with `Connection: close` (the server closes the connection after
    an unhandled error, and says so)."""
    headers = {"Connection": "close"}
    if _is_api(request):
        return error_json(
            500, "internal_error", "the server failed; it was logged", headers=headers
        )
    response = error_page(request, 500, "error.title")
    response.headers.update(headers)
    return response


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers above on `app`."""
    for kind in DATABASE_ERRORS:
        app.add_exception_handler(kind, _database_error)
    app.add_exception_handler(Exception, _unexpected)
    app.add_exception_handler(GongdanError, _gongdan_error)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(StaffOnly, _staff_only)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _request_invalid)
