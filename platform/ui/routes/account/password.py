"""Setting or resetting a password by e-mail link: `/password/forgot` asks for the link,
`/password/reset?token=…` (the link in the mail) chooses the new password and signs
the person in.

The forgot page answers the same whether or not the address has an account (no
account enumeration); the mail goes through the outbox like every notification. The
reset pages never send a `Referer` (the token is in their URL) and are not cached.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from gongdan.engine import MIN_PASSWORD_LENGTH, AccountService
from gongdan.errors import ValidationFailed
from gongdan.ui.deps import ServiceDep, ThrottleDep, sign_in
from gongdan.ui.errors import too_many_requests
from gongdan.ui.render import render
from gongdan.ui.routes.account.auth import home_of

__all__ = ["router", "send_link"]

router = APIRouter()
PRIVATE = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


def send_link(accounts: AccountService, email: str, source: str) -> None:
    """Queue the set-password mail for `email` if it is an active account (silently
    nothing otherwise: the caller answers the same either way)."""
    accounts.request_password_reset(email, source=source)


@router.get("/password/forgot")
def forgot_page(request: Request, email: str = "") -> Response:
    return render(request, "password/forgot.html", {"email": email[:320], "errors": {}})


@router.post("/password/forgot")
def forgot(
    request: Request,
    service: ServiceDep,
    throttle: ThrottleDep,
    email: Annotated[str, Form(max_length=320)] = "",
) -> Response:
    refused = too_many_requests(request, throttle, "password_mail", email)
    if refused is not None:
        return refused
    address = " ".join(email.split())
    if not address:
        context = {"email": "", "errors": {"email": "password.email_required"}}
        return render(request, "password/forgot.html", context, status_code=422)
    send_link(service.accounts, address, "forgot")
    return render(request, "password/sent.html", {"email": address, "signup": False})


def _invalid(request: Request) -> Response:
    return render(request, "password/invalid.html", {}, status_code=400, headers=PRIVATE)


def _reset_form(
    request: Request, token: str, email: str, errors: dict[str, str], status_code: int = 200
) -> Response:
    context = {
        "token": token,
        "email": email,
        "errors": errors,
        "min_password": MIN_PASSWORD_LENGTH,
    }
    return render(request, "password/reset.html", context, status_code=status_code, headers=PRIVATE)


@router.get("/password/reset")
def reset_page(request: Request, service: ServiceDep, token: str = "") -> Response:
    link = service.accounts.check_reset_token(token)
    if link is None:
        return _invalid(request)
    return _reset_form(request, token, link.email, {})


@router.post("/password/reset")
def reset(
    request: Request,
    service: ServiceDep,
    token: Annotated[str, Form(max_length=256)] = "",
    password: Annotated[str, Form(max_length=2048)] = "",
    confirm: Annotated[str, Form(max_length=2048)] = "",
) -> Response:
    try:
        account = service.accounts.reset_password(token, password, confirm=confirm)
    except ValidationFailed as failed:
        if "token" in failed.fields:
            return _invalid(request)
        link = service.accounts.check_reset_token(token)
        if link is None:
            return _invalid(request)
        return _reset_form(request, token, link.email, dict(failed.fields), status_code=422)
    if account is None:  # deactivated at this very moment
        return _invalid(request)
    sign_in(request, service.accounts, account)  # every older session was ended
    return RedirectResponse(home_of(account), status_code=303)
