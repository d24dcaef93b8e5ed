"""Setting or resetting a password through a one-time link sent by e-mail.

`request_password_reset` issues a link for an active user: a random token
(`secrets.token_urlsafe`) of which only the SHA-256 is stored (`password_resets`),
valid for `RESET_TTL`, and an outbox row (`password.reset`) that the notifier turns
into the e-mail. `reset_password` spends the link and sets the password. A link is
refused once used, once expired, or when a newer one was issued for the same user.

The caller never learns through these functions' errors whether an address has an
account: the forgot-password page gives the same answer either way. Each request and
each reset leaves an event (`password.reset_requested`, `password.reset`) by the link's
user. Both run in a `UnitOfWork` (`AccountService`); the checks that only read take the
session of a read.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gongdan.engine.accounts.signup import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from gongdan.engine.store.models import PasswordReset, User
from gongdan.engine.unit_of_work import UnitOfWork
from gongdan.errors import ValidationFailed
from gongdan.rules.workflow import Actor
from gongdan.vocabulary import Role

__all__ = [
    "RESEND_AFTER",
    "RESET_TOPIC",
    "RESET_TTL",
    "ResetLink",
    "check_new_password",
    "check_reset_token",
    "needs_password",
    "request_password_reset",
    "reset_password",
]

RESET_TTL = timedelta(hours=1)
RESEND_AFTER = timedelta(seconds=60)  # one mail a minute per account: no mail bombing
RESET_TOPIC = "password.reset"
MAX_TOKEN_LENGTH = 128
_hasher = PasswordHasher()  # the same argon2 defaults as `engine.accounts.users`

LINK_REFUSED = (
    "this link is not valid: it was already used, has expired or was replaced by a newer one"
)


@dataclass(frozen=True, slots=True)
class ResetLink:
    """A valid link, as the reset page needs it: whose it is and until when."""

    user_id: int
    email: str
    expires_at: datetime
    has_password: bool


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _address(email: str) -> str | None:
    """`email` as stored, or None when no account can have it (not looked up:
    PostgreSQL refuses NUL in text)."""
    address = str(email or "").strip().lower()
    if not address or "\x00" in address or len(address) > 254 or "@" not in address:
        return None
    return address


def _active_user(session: Session, email: str) -> User | None:
    address = _address(email)
    if address is None:
        return None
    user = session.scalar(select(User).where(User.email == address))
    return user if user is not None and user.active else None


def needs_password(session: Session, email: str) -> bool:
    """Whether `email` is an active account that has no password yet (created by
    e-mail intake or by an agent): such a person is offered the set-password mail."""
    user = _active_user(session, email)
    return user is not None and not user.password_hash


def _event(ctx: UnitOfWork, user: User, kind: str, **detail: Any) -> None:
    """An event of the link's user: whoever holds the link acts as them."""
    acting = ctx.acting_as(Actor(user.id, user.email, Role(user.role)))
    acting.event(None, kind, detail=detail)


def request_password_reset(ctx: UnitOfWork, email: str, *, source: str = "forgot") -> bool:
    """Issue a link for the active user of `email` and queue its e-mail; returns
    whether a mail was queued (False: no such active user, or a link was sent less
    than `RESEND_AFTER` ago). Earlier links of the user stop working."""
    session, now = ctx.session, ctx.now
    user = _active_user(session, email)
    if user is None:
        return False
    latest = session.scalar(
        select(PasswordReset.created_at)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .order_by(PasswordReset.id.desc())
        .limit(1)
    )
    if latest is not None and now - latest < RESEND_AFTER:
        return False
    session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )
    token = secrets.token_urlsafe(32)
    expires = now + RESET_TTL
    session.add(
        PasswordReset(
            user_id=user.id, token_hash=_digest(token), created_at=now, expires_at=expires
        )
    )
    purpose = "reset" if user.password_hash else "set"
    ctx.outbox(
        RESET_TOPIC,
        {
            "user": user.id,
            "email": user.email,
            "name": user.name,
            "language": user.language,
            "purpose": purpose,
            "token": token,  # removed from the row once delivered (see `outbox.relay`)
            "expires_at": expires.isoformat(),
        },
    )
    _event(ctx, user, "password.reset_requested", source=source, purpose=purpose)
    session.flush()
    return True


def _find(session: Session, token: str, now: datetime) -> tuple[PasswordReset, User] | None:
    text = str(token or "")
    if not text or len(text) > MAX_TOKEN_LENGTH:
        return None
    row = session.scalar(select(PasswordReset).where(PasswordReset.token_hash == _digest(text)))
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    return row, user


def check_reset_token(session: Session, token: str, *, now: datetime) -> ResetLink | None:
    """The link of `token` if it may still be used (nothing is spent)."""
    found = _find(session, token, now)
    if found is None:
        return None
    row, user = found
    return ResetLink(user.id, user.email, row.expires_at, bool(user.password_hash))


def check_new_password(password: str, confirm: str | None = None) -> dict[str, str]:
    """Problems of a new password by field (the sign-up rule: 10 to 1024 characters)."""
    text = str(password or "")
    if len(text) < MIN_PASSWORD_LENGTH:
        return {"password": f"must be at least {MIN_PASSWORD_LENGTH} characters"}
    if len(text) > MAX_PASSWORD_LENGTH:
        return {"password": f"must be at most {MAX_PASSWORD_LENGTH} characters"}
    if confirm is not None and confirm != text:
        return {"confirm": "does not match the new password"}
    return {}


def reset_password(
    ctx: UnitOfWork, token: str, password: str, *, confirm: str | None = None
) -> User:
    """Set the password of the link's user and spend the link (and any other open
    link of theirs). Raises `ValidationFailed` with `token` for a used, expired,
    replaced or unknown link, and `password` / `confirm` for a weak or mistyped one."""
    session, now = ctx.session, ctx.now
    found = _find(session, token, now)
    if found is None:
        raise ValidationFailed(LINK_REFUSED, {"token": LINK_REFUSED})
    problems = check_new_password(password, confirm)
    if problems:
        raise ValidationFailed("the new password has problems: " + ", ".join(problems), problems)
    row, user = found
    claimed = session.execute(
        update(PasswordReset)
        .where(PasswordReset.id == row.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )
    if getattr(claimed, "rowcount", 1) != 1:  # spent by a request at the same moment
        raise ValidationFailed(LINK_REFUSED, {"token": LINK_REFUSED})
    session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )
    first = not user.password_hash
    user.password_hash = _hasher.hash(password)
    _event(ctx, user, "password.reset", purpose="set" if first else "reset")
    session.flush()
    return user
