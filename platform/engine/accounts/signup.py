"""The requester portal's engine side: which ticket types a requester may create, and
self sign-up under the bundle's `Portal` settings.

Nothing here knows about HTTP: the portal's routes call `AccountService.sign_up`, which
runs `sign_up` in a `UnitOfWork`, and turn the errors into form messages.
"""

from __future__ import annotations

import unicodedata

from sqlalchemy import select

from gongdan.bundle.compiled import Bundle, TicketTypeDef
from gongdan.engine.accounts.users import (
    MAX_NAME_LENGTH,
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
)
from gongdan.engine.accounts.verification import request_sign_up
from gongdan.engine.store.models import User
from gongdan.engine.unit_of_work import UnitOfWork
from gongdan.errors import PermissionDenied, ValidationFailed

__all__ = [
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "check_signup",
    "portal_types",
    "sign_up",
]


def portal_types(bundle: Bundle) -> list[TicketTypeDef]:
    """The ticket types a requester may create, in id order. A type is offered unless
    it says `portal: false` (agents log such tickets for the customer)."""
    return [
        bundle.ticket_types[t] for t in sorted(bundle.ticket_types) if bundle.ticket_types[t].portal
    ]


def _clean_name(name: str) -> str:
    text = " ".join(str(name or "").split())
    if not text:
        raise ValidationFailed("your name is required", {"name": "is required"})
    if len(text) > MAX_NAME_LENGTH:
        raise ValidationFailed(
            "the name is too long", {"name": f"must be at most {MAX_NAME_LENGTH} characters"}
        )
    if any(unicodedata.category(c) == "Cc" for c in text):
        raise ValidationFailed(
            "the name has control characters", {"name": "has control characters"}
        )
    return text


def check_signup(bundle: Bundle, email: str, name: str, password: str) -> dict[str, str]:
    """Every problem of a sign-up form, by field (empty: it may go ahead); does not
    look at the database (an address already taken is found by `sign_up`)."""
    problems: dict[str, str] = {}
    address = str(email or "").strip().lower()
    local, _, domain = address.rpartition("@")
    if (
        address.count("@") != 1
        or not local
        or "." not in domain.strip(".")
        or len(address) > 254
        or any(c.isspace() or unicodedata.category(c) == "Cc" for c in address)
    ):
        problems["email"] = "must be an email address"
    elif bundle.portal.allowed_email_domains and domain not in bundle.portal.allowed_email_domains:
        allowed = ", ".join(sorted(bundle.portal.allowed_email_domains))
        problems["email"] = f"sign-up is open to addresses at {allowed} only"
    try:
        _clean_name(name)
    except ValidationFailed as error:
        problems.update(error.fields)
    if len(password or "") < MIN_PASSWORD_LENGTH:
        problems["password"] = f"must be at least {MIN_PASSWORD_LENGTH} characters"
    elif len(password) > MAX_PASSWORD_LENGTH:
        problems["password"] = f"must be at most {MAX_PASSWORD_LENGTH} characters"
    return problems


def sign_up(ctx: UnitOfWork, *, email: str, name: str, password: str, language: str = "en") -> str:
    """Take a self sign-up: check it and mail a link to its address; the account is made
    only when that link is followed (`verification.confirm_sign_up`). Returns the
    address the link went to.

    Refused with `PermissionDenied` when the bundle does not allow self sign-up, and
    with `ValidationFailed` (by field) for a bad or disallowed address, a missing name or
    a short password. An address already registered is not refused (that would tell
    anyone whether an account exists): its owner is mailed the set-password link.
    """
    bundle, session = ctx.bundle, ctx.session
    if not bundle.portal.self_signup:
        raise PermissionDenied("self sign-up is not enabled; ask the service desk for an account")
    problems = check_signup(bundle, email, name, password)
    address = str(email).strip().lower()
    if problems:
        raise ValidationFailed("the sign-up form has problems: " + ", ".join(problems), problems)
    if session.scalar(select(User.id).where(User.email == address)):
        # Answered exactly as a new address is (nothing tells whoever typed it that an
        # account exists): the owner gets the set-password link instead, which is what
        # they need if it was them, and nothing anyone else can use.
        from gongdan.engine.accounts.passwords import request_password_reset  # (imports us)

        request_password_reset(ctx, address, source="sign-up")
        return address
    request_sign_up(
        ctx, email=address, name=_clean_name(name), password=password, language=language
    )
    return address
