"""Proving an address before it becomes an account: self sign-up by a mailed link.

Whoever signs up in the portal gets no account yet: `request_sign_up` keeps what they
chose (name, language, the argon2 hash of their password) in `email_verifications`
with the SHA-256 of a random token, and queues the mail with the link
(`account.verify`, delivered like the password links). `confirm_sign_up` spends the
link and makes the account. Until then nobody can sign in as that address, no ticket
is theirs, and mail intake, which finds people by address, finds no account of it.

If an account of the address appeared meanwhile without a password (made by mail
intake or an agent), following the link gives that account the chosen name and
password: the link proves the address, as the set-password mail does. An account with
a password is never taken over: the link is refused.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from gongdan.engine.store.models import EmailVerification, User
from gongdan.engine.unit_of_work import UnitOfWork
from gongdan.errors import ValidationFailed
from gongdan.rules.workflow import Actor
from gongdan.vocabulary import Role

__all__ = [
    "SIGNUP_LINK_PATH",
    "VERIFY_TOPIC",
    "VERIFY_TTL",
    "PendingSignUp",
    "check_sign_up_token",
    "confirm_sign_up",
    "request_sign_up",
]

VERIFY_TOPIC = "account.verify"
VERIFY_TTL = timedelta(hours=24)
SIGNUP_LINK_PATH = "/portal/signup/verify"
MAX_TOKEN_LENGTH = 128
SIGN_UP = "sign-up"
LINK_REFUSED = "this link is not valid: it was already used or has expired; sign up again"
_hasher = PasswordHasher()  # the same argon2 defaults as `engine.accounts.users`


@dataclass(frozen=True, slots=True)
class PendingSignUp:
    """A sign-up whose link may still be followed, as the confirm page shows it."""

    email: str
    name: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def request_sign_up(
    ctx: UnitOfWork, *, email: str, name: str, password: str, language: str
) -> None:
    """Keep a checked sign-up and queue the mail with its link (the caller checked the
    form: `signup.check_signup`, and that no account has the address)."""
    token = secrets.token_urlsafe(32)
    expires = ctx.now + VERIFY_TTL
    ctx.session.add(
        EmailVerification(
            purpose=SIGN_UP,
            email=email,
            user_id=None,
            name=name,
            password_hash=_hasher.hash(password),
            language=language,
            token_hash=_digest(token),
            created_at=ctx.now,
            expires_at=expires,
            used_at=None,
        )
    )
    ctx.outbox(
        VERIFY_TOPIC,
        {
            "email": email,
            "name": name,
            "language": language,
            "purpose": SIGN_UP,
            "link_path": SIGNUP_LINK_PATH,
            "token": token,  # removed from the row once delivered (see `outbox.relay`)
            "expires_at": expires.isoformat(),
        },
    )
    ctx.session.flush()


def _find(session: Session, token: str, now: datetime) -> EmailVerification | None:
    text = str(token or "")
    if not text or len(text) > MAX_TOKEN_LENGTH or "\x00" in text:
        return None
    row = session.scalar(
        select(EmailVerification).where(EmailVerification.token_hash == _digest(text))
    )
    if row is None or row.used_at is not None or row.purpose != SIGN_UP:
        return None
    return row if row.expires_at > now else None


def check_sign_up_token(session: Session, token: str, *, now: datetime) -> PendingSignUp | None:
    """The sign-up of `token` if its link may still be followed (nothing is spent)."""
    row = _find(session, token, now)
    return PendingSignUp(row.email, row.name) if row is not None else None


def confirm_sign_up(ctx: UnitOfWork, token: str) -> User:
    """Spend the link and make (or complete) the account; `ValidationFailed` naming
    `token` when the link is used, expired, unknown, or its address already has an
    account with a password."""
    row = _find(ctx.session, token, ctx.now)
    if row is None:
        raise ValidationFailed(LINK_REFUSED, {"token": LINK_REFUSED})
    row.used_at = ctx.now
    user = ctx.session.scalar(select(User).where(User.email == row.email))
    if user is not None and (user.password_hash or not user.active):
        raise ValidationFailed(
            "the address is already registered",
            {"token": "this address already has an account: sign in instead"},
        )
    if user is None:
        user = User(
            email=row.email,
            name=row.name,
            role=Role.REQUESTER,
            password_hash=row.password_hash,
            language=row.language,
            attributes={},
            away=False,
            active=True,
            created_at=ctx.now,
        )
        ctx.session.add(user)
        ctx.session.flush()
        kind, detail = "user.created", {"source": "portal sign-up", "verified": True}
        after = {"email": user.email, "role": user.role}
    else:
        user.name, user.password_hash = row.name, row.password_hash
        user.language = row.language
        ctx.session.flush()
        kind, detail = "user.updated", {"source": "portal sign-up", "verified": True}
        after = {"name": user.name, "password": "set"}
    # Recorded as done by the account itself: whoever holds the link owns the address.
    ctx.acting_as(Actor(user.id, user.email, Role(user.role))).event(
        None, kind, after=after, detail=detail
    )
    return user
