"""Server-side web sessions: signing in makes one, and ending it works at once.

A browser's signed cookie carries a random key (`secrets.token_urlsafe`); the database
keeps only its SHA-256 (`web_sessions`), with its user, when it began and when it was
last used. Each request of a signed-in browser reads the row and its user in one
statement (`session_account`): a session is over when its row is gone (logout, a new
password, an admin's "sign out everywhere"), when its user is deactivated, when it has
been idle longer than `idle` or is older than `lifetime`. `last_seen_at` is written at
most once a `TOUCH_EVERY`, so a burst of page views costs no writes.

These functions run outside the unit of work, on one short connection each
(`Database.read_once`), like a bearer token's last-use stamp: they record nothing
about tickets and write no event (the sign-in and the password change that start and
end sessions have their own events where they matter).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update

from gongdan.engine.accounts.users import Account, account_of
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import User, WebSession
from gongdan.engine.unit_of_work import UnitOfWork

__all__ = [
    "LOCKED_TOPIC",
    "TOUCH_EVERY",
    "announce_lock",
    "end_session",
    "end_sessions",
    "session_account",
    "start_session",
]

TOUCH_EVERY = timedelta(seconds=60)
LOCKED_TOPIC = "account.locked"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def start_session(db: Database, user_id: int, now: datetime) -> str:
    """A new session of `user_id`; returns its key (for the cookie, never stored)."""
    key = secrets.token_urlsafe(32)
    with db.read_once() as connection:
        connection.execute(
            insert(WebSession).values(
                key_hash=_digest(key), user_id=user_id, created_at=now, last_seen_at=now
            )
        )
    return key


def session_account(
    db: Database, key: str, now: datetime, *, idle: timedelta, lifetime: timedelta
) -> Account | None:
    """The account signed in with session `key`, or None when that session is over
    (ended, idle too long, too old, or its user deactivated; an expired row is
    deleted)."""
    if not key or len(key) > 100:
        return None
    digest = _digest(key)
    with db.reading() as session:
        row = session.execute(
            select(WebSession.created_at, WebSession.last_seen_at, User)
            .join(User, User.id == WebSession.user_id)
            .where(WebSession.key_hash == digest)
        ).first()
        if row is None:
            return None
        created, seen, user = row
        expired = now - seen > idle or now - created > lifetime or not user.active
        account = None if expired else account_of(session, user)
    if expired or now - seen >= TOUCH_EVERY:
        with db.read_once() as connection:
            if expired:
                connection.execute(delete(WebSession).where(WebSession.key_hash == digest))
            else:
                connection.execute(
                    update(WebSession).where(WebSession.key_hash == digest).values(last_seen_at=now)
                )
    return account


def end_session(db: Database, key: str) -> None:
    """Sign out the session of `key` (nothing if it is already over)."""
    if key:
        with db.read_once() as connection:
            connection.execute(delete(WebSession).where(WebSession.key_hash == _digest(key)))


def end_sessions(db: Database, user_id: int, *, keep: str | None = None) -> int:
    """Sign out every session of `user_id` but `keep`'s; returns how many ended."""
    statement = delete(WebSession).where(WebSession.user_id == user_id)
    if keep:
        statement = statement.where(WebSession.key_hash != _digest(keep))
    with db.read_once() as connection:
        return connection.execute(statement).rowcount


def announce_lock(ctx: UnitOfWork, email: str, *, minutes: int, address: str) -> bool:
    """Tell the owner of `email` by mail (outbox topic `account.locked`) that sign-in
    to their account is refused for `minutes` after too many wrong passwords, from
    `address`; an `account.locked` event records it. False (nothing queued) when no
    active account has that address: the caller answers the same either way."""
    clean = str(email or "").strip().lower()
    if not clean or "\x00" in clean or len(clean) > 254:
        return False
    user = ctx.session.scalar(select(User).where(User.email == clean))
    if user is None or not user.active:
        return False
    ctx.outbox(
        LOCKED_TOPIC,
        {
            "user": user.id,
            "email": user.email,
            "name": user.name,
            "language": user.language,
            "minutes": minutes,
            "address": address,
        },
    )
    ctx.event(None, "account.locked", detail={"user": user.email, "minutes": minutes})
    return True
