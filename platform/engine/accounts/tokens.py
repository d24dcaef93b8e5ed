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

A process may keep the tokens it recognised for a few seconds (`recent_actor`), only
while it hears every change that could make one wrong: on PostgreSQL, migration
0015's triggers notify such changes on commit and `store.token_events` listens, so a
token revoked anywhere (`gongdan token revoke`, another worker, the account page) or a
user deactivated is refused by every process at once. Without a listener (SQLite, or
the listening connection lost) nothing is kept and every request looks its token up.
A revocation generation read on each request was measured instead: it costs a
database round trip and two thirds of the lookup's CPU.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import chain
from typing import Any

from sqlalchemy import Connection, event, select
from sqlalchemy.orm import Session

from gongdan.engine.store.database import Database
from gongdan.engine.store.models import ApiToken, Membership, User
from gongdan.engine.store.token_events import TokenEventListener
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
    "forget_recent",
    "hash_token",
    "list_tokens",
    "lookup_epoch",
    "recent_actor",
    "remember_actor",
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


# Tokens recognised in the last few seconds, per process, kept only while this process
# listens for the changes that could make one wrong (see the module's docstring). An
# API client sends the same token with every request, and looking it up each time is a
# share of a web worker's CPU per create (bench/api.py). Unknown tokens are never kept.
RECENT_SECONDS = 5.0
_MAX_RECENT = 10_000
_recent: dict[str, tuple[float, Actor]] = {}
_lock = threading.Lock()
_epoch = 0  # moves on every forget: a lookup begun before one is not kept
_listeners: dict[str, TokenEventListener] = {}
_listening: set[str] = set()  # URLs whose listener is connected


def _set_listening(url: str, live: bool) -> None:
    with _lock:
        if live:
            _listening.add(url)
        else:
            _listening.discard(url)
    forget_recent()  # whatever changed while not listening is unknown


def _watch(db: Database) -> bool:
    """Whether this process hears every token change of `db` now (starting to listen
    on first use; never on SQLite)."""
    if db.dialect != "postgresql":
        return False
    url = db.url
    with _lock:
        if url in _listening:
            return True
        if url in _listeners:
            return False
        listener = TokenEventListener(url, forget_recent, lambda live: _set_listening(url, live))
        _listeners[url] = listener
    listener.start()
    return False


def recent_actor(db: Database, token: str) -> Actor | None:
    """The actor `token` stood for when it was recognised less than RECENT_SECONDS
    ago in this process, while this process hears every token change of `db`; else
    None (look it up with `authenticate`, then `remember_actor`)."""
    if not _watch(db):
        return None
    kept = _recent.get(token)
    if kept is None:
        return None
    if time.monotonic() - kept[0] >= RECENT_SECONDS:
        _recent.pop(token, None)
        return None
    return kept[1]


def lookup_epoch() -> int:
    """Take before a lookup, give to `remember_actor` after it."""
    return _epoch


def remember_actor(db: Database, token: str, actor: Actor, epoch: int) -> None:
    """Keep what a lookup begun at `epoch` found, unless something was forgotten since
    (a change notified while it ran) or this process does not hear changes of `db`."""
    with _lock:
        if epoch != _epoch or db.url not in _listening:
            return
        if len(_recent) >= _MAX_RECENT:
            _recent.clear()
        _recent[token] = (time.monotonic(), actor)


def forget_recent() -> None:
    """Forget every recognised token (a token revoked, a user or team changed)."""
    global _epoch
    with _lock:
        _epoch += 1
        _recent.clear()


@event.listens_for(Session, "before_flush")
def _forget_on_change(session: Session, _context: Any, _instances: Any) -> None:
    """A change of a user, token or membership written through a session of this
    process forgets the recognised tokens at once (the notification follows on commit)."""
    if _recent and any(
        isinstance(row, (User, ApiToken, Membership))
        for row in chain(session.new, session.dirty, session.deleted)
    ):
        forget_recent()
