"""Counters shared by every process without a lock held until commit (PostgreSQL).

A new ticket's number and a team's round-robin turn are each the next value of a
counter every web and worker process shares. Kept in a row, the counter stays locked
from the moment a create takes its value until that create commits, and concurrent
creates of one type queue behind each other on that row (bench/api.py shows them
waiting). A sequence hands out values without any lock: `nextval` is never rolled
back.

So on PostgreSQL each ticket type numbers from its own sequence `gd_no_<type>` (owned
by `ticket_counters.last_number`) and each team counts turns in `gd_rr_<team>` (owned
by `routing_pointers.turns`); being owned, they are dropped with those tables and
restarted by `TRUNCATE … RESTART IDENTITY`. A sequence is created the first time a
process needs it, in a short transaction of its own under an advisory lock, starting
after what the row counter (and the tickets) say was used so far, so a database
upgraded from row counters carries on where it was.

Numbers stay unique and in order of creation; the one price is that a create which
fails after taking its number (a database error or a crash in the few statements
between the number and the commit: every validation runs before) leaves a gap, as in
Jira. SQLite, which lets one writer in at a time anyway, keeps the row counters and
stays gapless.
"""

from __future__ import annotations

import hashlib
import re
import threading
import weakref

from sqlalchemy import Connection, Engine, text

__all__ = ["NUMBER", "TURN", "ensure_sequence", "sequence_name"]

NUMBER = "gd_no"
TURN = "gd_rr"
_OWNER = {NUMBER: "ticket_counters.last_number", TURN: "routing_pointers.turns"}
# The value used so far, where the sequence starts after: the row counter, and for
# numbers also the tickets themselves (rows loaded in bulk may not have moved it).
_USED = {
    NUMBER: (
        "SELECT GREATEST("
        "(SELECT last_number FROM ticket_counters WHERE ticket_type = :id),"
        "(SELECT max(number) FROM tickets WHERE ticket_type = :id), 0)"
    ),
    TURN: "SELECT COALESCE((SELECT turns FROM routing_pointers WHERE team_id = :id), 0)",
}
_ADVISORY_KEY = 0x6764_7365_7100  # "gdseq": serialises the creation of sequences
_MAX_NAME = 63  # PostgreSQL's identifier length
_known: weakref.WeakKeyDictionary[Engine, set[str]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def sequence_name(kind: str, ident: str) -> str:
    """`gd_no_<type>` / `gd_rr_<team>`; a long id is shortened with a hash of it (ids
    are `[a-z][a-z0-9_]*`, up to 64 characters: never quoted, never ambiguous)."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", ident):  # config ids; never user text
        raise ValueError(f"not an id: {ident!r}")
    name = f"{kind}_{ident}"
    if len(name) > _MAX_NAME:
        digest = hashlib.sha256(ident.encode()).hexdigest()[:12]
        name = f"{kind}_{ident[:40]}_{digest}"
    return name


def ensure_sequence(connection: Connection, kind: str, ident: str) -> str:
    """The name of the sequence of `kind` for `ident`, created if this database has
    none yet. Known sequences are remembered per engine, so this costs nothing after
    the first call; the creation runs on a connection of its own, so the caller's
    transaction is not touched."""
    name = sequence_name(kind, ident)
    known = _known.get(connection.engine)
    if known is not None and name in known:
        return name
    with _lock, connection.engine.connect() as own, own.begin():
        own.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_KEY})
        exists = own.execute(text("SELECT to_regclass(:name)"), {"name": name}).scalar()
        if exists is None:
            used = int(own.execute(text(_USED[kind]), {"id": ident}).scalar_one())
            # The name is ours (`sequence_name`): safe to write into the DDL.
            own.execute(text(f"CREATE SEQUENCE {name} OWNED BY {_OWNER[kind]}"))
            if used > 0:
                own.execute(text("SELECT setval(:name, :used)"), {"name": name, "used": used})
    _known.setdefault(connection.engine, set()).add(name)
    return name
