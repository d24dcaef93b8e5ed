"""Rendering pages and htmx fragments, decided in one place.

`render(request, "area/page.html", {...}, block="region")` answers an htmx request
(header `HX-Request`, not a boosted navigation) with only the named block of the page
(jinja2-fragments), and any other request with the whole page; both carry
`Vary: HX-Request` so caches keep them apart. Every template sees `t` (UI strings in
the request's language), `lang`, `csrf_token`, `account` (the signed-in user or None)
and `bundle` (the request's, from `deps.request_bundle`, as routes get theirs), plus the
filters `l10n`, `markdown` and `when`.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

from jinja2_fragments.fastapi import Jinja2Blocks
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from gongdan.engine import DEFAULT_MAX_BYTES, REPLY_ACCEPT, REPLY_MAX_MB
from gongdan.ui.deps import request_bundle
from gongdan.ui.i18n import LANGUAGES, language_for, localise, translate, translate_message
from gongdan.ui.markdown import render_markdown
from gongdan.ui.security import CSRF_FIELD, csrf_token
from gongdan.ui.timezones import format_when, when

__all__ = [
    "TEMPLATES",
    "base_context",
    "format_when",
    "is_htmx",
    "redirect",
    "render",
    "render_fragment",
    "vary_on_htmx",
]

TEMPLATES = Jinja2Blocks(directory=Path(__file__).parent / "templates")
TEMPLATES.env.autoescape = True
TEMPLATES.env.trim_blocks = True
TEMPLATES.env.lstrip_blocks = True


TEMPLATES.env.filters["l10n"] = localise
TEMPLATES.env.filters["markdown"] = render_markdown
TEMPLATES.env.filters["when"] = when  # in the reader's zone (`ui.timezones`)
TEMPLATES.env.filters["msg"] = translate_message
# What a reply's file input takes, said next to it (partials/_files.html).
TEMPLATES.env.globals["reply_accept"] = ",".join(REPLY_ACCEPT)
TEMPLATES.env.globals["reply_types"] = ", ".join(REPLY_ACCEPT)
TEMPLATES.env.globals["reply_max_mb"] = REPLY_MAX_MB
TEMPLATES.env.globals["default_max_mb"] = DEFAULT_MAX_BYTES // (1024 * 1024)


def is_htmx(request: Request) -> bool:
    """Whether htmx sent this request to swap part of a page (not a boosted link)."""
    return (
        request.headers.get("hx-request") == "true" and request.headers.get("hx-boosted") != "true"
    )


def redirect(request: Request, target: str) -> Response:
    """Send the browser to `target` after a post: htmx follows `HX-Redirect` (a 303 would
    be swapped into the page), a plain form post a 303."""
    if request.headers.get("hx-request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def base_context(request: Request) -> dict[str, Any]:
    """What every template may use."""
    language = language_for(request)
    return {
        "request": request,
        "lang": language,
        "languages": LANGUAGES,
        "t": partial(translate, language),
        "csrf_field": CSRF_FIELD,
        "csrf_token": csrf_token(request) if "session" in request.scope else "",
        "account": getattr(request.state, "account", None),
        "bundle": request_bundle(request),
    }


def vary_on_htmx(response: Response) -> Response:
    """Add `HX-Request` to the response's Vary header."""
    vary = [v.strip() for v in response.headers.get("vary", "").split(",") if v.strip()]
    if "HX-Request" not in vary:
        response.headers["Vary"] = ", ".join([*vary, "HX-Request"])
    return response


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    block: str | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The page `template`, or only its `block` when htmx asks (see the module docstring)."""
    full = {**base_context(request), **(context or {})}
    options: dict[str, Any] = {}
    if block is not None and is_htmx(request):
        options["block_name"] = block
    response = TEMPLATES.TemplateResponse(
        request, template, full, status_code=status_code, headers=headers, **options
    )
    return vary_on_htmx(response)


def render_fragment(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A template that is only ever a fragment (an htmx-only endpoint's answer)."""
    full = {**base_context(request), **(context or {})}
    response = TEMPLATES.TemplateResponse(
        request, template, full, status_code=status_code, headers=headers
    )
    return vary_on_htmx(response)
