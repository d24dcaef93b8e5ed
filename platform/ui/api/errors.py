"""JSON errors of the REST API: `{error, detail, fields}` with a 4xx status, never a 500
for bad input.

Every API route is an `ApiRoute`: it catches the errors of `gongdan.errors`, FastAPI's
request validation errors and the API's own `ApiProblem`s inside the route itself, so
the HTML error pages of the rest of the app never see them. The status and code of an
engine error come from the app's one table (`ui.errors.ENGINE_ERRORS`), as the HTML
pages' do. The mapping:

| raised | status | `error` |
| --- | --- | --- |
| malformed JSON or multipart body | 400 | `bad_request` |
| no, unknown or revoked bearer token | 401 | `unauthorized` (+ `WWW-Authenticate: Bearer`) |
| `PermissionDenied` | 403 | `forbidden` |
| `NotFound` (or a ticket the caller may not see) | 404 | `not_found` |
| `TransitionNotAllowed` | 409 | `transition_not_allowed` |
| `Conflict` (a concurrent change, a clash with existing data), `ConfigError` | 409 | `conflict` |
| `If-Match` names an old version | 412 | `precondition_failed` (+ `current_version`) |
| upload over the field's size limit, JSON body over 1 MiB | 413 | `payload_too_large` |
| `ValidationFailed`, a body or query of the wrong shape | 422 | `validation_failed` |
| `PATCH` without `If-Match` | 428 | `precondition_required` |
| too many unknown tokens from one address (`ui.ratelimit`) | 429 | `too_many_requests` (+ `Retry-After`) |
| the database unavailable (`ui.errors`) | 503 | `unavailable` (+ `Retry-After`) |
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import Message, Receive, Scope, Send

from gongdan.errors import GongdanError, PermissionDenied, TransitionNotAllowed, ValidationFailed
from gongdan.ui.errors import HTTP_CODES, error_json, error_kind

__all__ = [
    "DYNAMIC_QUERY",
    "ApiProblem",
    "ApiRoute",
    "ErrorBody",
    "PreconditionFailedBody",
    "error_responses",
]

# `openapi_extra={DYNAMIC_QUERY: "fields."}`: the route also takes `fields.*` parameters.
DYNAMIC_QUERY = "x-dynamic-query-prefix"
DESCRIPTIONS = {
    400: "The body is not well-formed JSON (or multipart form data).",
    401: "No bearer token, or an unknown or revoked one.",
    403: "The caller's role may not do this.",
    404: "No such thing, or the caller may not see it.",
    409: "A transition that may not be taken now, or a concurrent change.",
    412: "`If-Match` names an old version: reload the ticket and try again.",
    413: "The upload is larger than its field allows, or a JSON body over 1 MiB.",
    422: "The request is well-formed but invalid; `fields` says what and where.",
    428: "`If-Match` with the ticket's version is required.",
    429: "Too many unknown tokens from this address: wait `Retry-After` seconds.",
    503: "The database is unavailable for a moment: retry after `Retry-After` seconds.",
}


class ErrorBody(BaseModel):
    """Every API error: a stable code, a sentence for people, and per-field messages."""

    error: str = Field(examples=["validation_failed"])
    detail: str = Field(examples=["the title is required"])
    fields: dict[str, str] = Field(default_factory=dict, examples=[{"title": "is required"}])


class PreconditionFailedBody(ErrorBody):
    """A 412: the ticket's version now (also in the `ETag` header)."""

    current_version: int


