"""`/admin/people`: the accounts, as an admin manages them.

The list (search by email or name, filter by role); adding someone (with a password
typed now, or invited by mail: a set-password link through the outbox, the link
sign-up and password resets use); a person's page to change their name, role,
language and away, deactivate or reactivate them, mail them a password link, and list
and revoke their API tokens. `gongdan user list|set|deactivate|reactivate` does the
same from the shell. Every change is an event by the admin (`engine.accounts.people`).
After each post the browser is sent back to the page with a notice (`?done=`).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Form, Request
from starlette.responses import Response

from gongdan.engine import LANGUAGES, MIN_PASSWORD_LENGTH, PersonRecord
from gongdan.errors import Conflict, NotFound, ValidationFailed
from gongdan.ui.deps import ServiceDep
from gongdan.ui.render import redirect, render
from gongdan.ui.routes.admin.access import AdminUser, admin_router
from gongdan.vocabulary import ACCOUNT_ROLES

__all__ = ["router"]

router = admin_router()
_MAX_ID = 2**63 - 1
# What a post did, shown as a notice on the page it returns to (catalogue keys).
DONE = {
    "added": "admin.people_added",
    "invited": "admin.people_invited",
    "not_mailed": "admin.people_not_mailed",
    "saved": "admin.people_saved",
    "deactivated": "admin.people_deactivated",
    "reactivated": "admin.people_reactivated",
    "link_sent": "admin.people_link_sent",
    "token_revoked": "admin.people_token_revoked",
    "signed_out": "admin.people_signed_out",
}

Email = Annotated[str, Form(max_length=254)]
Name = Annotated[str, Form(max_length=1000)]
Choice = Annotated[str, Form(max_length=32)]


def _person_url(email: str, done: str = "") -> str:
    return f"/admin/people/{quote(email)}" + (f"?done={done}" if done else "")


@router.get("/admin/people")
def people(
    request: Request,
    user: AdminUser,
    service: ServiceDep,
    q: str = "",
    role: str = "",
    done: str = "",
) -> Response:
    return _list(request, service, q=q, role=role, done=done)


def _list(
    request: Request,
    service: ServiceDep,
    *,
    q: str = "",
    role: str = "",
    done: str = "",
    status_code: int = 200,
    **context: Any,
) -> Response:
    role = role if role in ACCOUNT_ROLES else ""
    found = service.accounts.list_people(query=q[:200], role=role)
    return render(
        request,
        "admin/people.html",
        {
            "people": found,
            "q": q,
            "role": role,
            "roles": ACCOUNT_ROLES,
            "notice": DONE.get(done, ""),
            "add_errors": {},
            "add_values": {"role": "agent", "language": "en", "invite": "1"},
            "min_password": MIN_PASSWORD_LENGTH,
            **context,
        },
        status_code=status_code,
    )


@router.post("/admin/people")
def add_person(
    request: Request,
    user: AdminUser,
    service: ServiceDep,
    email: Email = "",
    name: Name = "",
    role: Choice = "agent",
    language: Choice = "en",
    password: Annotated[str, Form(max_length=2048)] = "",
    invite: Choice = "",
) -> Response:
    values = {"email": email, "name": name, "role": role, "language": language, "invite": invite}
    errors: dict[str, str] = {}
    if language not in LANGUAGES:
        errors["language"] = f"must be one of: {', '.join(LANGUAGES)}"
    if not invite and len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = f"must be at least {MIN_PASSWORD_LENGTH} characters"
    if not errors:
        accounts = service.accounts
        try:
            if invite:
                person, mailed = accounts.invite_user(
                    user.actor, email, role=role, name=name.strip() or None, language=language
                )
                done = "invited" if mailed else "not_mailed"
            else:
                person = _added(service, user, email, name, role, language, password)
                done = "added"
        except ValidationFailed as failed:
            errors = dict(failed.fields) or {"email": failed.detail}
        except Conflict as conflict:
            errors = {"email": str(conflict)}
        else:
            return redirect(request, _person_url(person.email, done))
    return _list(request, service, status_code=422, add_errors=errors, add_values=values)


def _added(
    service: ServiceDep,
    user: AdminUser,
    email: str,
    name: str,
    role: str,
    language: str,
    password: str,
) -> PersonRecord:
    account = service.accounts.add_user(
        email,
        role=role,
        name=name.strip() or None,
        password=password,
        language=language,
        actor=user.actor,
    )
    return service.accounts.get_person(account.email)


def _person_page(
    request: Request,
    service: ServiceDep,
    email: str,
    *,
    done: str = "",
    status_code: int = 200,
    **context: Any,
) -> Response:
    person = service.accounts.get_person(email)
    return render(
        request,
        "admin/person.html",
        {
            "person": person,
            "tokens": service.accounts.list_tokens(person.email),
            "roles": ACCOUNT_ROLES,
            "notice": DONE.get(done, ""),
            "errors": {},
            "problem": "",
            **context,
        },
        status_code=status_code,
    )


@router.get("/admin/people/{email}")
def person(
    request: Request, email: str, user: AdminUser, service: ServiceDep, done: str = ""
) -> Response:
    return _person_page(request, service, email, done=done)


@router.post("/admin/people/{email}")
def save_person(
    request: Request,
    email: str,
    user: AdminUser,
    service: ServiceDep,
    name: Name = "",
    role: Choice = "",
    language: Choice = "",
    away: Choice = "",
) -> Response:
    try:
        service.accounts.set_user(
            user.actor,
            email,
            role=role or None,
            name=name,
            language=language or None,
            away=bool(away),
        )
    except ValidationFailed as failed:
        return _person_page(request, service, email, status_code=422, errors=failed.fields)
    except Conflict as conflict:
        return _person_page(request, service, email, status_code=409, problem=str(conflict))
    return redirect(request, _person_url(email, "saved"))


def _set_active(
    request: Request, email: str, user: AdminUser, service: ServiceDep, active: bool
) -> Response:
    try:
        service.accounts.set_active(user.actor, email, active)
    except Conflict as conflict:
        return _person_page(request, service, email, status_code=409, problem=str(conflict))
    return redirect(request, _person_url(email, "reactivated" if active else "deactivated"))


@router.post("/admin/people/{email}/deactivate")
def deactivate(request: Request, email: str, user: AdminUser, service: ServiceDep) -> Response:
    return _set_active(request, email, user, service, False)


@router.post("/admin/people/{email}/reactivate")
def reactivate(request: Request, email: str, user: AdminUser, service: ServiceDep) -> Response:
    return _set_active(request, email, user, service, True)


@router.post("/admin/people/{email}/signout")
def sign_out_everywhere(
    request: Request, email: str, user: AdminUser, service: ServiceDep
) -> Response:
    service.accounts.sign_out_everywhere(user.actor, email)
    return redirect(request, _person_url(email, "signed_out"))


@router.post("/admin/people/{email}/password-link")
def password_link(request: Request, email: str, user: AdminUser, service: ServiceDep) -> Response:
    mailed = service.accounts.send_password_link(user.actor, email)
    return redirect(request, _person_url(email, "link_sent" if mailed else "not_mailed"))


@router.post("/admin/people/{email}/tokens/{token_id}/revoke")
def revoke_token(
    request: Request, email: str, token_id: str, user: AdminUser, service: ServiceDep
) -> Response:
    number = int(token_id) if token_id.isascii() and token_id.isdigit() else 0
    if not 0 < number <= _MAX_ID:
        raise NotFound(f"no token {token_id}")
    service.accounts.revoke_token(user.actor, number, owner=email)
    return redirect(request, _person_url(email, "token_revoked"))
