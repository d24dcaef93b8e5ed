"""The bearer-token lookup of an API request, and its one small write.

Every API request recognises its token (`accounts.tokens.authenticate`); the lookup
keeps these rules:

- One statement, found by the SHA-256 of the token (a unique index: one probe), reads
  the token's state, its user's whole row (kept in the actor as its profile, so a
  write for them reads no user again: `store.users.user_from_row`) and the ids of
  their teams. It is prepared server-side on PostgreSQL (a fixed shape whose plan
  never depends on the hash), and runs on a session or on a bare connection alike
  (`Database.read_once`: autocommit on PostgreSQL, no BEGIN and COMMIT around it).
- `mark_token_used` stamps the token's last use; it runs outside any unit of work (the
  caller decides how often: at most once a minute per token), and on an autocommit
  connection it commits by itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, Select, bindparam, func, select, update
from sqlalchemy.orm import Session

from gongdan.engine.store.database import prepared
from gongdan.engine.store.models import ApiToken, Membership, User

__all__ = ["mark_token_used", "read_token"]


def read_token(db: Session | Connection, token_hash: str) -> Row[Any] | None:
    """The token whose hash is `token_hash`, or None: a row of `token_id`,
    `revoked_at`, `last_used_at`, every column of its user's row, and `team_ids` (the
    user's teams joined by commas, None when they have none)."""
    return db.execute(_LOOKUP, {"token_hash": token_hash}).first()


def mark_token_used(db: Session | Connection, token_id: int, now: datetime) -> None:
    """Stamp a bearer token's `last_used_at` with `now` (one UPDATE)."""
    db.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))


def _lookup_statement() -> Select[Any]:
    teams = (
        select(func.aggregate_strings(Membership.team_id, ","))
        .where(Membership.user_id == User.id)
        .correlate(User)
        .scalar_subquery()
    )
    return (
        select(
            ApiToken.id.label("token_id"),
            ApiToken.revoked_at,
            ApiToken.last_used_at,
            *User.__table__.columns,
            teams.label("team_ids"),
        )
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == bindparam("token_hash"))
    )


_LOOKUP = prepared(_lookup_statement())
