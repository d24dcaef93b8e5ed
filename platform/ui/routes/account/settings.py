"""`/account`: every signed-in user's own page — profile and language, password, API tokens.

Agents, admins and requesters alike: a user only ever sees and revokes their own
tokens (another user's token id is a 404, as if it did not exist). A new token is shown
once, in the answer to the post that created it (never in a URL, a redirect or the
session cookie, which is signed but readable), with `Cache-Control: no-store`. A new
password ends every other session of the user on the server (`deps`), while the one
that changed it goes on. The password and token sections are
htmx regions (`block="password"`, `block="tokens"`); without JavaScript each form posts
and the whole page comes back.
"""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import available_timezones

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from gongdan.engine import (
    LANGUAGES,
    MIN_PASSWORD_LENGTH,
    NEWS_KINDS,
    Account,
    AccountService,
    TokenInfo,
)
from gongdan.errors import NotFound, ValidationFailed
from gongdan.ui.deps import CurrentUser, ServiceDep, session_key
from gongdan.ui.i18n import SESSION_LANGUAGE
from gongdan.ui.render import is_htmx, render

__all__ = ["router"]

router = APIRouter()
# The time zones a user may choose (IANA names this system knows), sorted.
TIMEZONES = tuple(sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/")))
PAGE = "account/page.html"
# Ids the database can hold (BIGINT); anything else names no token.
_MAX_ID = 2**63 - 1
_NO_STORE = {"Cache-Control": "no-store"}


def _page(
    request: Request,
    account: Account,
    accounts: AccountService,
    *,
    block: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    tokens: list[TokenInfo] | None = None,
    **context: Any,
) -> Response:
    """The account page (or one of its regions for htmx) with `context` on top of the
    defaults: no errors, no notice, no new token."""
    full: dict[str, Any] = {
        "tokens": accounts.list_tokens(account.email) if tokens is None else tokens,
        "min_password": MIN_PASSWORD_LENGTH,
        "profile_errors": {},
        "profile_values": {
            "name": account.name,
            "language": account.language,
            "timezone": account.timezone,
        },
        "timezones": TIMEZONES,
        "password_errors": {},
        "token_errors": {},
        "token_name": "",
        "new_token": None,
        "notice": "",
        "notice_params": {},
        # Issue 21: what the user hears of by mail (`routes/account/notifications.py`).
        "prefs": accounts.notification_preferences(account.actor),
        "news_kinds": NEWS_KINDS,
        **context,
    }
    return render(request, PAGE, full, block=block, status_code=status_code, headers=headers)


_SAVED = {
    "profile": "account.profile_saved",
    "password": "account.password_changed",
    "notifications": "notify.saved",
}


@router.get("/account")
def account_page(
    request: Request,
    user: CurrentUser,
    service: ServiceDep,
    saved: str = "",
    revoked: str = "",
) -> Response:
    """The page; after a post without htmx, `saved` or `revoked` says what was done."""
    accounts = service.accounts
    tokens = accounts.list_tokens(user.email)
    gone = next((t for t in tokens if str(t.id) == revoked and t.revoked_at), None)
    if gone is not None:
        notice, params = "account.token_revoked", {"prefix": gone.prefix}
    else:
        notice, params = _SAVED.get(saved, ""), {}
    return _page(request, user, accounts, tokens=tokens, notice=notice, notice_params=params)


@router.post("/account/profile")
def save_profile(
    request: Request,
    user: CurrentUser,
    service: ServiceDep,
    name: Annotated[str, Form(max_length=1000)] = "",
    language: Annotated[str, Form(max_length=16)] = "",
    timezone: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    try:
        service.accounts.update_profile(
            user.actor, name=name, language=language, timezone=timezone.strip()
        )
    except ValidationFailed as failed:
        values = {
            "name": name,
            "language": language if language in LANGUAGES else user.language,
            "timezone": timezone if timezone in TIMEZONES else user.timezone,
        }
        return _page(
            request,
            user,
            service.accounts,
            status_code=422,
            profile_errors=failed.fields or {"name": failed.detail},
            profile_values=values,
        )
    # The language shows at once, and stays after signing out (as the switch does).
    request.session[SESSION_LANGUAGE] = language
    return RedirectResponse("/account?saved=profile", status_code=303)


@router.post("/account/password")
def save_password(
    request: Request,
    user: CurrentUser,
    service: ServiceDep,
    current_password: Annotated[str, Form(max_length=2048)] = "",
    new_password: Annotated[str, Form(max_length=2048)] = "",
    repeat_password: Annotated[str, Form(max_length=2048)] = "",
) -> Response:
    accounts = service.accounts
    try:
        accounts.change_password(
            user.actor,
            current=current_password,
            new=new_password,
            repeat=repeat_password,
            keep_session=session_key(request),  # this session goes on; all others end
        )
    except ValidationFailed as failed:
        errors = failed.fields or {"current_password": failed.detail}
        return _page(
            request, user, accounts, block="password", status_code=422, password_errors=errors
        )
    if is_htmx(request):
        return _page(request, user, accounts, block="password", notice="account.password_changed")
    return RedirectResponse("/account?saved=password", status_code=303)


@router.post("/account/tokens")
def new_token(
    request: Request,
    user: CurrentUser,
    service: ServiceDep,
    name: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    accounts = service.accounts
    if not name.strip():
        failed = ValidationFailed("the token needs a name", {"name": "is required"})
    else:
        try:
            info, plaintext = accounts.create_token(user.actor, user.email, name)
        except ValidationFailed as error:
            failed = error
        else:
            created = {"info": info, "token": plaintext}
            return _page(
                request, user, accounts, block="tokens", headers=_NO_STORE, new_token=created
            )
    return _page(
        request,
        user,
        accounts,
        block="tokens",
        status_code=422,
        token_errors={"name": failed.fields.get("name") or failed.detail},
        token_name=name,
    )


@router.post("/account/tokens/{token_id}/revoke")
def revoke(request: Request, token_id: str, user: CurrentUser, service: ServiceDep) -> Response:
    number = int(token_id) if token_id.isascii() and token_id.isdigit() else 0
    if not 0 < number <= _MAX_ID:
        raise NotFound(f"no token {token_id}")
    info = service.accounts.revoke_token(user.actor, number, owner=user.email)
    if is_htmx(request):
        params = {"prefix": info.prefix}
        return _page(
            request,
            user,
            service.accounts,
            block="tokens",
            notice="account.token_revoked",
            notice_params=params,
        )
    return RedirectResponse(f"/account?revoked={info.id}#tokens", status_code=303)
