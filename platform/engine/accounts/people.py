"""The people an admin manages: the list of accounts, a change of role, name, language
or away, deactivation and reactivation, an invitation by mail.

Each write runs in the caller's `UnitOfWork` (`AccountService`) and leaves an event by
the admin (`user.changed`, `user.deactivated`, `user.reactivated`, `user.invited`).
Two rules keep the platform administrable: an admin cannot deactivate themselves, and
the last active admin can neither be deactivated nor lose the role. A deactivated user
is signed out everywhere at once (the caller ends their sessions after the commit) and
their tokens stop working (token sign-in asks for an active user); reactivating gives
them back what they had.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gongdan.engine.accounts.passwords import request_password_reset
from gongdan.engine.accounts.tokens import find_user, forget_recent
from gongdan.engine.accounts.users import LANGUAGES, MAX_NAME_LENGTH, add_user, join_declared_teams
from gongdan.engine.store.models import Membership, User
from gongdan.engine.unit_of_work import UnitOfWork
from gongdan.errors import Conflict, ValidationFailed
from gongdan.vocabulary import ACCOUNT_ROLES, Role

__all__ = [
    "PersonRecord",
    "get_person",
    "invite_user",
    "list_people",
    "set_active",
    "set_user",
]


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """One account as the admin console and `gongdan user list` show it."""

    id: int
    email: str
    name: str
    role: str
    language: str
    away: bool
    active: bool
    has_password: bool
    teams: tuple[str, ...]
    created_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "email": self.email,
            "name": self.name,
            "role": self.role,
            "language": self.language,
            "away": self.away,
            "active": self.active,
            "has_password": self.has_password,
            "teams": list(self.teams),
            "created_at": self.created_at.isoformat(),
        }


def list_people(
    session: Session, *, query: str = "", role: str = "", include_inactive: bool = True
) -> list[PersonRecord]:
    """Every account (by email), those matching `query` (in the email or name) and
    `role` when given. Two queries whatever the number of people."""
    select_users = select(User).order_by(User.email)
    needle = query.strip().lower()
    if needle:
        pattern = f"%{needle.replace('%', '').replace('_', '')}%"
        select_users = select_users.where(
            func.lower(User.email).like(pattern) | func.lower(User.name).like(pattern)
        )
    if role:
        select_users = select_users.where(User.role == role)
    if not include_inactive:
        select_users = select_users.where(User.active.is_(True))
    return _records(session, session.scalars(select_users).all())


def get_person(session: Session, email: str) -> PersonRecord:
    """The account of `email` (`NotFound` when there is none)."""
    return _records(session, [find_user(session, email)])[0]


def _records(session: Session, users: Sequence[User]) -> list[PersonRecord]:
    teams: dict[int, list[str]] = {}
    if users:
        rows = session.execute(
            select(Membership.user_id, Membership.team_id)
            .where(Membership.user_id.in_([u.id for u in users]))
            .order_by(Membership.team_id)
        )
        for user_id, team_id in rows:
            teams.setdefault(user_id, []).append(team_id)
    return [
        PersonRecord(
            u.id,
            u.email,
            u.name,
            u.role,
            u.language,
            bool(u.away),
            bool(u.active),
            bool(u.password_hash),
            tuple(teams.get(u.id, ())),
            u.created_at,
        )
        for u in users
    ]


def _other_active_admins(session: Session, user: User) -> int:
    return int(
        session.scalar(
            select(func.count(User.id)).where(
                User.role == Role.ADMIN, User.active.is_(True), User.id != user.id
            )
        )
        or 0
    )


def set_user(
    ctx: UnitOfWork,
    email: str,
    *,
    role: str | None = None,
    name: str | None = None,
    language: str | None = None,
    away: bool | None = None,
) -> User:
    """Change what is given (None: unchanged) of the user of `email`. `ValidationFailed`
    by field, `NotFound` for no such user, `Conflict` for the last admin's role."""
    user = find_user(ctx.session, email)
    problems: dict[str, str] = {}
    if role is not None and role not in ACCOUNT_ROLES:
        problems["role"] = f"must be one of: {', '.join(ACCOUNT_ROLES)}"
    clean = " ".join(str(name).split()) if name is not None else None
    if clean is not None and not clean:
        problems["name"] = "is required"
    elif clean is not None and len(clean) > MAX_NAME_LENGTH:
        problems["name"] = f"must be at most {MAX_NAME_LENGTH} characters"
    if language is not None and language not in LANGUAGES:
        problems["language"] = f"must be one of: {', '.join(LANGUAGES)}"
    if problems:
        raise ValidationFailed(f"{user.email} was not changed: " + ", ".join(problems), problems)
    if (
        role is not None
        and user.role == Role.ADMIN
        and role != Role.ADMIN
        and user.active
        and not _other_active_admins(ctx.session, user)
    ):
        raise Conflict(f"{user.email} is the last active admin: make another admin first")
    after = {"role": role, "name": clean, "language": language, "away": away}
    before = {"role": user.role, "name": user.name, "language": user.language, "away": user.away}
    changed = sorted(k for k, v in after.items() if v is not None and v != before[k])
    if not changed:
        return user
    for key in changed:
        setattr(user, key, after[key])
    forget_recent()  # actors recognised by token carry the role
    ctx.event(
        None,
        "user.changed",
        before={"email": user.email, **{k: before[k] for k in changed}},
        after={"email": user.email, **{k: after[k] for k in changed}},
    )
    return user


def set_active(ctx: UnitOfWork, email: str, active: bool) -> User:
    """Deactivate or reactivate the user of `email` (see the module's docstring)."""
    user = find_user(ctx.session, email)
    if bool(user.active) == active:
        return user
    if not active:
        if ctx.actor.user_id == user.id:
            raise Conflict("you cannot deactivate yourself")
        if user.role == Role.ADMIN and not _other_active_admins(ctx.session, user):
            raise Conflict(f"{user.email} is the last active admin: make another admin first")
    user.active = active
    forget_recent()
    ctx.event(
        None, "user.reactivated" if active else "user.deactivated", detail={"user": user.email}
    )
    if active:
        join_declared_teams(ctx, user)
    return user


def invite_user(
    ctx: UnitOfWork, email: str, *, role: str, name: str | None = None, language: str = "en"
) -> tuple[User, bool]:
    """A new account without a password, and the set-password mail (the link sign-up
    and password resets use); returns the user and whether the mail was queued."""
    user = add_user(ctx, email, role=role, name=name, language=language)
    ctx.event(None, "user.invited", detail={"user": user.email, "role": role})
    return user, request_password_reset(ctx, user.email, source="invite")
