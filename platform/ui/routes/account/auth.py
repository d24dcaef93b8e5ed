"""Signing in and out, the language switch, and `/` sending people to their home.

Agents and admins land on `/desk`, requesters on `/portal`; `next` brings a visitor
back to the page that asked them to sign in (only paths on this site are followed).
Sign-in is throttled per address typed and per client address (`ui.ratelimit`): past
the limit the answer is 429 with `Retry-After`, the password unchecked, the same for
an account and for an address nobody has; the failure that reaches an account's limit
mails its owner. Signing out ends the session on the server (`deps.sign_out`).
"""

from __future__ import annotations

from functools import cache
from typing import Annotated
from zoneinfo import available_timezones

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from gongdan.engine import Account
from gongdan.ui.deps import OptionalUser, ServiceDep, ThrottleDep, sign_in, sign_out
from gongdan.ui.errors import refused_for
from gongdan.ui.i18n import LANGUAGES, SESSION_LANGUAGE
from gongdan.ui.ratelimit import client_address
from gongdan.ui.render import redirect, render

__all__ = ["home_of", "router"]

router = APIRouter()


def home_of(account: Account) -> str:
    """Where an account starts: the desk for staff, the portal for requesters."""
    return "/desk" if account.is_staff else "/portal"


def _safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site (never `//elsewhere` or a URL)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


@router.get("/")
def root(account: OptionalUser) -> Response:
    return RedirectResponse(home_of(account) if account else "/login", status_code=303)


@router.get("/login")
def login_page(request: Request, account: OptionalUser, next: str | None = None) -> Response:
    if account is not None:
        return RedirectResponse(_safe_next(next) or home_of(account), status_code=303)
    return render(request, "auth/login.html", {"next": _safe_next(next) or "", "email": ""})


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


@router.post("/login")
def login(
    request: Request,
    service: ServiceDep,
    throttle: ThrottleDep,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
    browser_zone: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    typed = " ".join(email.split()).lower()
    address = client_address(request.client.host if request.client else None)
    wait = throttle.blocked("signin", account=typed, ip=address)
    if wait is not None:
        return refused_for(request, wait)
    account = service.accounts.authenticate(email, password)
    if account is None:
        _, counted = throttle.count("signin", account=typed, ip=address)
        if counted.get("account") == throttle.limit("signin", "account"):
            minutes = (throttle.window("signin") + 59) // 60
            service.accounts.announce_lock(typed, minutes=minutes, address=address)
        context = {"next": _safe_next(next) or "", "email": email, "failed": True}
        return render(request, "auth/login.html", context, status_code=401)
    throttle.forget("signin", "account", typed)
    if browser_zone and not account.timezone and browser_zone in _zones():
        # A first sign-in takes the browser's zone (gongdan.js fills it in); until then,
        # and without a browser's answer, times read in the default calendar's zone.
        service.accounts.update_profile(
            account.actor, name=account.name, language=account.language, timezone=browser_zone
        )
    sign_in(request, service.accounts, account)
    return RedirectResponse(_safe_next(next) or home_of(account), status_code=303)


@router.post("/logout")
def logout(request: Request, service: ServiceDep) -> Response:
    sign_out(request, service.accounts)
    return RedirectResponse("/login?signed_out=1", status_code=303)


@router.post("/language")
def switch_language(
    request: Request,
    account: OptionalUser,
    service: ServiceDep,
    language: Annotated[str, Form(max_length=16)] = "en",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Remember the language: on the account when signed in, else in the session."""
    if language not in LANGUAGES:
        language = "en"
    request.session[SESSION_LANGUAGE] = language
    if account is not None:
        service.accounts.set_language(account.actor, language)
    target = _safe_next(next) or "/"
    return redirect(request, target)