class ApiProblem(Exception):
    """An HTTP-level problem the API raises itself (401, 412, 413, 428)."""

    def __init__(
        self,
        status: int,
        error: str,
        detail: str,
        *,
        fields: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail = status, error, detail
        self.fields = dict(fields or {})
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI `responses` entries of these error statuses, and always 422 (any
    parameter can be of the wrong shape), 429 (the throttle on unknown tokens) and 503
    (the database away): ours, not FastAPI's default body."""
    return {
        status: {
            "model": PreconditionFailedBody if status == 412 else ErrorBody,
            "description": DESCRIPTIONS[status],
        }
        for status in sorted({*statuses, 422, 429, 503})
    }


def _field_name(location: tuple[Any, ...]) -> str:
    """`('body', 'fields', 'category')` → `fields.category`; `('query', 'limit')` → `limit`."""
    parts = [str(p) for p in location[1:]] if len(location) > 1 else [str(p) for p in location]
    return ".".join(parts) or "body"


def validation_response(exc: RequestValidationError) -> JSONResponse:
    """FastAPI's validation errors in our shape: 400 for a body that is not JSON at all,
    422 for a body or query of the wrong shape."""
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        first = next(e for e in errors if e.get("type") == "json_invalid")
        reason = (first.get("ctx") or {}).get("error", "invalid JSON")
        return error_json(400, "bad_request", f"the body is not valid JSON: {reason}")
    fields: dict[str, str] = {}
    for error in errors:
        fields.setdefault(_field_name(tuple(error.get("loc", ()))), str(error.get("msg", "")))
    first_name, first_message = next(iter(fields.items()), ("body", "is invalid"))
    more = f" (and {len(fields) - 1} more)" if len(fields) > 1 else ""
    return error_json(422, "validation_failed", f"{first_name}: {first_message}{more}", fields)


def gongdan_response(exc: Exception) -> JSONResponse | None:
    """The response for one of Gongdan's errors, or None for anything else. A refused
    transition names it in `fields` (`{"transition": why}`), as does a refusal that names
    what was refused (a staff-only field a requester sent)."""
    if not isinstance(exc, GongdanError):
        return None
    kind = error_kind(exc)
    fields: Mapping[str, str] = {}
    if isinstance(exc, ValidationFailed):
        fields = exc.fields
    elif isinstance(exc, TransitionNotAllowed | PermissionDenied):
        fields = exc.extra
    return error_json(kind.status, kind.code, str(exc), fields)


def problem_response(exc: ApiProblem) -> JSONResponse:
    return error_json(exc.status, exc.error, exc.detail, exc.fields, exc.headers, **exc.extra)


def http_response(exc: HTTPException) -> JSONResponse:
    """Starlette's own HTTP errors (a malformed multipart body is a 400)."""
    code = HTTP_CODES.get(exc.status_code, "error")
    return error_json(exc.status_code, code, str(exc.detail), headers=exc.headers)


def _query_names(dependant: Dependant) -> set[str]:
    """The query parameters a route declares, its dependencies' included."""
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def _refused_parameter(
    request: Request, declared: set[str], prefix: str | None
) -> tuple[str, str] | None:
    """A path or query parameter no route should see: one holding a NUL (no database
    stores one), an unknown query parameter (a typo would silently match everything),
    or a declared one given twice (FastAPI would silently keep the last)."""
    items = [*request.path_params.items(), *request.query_params.multi_items()]
    for name, value in items:
        if "\x00" in str(name) or "\x00" in str(value):
            return str(name).replace("\x00", ""), "contains a NUL character"
    for name in request.query_params:
        if name not in declared and not (prefix and name.startswith(prefix)):
            return name or "(empty name)", "is not a parameter of this operation"
    for name in declared:
        if len(request.query_params.getlist(name)) > 1:
            return name, "give it once (separate several values with commas)"
    return None


# JSON bodies are small (a description is at most 100,000 characters): a bigger one is
# refused with 413 before it is read whole or parsed, by its Content-Length or, sent in
# chunks, as its bytes arrive. Uploads (multipart, octet-stream) stream under their
# fields' own limits (`attachments`).
MAX_JSON_BODY = 1024 * 1024
_UPLOADS = ("multipart/", "application/octet-stream")


def _too_large() -> ApiProblem:
    return ApiProblem(
        413, "payload_too_large", f"the request body is larger than {MAX_JSON_BODY} bytes"
    )


def _counted(receive: Receive) -> Receive:
    seen = 0

    async def receive_counted() -> Message:
        nonlocal seen
        message = await receive()
        seen += len(message.get("body", b""))
        if seen > MAX_JSON_BODY:
            raise _too_large()
        return message

    return receive_counted


class ApiRoute(APIRoute):
    """A route whose errors are JSON `{error, detail, fields}` (see the module doc)."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] in ("POST", "PUT", "PATCH"):
            headers = Headers(scope=scope)
            if not headers.get("content-type", "").startswith(_UPLOADS):
                length = headers.get("content-length", "")
                if length.isdigit() and int(length) > MAX_JSON_BODY:
                    await problem_response(_too_large())(scope, receive, send)
                    return
                receive = _counted(receive)
        await self._handle(scope, receive, send)

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A 405 whose `Allow` names every method of the path, not only this route's
        (Starlette answers from the first route whose path matches)."""
        if self.methods and scope["method"] not in self.methods:
            root = scope.get("root_path", "")
            path = scope["path"].removeprefix(root) if root else scope["path"]
            allowed = sorted(
                {
                    method
                    for route in scope["app"].router.routes
                    if isinstance(route, APIRoute) and route.path_regex.match(path)
                    for method in route.methods or ()
                }
            )
            response = error_json(
                405,
                "method_not_allowed",
                f"{scope['method']} is not allowed here; use {', '.join(allowed)}",
                headers={"Allow": ", ".join(allowed)},
            )
            await response(scope, receive, send)
            return
        await super().handle(scope, receive, send)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        declared = _query_names(self.dependant)
        # A route that takes parameters by name pattern says so in its OpenAPI extra.
        prefix = (self.openapi_extra or {}).get(DYNAMIC_QUERY)

        async def guarded(request: Request) -> Response:
            refused = _refused_parameter(request, declared, prefix)
            if refused is not None:
                name, message = refused
                return error_json(422, "validation_failed", f"{name}: {message}", {name: message})
            try:
                return await handler(request)
            except RequestValidationError as exc:
                return validation_response(exc)
            except ApiProblem as exc:
                return problem_response(exc)
            except HTTPException as exc:
                if isinstance(exc.__cause__, ApiProblem):  # raised while FastAPI read the body
                    return problem_response(exc.__cause__)
                return http_response(exc)
            except Exception as exc:
                response = gongdan_response(exc)
                if response is None:
                    raise
                return response

        return guarded
