"""`/account`: every signed-in user's own page — profile and language, password, API tokens.

Agents, admins and requesters alike: a user only ever sees and revokes their own
tokens (another user's token id is a 404, as if it did not exist). A new token is shown
once, in the answer to the post that created it (never in a URL, a redirect or the
session cookie, which is signed but readable), with `Cache-Control: no-store`. A new
password ends every other session of the user (`deps`: sessions carry a stamp of the
password), while the one that changed it goes on. The password and token sections are
htmx regions (`block="password"`, `block="tokens"`); without JavaScript each form posts
and the whole page comes back.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from gongdan.engine.accounts.tokens import (
    TokenInfo,
    create_token,
    find_user,
    list_tokens,
    revoke_token,
)
from gongdan.engine.accounts.users import (
    LANGUAGES,
    MIN_PASSWORD_LENGTH,
    Account,
    change_password,
    update_profile,
)
from gongdan.engine.service import utc_now
from gongdan.errors import NotFound, ValidationFailed
from gongdan.ui.deps import SESSION_STAMP, CurrentUser, DatabaseDep
from gongdan.ui.i18n import SESSION_LANGUAGE
from gongdan.ui.render import is_htmx, render

__all__ = ["router"]

router = APIRouter()
PAGE = "account/page.html"
# Ids the database can hold (BIGINT); anything else names no token.
_MAX_ID = 2**63 - 1
_NO_STORE = {"Cache-Control": "no-store"}


def _tokens(database: DatabaseDep, account: Account) -> list[TokenInfo]:
    with database.reading() as session:
        return list_tokens(session, find_user(session, account.email))


def _page(
    request: Request,
    account: Account,
    database: DatabaseDep,
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
        "tokens": _tokens(database, account) if tokens is None else tokens,
        "min_password": MIN_PASSWORD_LENGTH,
        "profile_errors": {},
        "profile_values": {"name": account.name, "language": account.language},
        "password_errors": {},
        "token_errors": {},
        "token_name": "",
        "new_token": None,
        "notice": "",
        "notice_params": {},
        **context,
    }
    return render(request, PAGE, full, block=block, status_code=status_code, headers=headers)


_SAVED = {"profile": "account.profile_saved", "password": "account.password_changed"}


@router.get("/account")
def account_page(
    request: Request,
    user: CurrentUser,
    database: DatabaseDep,
    saved: str = "",
    revoked: str = "",
) -> Response:
    """The page; after a post without htmx, `saved` or `revoked` says what was done."""
    tokens = _tokens(database, user)
    gone = next((t for t in tokens if str(t.id) == revoked and t.revoked_at), None)
    if gone is not None:
        notice, params = "account.token_revoked", {"prefix": gone.prefix}
    else:
        notice, params = _SAVED.get(saved, ""), {}
    return _page(request, user, database, tokens=tokens, notice=notice, notice_params=params)


@router.post("/account/profile")
def save_profile(
    request: Request,
    user: CurrentUser,
    database: DatabaseDep,
    name: Annotated[str, Form(max_length=1000)] = "",
    language: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    try:
        with database.transaction() as session:
            update_profile(session, user.id, name=name, language=language, now=utc_now())
    except ValidationFailed as failed:
        values = {"name": name, "language": language if language in LANGUAGES else user.language}
        return _page(
            request,
            user,
            database,
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
    database: DatabaseDep,
    current_password: Annotated[str, Form(max_length=2048)] = "",
    new_password: Annotated[str, Form(max_length=2048)] = "",
    repeat_password: Annotated[str, Form(max_length=2048)] = "",
) -> Response:
    try:
        with database.transaction() as session:
            stamp = change_password(
                session,
                user.id,
                current=current_password,
                new=new_password,
                repeat=repeat_password,
                now=utc_now(),
            )
    except ValidationFailed as failed:
        errors = failed.fields or {"current_password": failed.detail}
        return _page(
            request, user, database, block="password", status_code=422, password_errors=errors
        )
    request.session[SESSION_STAMP] = stamp  # this session goes on; all others end
    if is_htmx(request):
        return _page(request, user, database, block="password", notice="account.password_changed")
    return RedirectResponse("/account?saved=password", status_code=303)


@router.post("/account/tokens")
def new_token(
    request: Request,
    user: CurrentUser,
    database: DatabaseDep,
    name: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    if not name.strip():
        failed = ValidationFailed("the token needs a name", {"name": "is required"})
    else:
        try:
            with database.transaction() as session:
                owner = find_user(session, user.email)
                info, plaintext = create_token(session, owner, name, utc_now(), actor_id=owner.id)
        except ValidationFailed as error:
            failed = error
        else:
            created = {"info": info, "token": plaintext}
            return _page(
                request, user, database, block="tokens", headers=_NO_STORE, new_token=created
            )
    return _page(
        request,
        user,
        database,
        block="tokens",
        status_code=422,
        token_errors={"name": failed.fields.get("name") or failed.detail},
        token_name=name,
    )


@router.post("/account/tokens/{token_id}/revoke")
def revoke(request: Request, token_id: str, user: CurrentUser, database: DatabaseDep) -> Response:
    number = int(token_id) if token_id.isascii() and token_id.isdigit() else 0
    if not 0 < number <= _MAX_ID:
        raise NotFound(f"no token {token_id}")
    with database.transaction() as session:
        owner = find_user(session, user.email)
        info = revoke_token(session, number, utc_now(), owner=owner, actor_id=owner.id)
    if is_htmx(request):
        params = {"prefix": info.prefix}
        return _page(
            request,
            user,
            database,
            block="tokens",
            notice="account.token_revoked",
            notice_params=params,
        )
    return RedirectResponse(f"/account?revoked={info.id}#tokens", status_code=303)
