"""Bearer API tokens: created per user, shown once, stored as SHA-256, revocable.

A token is `gd_` followed by 43 URL-safe characters (32 random bytes). Only its SHA-256
is stored (a unique column), so looking a token up is one index probe on the hash:
nothing secret is ever compared character by character, and a database leak reveals
no usable token. The first characters (`prefix`) are kept in clear so a user can tell
their tokens apart in a list. Creating and revoking run in a `UnitOfWork` and leave a
`token.created` / `token.revoked` event by its actor (the owner on the account page, the
system for the operator's CLI), naming the token by id, name and prefix, never the
token. Recognising a token is a read (`authenticate`, `store.tokens.read_token`) with
one small write of its own, `store.tokens.mark_token_used`, at most once a minute.

Every request looks its token up: no process keeps recognised tokens, so a token
revoked anywhere (`gongdan token revoke`, another worker, the account page) or a user
deactivated is refused by every process on its next request. A per-process cache with
a revocation generation read per request was measured: that read costs the same
database round trip as the lookup itself (bench figures in the issue notes).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from gongdan.engine.store.models import ApiToken, User
from gongdan.engine.store.tokens import mark_token_used, read_token
from gongdan.engine.unit_of_work import UnitOfWork
from gongdan.errors import NotFound, ValidationFailed
from gongdan.rules.workflow import Actor

__all__ = [
    "TOKEN_PREFIX",
    "TokenInfo",
    "authenticate",
    "create_token",
    "find_user",
    "hash_token",
    "list_tokens",
    "revoke_token",
]

TOKEN_PREFIX = "gd_"  # noqa: S105 - the visible prefix of every token, not a secret
SHOWN_PREFIX = 10  # "gd_" and 7 characters: enough to recognise, useless to guess
MAX_NAME = 200
# `last_used_at` is refreshed at most this often, so a busy client does not turn every
# request into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A token as lists show it (never the token itself)."""

    id: int
    user: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def hash_token(token: str) -> str:
    """The stored form of a token: hex SHA-256 of its UTF-8 text."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def find_user(session: Session, email: str) -> User:
    """The user with this email (case-insensitive); NotFound otherwise."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound(f"no user '{email}'")
    return user


def _info(token: ApiToken, user: User) -> TokenInfo:
    return TokenInfo(
        id=token.id,
        user=user.email,
        name=token.name,
        prefix=token.prefix,
        created_at=token.created_at,
        last_used_at=token.last_used_at,
        revoked_at=token.revoked_at,
    )


def create_token(ctx: UnitOfWork, user: User, name: str) -> tuple[TokenInfo, str]:
    """A new token for `user`: its info and the plaintext token (shown only now), and a
    `token.created` event by the unit of work's actor."""
    clean = name.strip()
    if len(clean) > MAX_NAME or "\x00" in clean:
        raise ValidationFailed(
            "the token name is too long", {"name": f"must be at most {MAX_NAME} characters"}
        )
    if not user.active:
        raise ValidationFailed(
            f"{user.email} is deactivated", {"user": "is deactivated; tokens would not work"}
        )
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        name=clean,
        token_hash=hash_token(plaintext),
        prefix=plaintext[:SHOWN_PREFIX],
        created_at=ctx.now,
        last_used_at=None,
        revoked_at=None,
    )
    ctx.session.add(row)
    ctx.session.flush()
    ctx.event(None, "token.created", after=_named(row, user))
    return _info(row, user), plaintext


def _named(row: ApiToken, user: User) -> dict[str, object]:
    """A token as its events name it (never the token itself)."""
    return {"token_id": row.id, "user": user.email, "name": row.name, "prefix": row.prefix}


def list_tokens(session: Session, user: User) -> list[TokenInfo]:
    """Every token of `user`, revoked ones included, oldest first."""
    rows = session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
    )
    return [_info(row, user) for row in rows]


def revoke_token(ctx: UnitOfWork, token_id: int, *, owner: User | None = None) -> TokenInfo:
    """Revoke a token (by id; only among `owner`'s when given). Revoking twice keeps the
    first time (and writes one `token.revoked` event). NotFound when there is no such
    token."""
    session = ctx.session
    row = session.get(ApiToken, token_id)
    if row is None or (owner is not None and row.user_id != owner.id):
        raise NotFound(f"no token {token_id}")
    user = session.get(User, row.user_id)
    assert user is not None  # noqa: S101 - a foreign key
    if row.revoked_at is None:
        row.revoked_at = ctx.now
        ctx.event(
            None,
            "token.revoked",
            before={"revoked_at": None},
            after={**_named(row, user), "revoked_at": ctx.now},
        )
    session.flush()
    return _info(row, user)


def authenticate(db: Session | Connection, token: str, now: datetime) -> Actor | None:
    """The actor a bearer token stands for; None if it is unknown, revoked, or its user
    is deactivated. One statement reads the token, its user whole (kept in the actor,
    so a write for them reads no user again) and their teams; `last_used_at` is
    written at most once a minute per token."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    found = read_token(db, hash_token(token))
    if found is None or found.revoked_at is not None or not found.active:
        return None
    if found.last_used_at is None or now - found.last_used_at >= LAST_USED_RESOLUTION:
        mark_token_used(db, found.token_id, now)
    teams = frozenset(found.team_ids.split(",")) if found.team_ids else frozenset()
    return Actor(found.id, found.email, found.role, teams, profile=found)
