"""Notification preferences: which ticket news a user wants by mail, and mail at all.

No row means every mail (the default). The kinds (`NEWS_KINDS`) are what the mail
channel's audience sorts each notification into (`news_kind`); account mails (password
and sign-up links) are never muted. Read in bulk for a notification's recipients
(`muted_people`), one statement whatever their number.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from gongdan.engine.store.database import Database
from gongdan.engine.store.models import NotificationPreference, User
from gongdan.engine.unit_of_work import ReadContext, UnitOfWork
from gongdan.errors import ValidationFailed

__all__ = [
    "NEWS_KINDS",
    "Preferences",
    "muted_people",
    "news_kind",
    "read_preferences",
    "set_preferences",
]

# The kinds of ticket news a user may turn off, in the order the account page lists them.
NEWS_KINDS = ("created", "reply", "note", "state", "sla", "rule")


@dataclass(frozen=True, slots=True)
class Preferences:
    """A user's notification preferences: mail on or off, and the kinds turned off."""

    mail: bool = True
    muted: frozenset[str] = frozenset()

    def wants(self, kind: str | None) -> bool:
        """Whether a mail of this kind (None: not ticket news) goes to the user."""
        return kind is None or (self.mail and kind not in self.muted)


def news_kind(topic: str, payload: Mapping[str, Any]) -> str | None:
    """The kind of ticket news of an outbox topic (None for account mail)."""
    if topic == "ticket.created":
        return "created"
    if topic == "comment.added":
        return "reply"
    if topic == "comment.note":
        return "note"
    if topic in ("ticket.transitioned", "ticket.merged"):
        return "state"
    if topic.startswith("sla."):
        return "sla"
    if topic in ("notify", "survey"):
        return "rule"
    return None


def read_preferences(ctx: ReadContext, user_id: int) -> Preferences:
    row = ctx.session.get(NotificationPreference, user_id)
    if row is None:
        return Preferences()
    return Preferences(row.mail, frozenset(row.muted or ()))


def set_preferences(ctx: UnitOfWork, *, mail: bool, muted: Collection[str]) -> Preferences:
    """The acting user's preferences, replaced; an unknown kind is refused."""
    unknown = sorted(set(muted) - set(NEWS_KINDS))
    if unknown:
        raise ValidationFailed(
            f"unknown kind of notification '{unknown[0]}'",
            {"muted": f"one of: {', '.join(NEWS_KINDS)}"},
        )
    user_id = ctx.actor.user_id
    if user_id is None:
        raise ValidationFailed("only a user has preferences", {})
    row = ctx.session.get(NotificationPreference, user_id)
    ordered = [k for k in NEWS_KINDS if k in set(muted)]
    before = {"mail": row.mail, "muted": list(row.muted)} if row is not None else {}
    if row is None:
        row = NotificationPreference(user_id=user_id, mail=mail, muted=ordered, updated_at=ctx.now)
        ctx.session.add(row)
    else:
        row.mail, row.muted, row.updated_at = mail, ordered, ctx.now
    ctx.event(None, "account.preferences", before=before, after={"mail": mail, "muted": ordered})
    return Preferences(mail, frozenset(ordered))


def muted_people(db: Database, emails: Iterable[str], kind: str | None) -> set[str]:
    """The addresses among `emails` whose owners do not want a mail of `kind`."""
    wanted = sorted({e.lower() for e in emails if e})
    if kind is None or not wanted:
        return set()
    with db.reading() as session:
        rows = session.execute(
            select(User.email, NotificationPreference.mail, NotificationPreference.muted)
            .join(NotificationPreference, NotificationPreference.user_id == User.id)
            .where(User.email.in_(wanted))
        )
        return {
            email
            for email, mail, muted in rows
            if not Preferences(bool(mail), frozenset(muted or ())).wants(kind)
        }
