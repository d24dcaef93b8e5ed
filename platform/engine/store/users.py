"""Users read for a write: their rows, and the detached `User`s made from them.

A write reads each person it names (the actor, a requester, an assignee) once
(`ReadContext.user`). Those reads are here, and they keep three rules:

- A user looked up by id or by address is read with a plain Core SELECT of the whole
  row (prepared server-side on PostgreSQL: a fixed shape whose plan never depends on
  the value) and made into a *detached* `User`: every column set as the ORM sets a
  loaded row's, without the ORM's loading, identity map or change tracking. Such a
  user is read-only; nothing writes it back.
- A user's raw row read on the driver itself along with something else (a team's
  members, `store.members`) becomes a `User` only when it is asked for, each column
  converted as SQLAlchemy would have converted it for this dialect; JSON columns come
  as text on every database and are parsed here.
- `load_user_by_email` is the one lookup that gives a session-bound `User`, loaded by
  the ORM (an assignee named by address, checked and kept by the write).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import JSON, Row, Table, bindparam, select
from sqlalchemy.orm import Session, make_transient_to_detached

from gongdan.engine.store.database import prepared
from gongdan.engine.store.models import User, built

__all__ = [
    "load_user_by_email",
    "read_user",
    "read_user_by_address",
    "user_from_driver",
    "user_from_row",
]

USERS: Table = User.__table__  # type: ignore[assignment]
_USER_BY_ID = prepared(select(USERS).where(USERS.c.id == bindparam("id")))
_USER_BY_ADDRESS = prepared(select(USERS).where(USERS.c.email == bindparam("email")))
_USER_BY_EMAIL = prepared(select(User).where(User.email == bindparam("email")))


def read_user(session: Session, user_id: int) -> User | None:
    """The user `user_id` as a detached `User` (one SELECT), or None."""
    row = session.connection().execute(_USER_BY_ID, {"id": user_id}).first()
    return user_from_row(row) if row is not None else None


def read_user_by_address(session: Session, email: str) -> User | None:
    """The user whose address is `email` (already lower-case) as a detached `User`
    (one SELECT), or None."""
    row = session.connection().execute(_USER_BY_ADDRESS, {"email": email}).first()
    return user_from_row(row) if row is not None else None


def load_user_by_email(session: Session, email: str) -> User | None:
    """The user whose address is `email` (already lower-case), loaded by the ORM into
    `session`, or None."""
    return session.scalar(_USER_BY_EMAIL, {"email": email})


def user_from_row(row: Row[Any]) -> User:
    """A detached `User` from a row holding every column of `users` by name (a lookup
    here, or the bearer-token lookup that reads the user along: `store.tokens`)."""
    return _detached_user({column.name: getattr(row, column.name) for column in USERS.columns})


def user_from_driver(session: Session, values: Sequence[Any], positions: dict[str, int]) -> User:
    """A detached `User` from a driver's raw row (`DriverStatement`; `positions`: each
    column's place in it): each column's value converted as SQLAlchemy would have for
    the session's dialect (text to datetime, booleans). JSON comes as text on every
    database: a read of many users' rows that makes few of them users selects it as
    text (`store.members`)."""
    dialect = session.get_bind().dialect
    convert = _CONVERTERS.get(dialect.name)
    if convert is None:
        convert = _CONVERTERS[dialect.name] = {
            column.name: (
                _json_text
                if isinstance(column.type, JSON)
                else column.type.dialect_impl(dialect).result_processor(dialect, None)
            )
            for column in USERS.columns
        }
    fields = {}
    for name, processor in convert.items():
        raw = values[positions[name]]
        fields[name] = processor(raw) if processor is not None else raw
    return _detached_user(fields)


# Each column's result processor, per dialect (the processors depend on nothing else).
_CONVERTERS: dict[str, dict[str, Any]] = {}


def _json_text(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _detached_user(fields: dict[str, Any]) -> User:
    """A detached `User` holding every column's value, made as the ORM makes a loaded
    row (`built`: attributes set in place, no change events)."""
    user = built(User, fields)
    make_transient_to_detached(user)
    return user
