"""Users and teams: accounts with argon2 password hashes, and teams synced from config.

Users live in the database (DESIGN.md); teams and memberships are declared in
`config/teams/` and synced, matching members to users by email. The writes here run in
a `UnitOfWork` (`AccountService` opens it) and record themselves with its events; the
reads take the session of a read.
"""

from __future__ import annotations

import contextlib
import hashlib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from gongdan.engine.accounts.tokens import forget_recent
from gongdan.engine.store.models import ConfigVersion, Membership, RoutingPointer, Team, User
from gongdan.engine.unit_of_work import UnitOfWork
from gongdan.errors import Conflict, NotFound, ValidationFailed
from gongdan.rules.workflow import Actor
from gongdan.vocabulary import ACCOUNT_ROLES, STAFF_ROLES, Role

__all__ = [
    "LANGUAGES",
    "MAX_NAME_LENGTH",
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "Account",
    "account_of",
    "actor_for",
    "add_user",
    "authenticate",
    "change_password",
    "check_password",
    "get_account",
    "has_admin",
    "record_config_version",
    "session_stamp",
    "set_language",
    "sync_teams",
    "update_profile",
]

LANGUAGES = ("en", "zh-CN")
# The password rule of every way to set one (portal sign-up, the account page, reset).
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024  # argon2 hashes any length; this bounds the work per request
MAX_NAME_LENGTH = 200
_hasher = PasswordHasher()
# Verified when the email is unknown, so a wrong email takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


@dataclass(frozen=True, slots=True)
class Account:
    """A signed-in user as the web layer sees them: a snapshot, never a live row."""

    id: int
    email: str
    name: str
    role: str
    language: str
    actor: Actor
    # Changes whenever the password does: a session signed in before is signed out.
    session_stamp: str = ""

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


def add_user(
    ctx: UnitOfWork,
    email: str,
    *,
    role: str,
    name: str | None = None,
    password: str | None = None,
    language: str = "en",
    organization: str | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> User:
    """Create a user; the email must be new. `attributes` are what conditions read as
    `requester.<key>` (tier, department…)."""
    address = email.strip().lower()
    if "@" not in address or len(address) > 254 or any(c.isspace() for c in address):
        raise ValidationFailed(
            f"'{email}' is not an email address", {"email": "must be an email address"}
        )
    if role not in ACCOUNT_ROLES:
        raise ValidationFailed(
            f"unknown role '{role}'", {"role": f"must be one of: {', '.join(ACCOUNT_ROLES)}"}
        )
    session = ctx.session
    if session.scalar(select(User.id).where(User.email == address)) is not None:
        raise Conflict(f"a user '{address}' already exists")
    user = User(
        email=address,
        name=name or address.split("@")[0],
        role=role,
        password_hash=_hasher.hash(password) if password else None,
        language=language,
        organization=organization,
        attributes=dict(attributes or {}),
        away=False,
        active=True,
        created_at=ctx.now,
    )
    session.add(user)
    session.flush()
    return user


def has_admin(session: Session) -> bool:
    """Whether an active admin exists."""
    query = select(User.id).where(User.role == Role.ADMIN, User.active.is_(True)).limit(1)
    return session.scalar(query) is not None


def check_password(user: User, password: str) -> bool:
    """Whether `password` is the user's (constant-time, argon2)."""
    if not user.password_hash or not user.active:
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def authenticate(session: Session, email: str, password: str) -> Account | None:
    """The account of `email` when `password` is theirs and they are active, else None."""
    address = email.strip().lower()
    # An address no account can have is not looked up (PostgreSQL refuses NUL in text).
    usable = address and "\x00" not in address and len(address) <= 254
    user = session.scalar(select(User).where(User.email == address)) if usable else None
    if user is None:
        with contextlib.suppress(VerificationError, InvalidHashError):
            _hasher.verify(_DUMMY_HASH, password or "-")
        return None
    if not check_password(user, password):
        return None
    return account_of(session, user)


def get_account(session: Session, user_id: int) -> Account | None:
    """The account of an active user by id (None once deactivated or deleted)."""
    user = session.get(User, user_id)
    if user is None or not user.active:
        return None
    return account_of(session, user)


def set_language(ctx: UnitOfWork, user_id: int, language: str) -> None:
    """Remember the language a user reads the UI in (one of `LANGUAGES`)."""
    if language not in LANGUAGES:
        raise ValidationFailed(
            f"unknown language '{language}'",
            {"language": f"must be one of: {', '.join(LANGUAGES)}"},
        )
    user = ctx.session.get(User, user_id)
    if user is not None:
        user.language = language


def update_profile(ctx: UnitOfWork, user_id: int, *, name: str, language: str) -> None:
    """Change a user's display name and UI language (their email stays: it is how
    teams, tickets and mail know them). `ValidationFailed` by field; a `user.updated`
    event records what changed."""
    problems: dict[str, str] = {}
    clean = " ".join(str(name or "").split())
    if not clean:
        problems["name"] = "is required"
    elif len(clean) > MAX_NAME_LENGTH:
        problems["name"] = f"must be at most {MAX_NAME_LENGTH} characters"
    elif any(unicodedata.category(c) == "Cc" for c in clean):
        problems["name"] = "has control characters"
    if language not in LANGUAGES:
        problems["language"] = f"must be one of: {', '.join(LANGUAGES)}"
    if problems:
        raise ValidationFailed("the profile has problems: " + ", ".join(problems), problems)
    user = _active_user(ctx.session, user_id)
    before = {"name": user.name, "language": user.language}
    after = {"name": clean, "language": language}
    changed = {k for k in after if after[k] != before[k]}
    if not changed:
        return
    user.name, user.language = clean, language
    ctx.event(
        None,
        "user.updated",
        before={k: before[k] for k in sorted(changed)},
        after={k: after[k] for k in sorted(changed)},
    )


def change_password(ctx: UnitOfWork, user_id: int, *, current: str, new: str, repeat: str) -> str:
    """Set a new password after checking the current one. `ValidationFailed` names the
    field at fault: `current_password` (wrong), `new_password` (the sign-up rule:
    10 to 1024 characters) or `repeat_password` (not the same). A
    `user.password_changed` event is written (without any password in it). Returns the
    new `session_stamp`: the caller's own session keeps it, every other one ends."""
    user = _active_user(ctx.session, user_id)
    problems: dict[str, str] = {}
    if not current or len(current) > MAX_PASSWORD_LENGTH or not check_password(user, current):
        problems["current_password"] = "is not your current password"  # noqa: S105 - a message
    if len(new or "") < MIN_PASSWORD_LENGTH:
        problems["new_password"] = f"must be at least {MIN_PASSWORD_LENGTH} characters"
    elif len(new) > MAX_PASSWORD_LENGTH:
        problems["new_password"] = f"must be at most {MAX_PASSWORD_LENGTH} characters"
    elif repeat != new:
        problems["repeat_password"] = "does not match the new password"  # noqa: S105 - a message
    if problems:
        raise ValidationFailed("the password was not changed: " + ", ".join(problems), problems)
    user.password_hash = _hasher.hash(new)
    ctx.event(None, "user.password_changed", detail={"source": "account page"})
    return session_stamp(user)


def _active_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise NotFound(f"no active user {user_id}")
    return user


def account_of(session: Session, user: User) -> Account:
    """The `Account` of `user` as the web layer keeps it (with their teams)."""
    return Account(
        user.id,
        user.email,
        user.name,
        user.role,
        user.language,
        actor_for(session, user),
        session_stamp(user),
    )


def session_stamp(user: User) -> str:
    """A short digest of the user's password hash (salted by argon2, so it reveals
    nothing): sessions remember it and end when it changes."""
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


def actor_for(session: Session, user: User) -> Actor:
    """The actor a signed-in user acts as, with their teams."""
    teams = session.scalars(select(Membership.team_id).where(Membership.user_id == user.id))
    return Actor(user.id, user.email, Role(user.role), frozenset(teams))


def sync_teams(ctx: UnitOfWork) -> list[str]:
    """Make teams and memberships match the bundle; returns members with no user yet."""
    session, bundle = ctx.session, ctx.bundle
    # Actors recognised by token carry their teams; memberships are deleted with a
    # statement that no flush sees (`tokens._forget_on_change`).
    forget_recent()
    missing: list[str] = []
    existing = {row.id: row for row in session.scalars(select(Team))}
    users = {u.email: u for u in session.scalars(select(User))}
    for team_id, stored in existing.items():
        stored.active = team_id in bundle.teams
    for team in bundle.teams.values():
        row = existing.get(team.id)
        if row is None:
            row = Team(id=team.id, name=_label(team.name), email=team.email, active=True)
            session.add(row)
        else:
            row.name, row.email, row.active = _label(team.name), team.email, True
        session.flush()
        if session.get(RoutingPointer, team.id) is None:
            session.add(RoutingPointer(team_id=team.id, turns=0))
        session.execute(delete(Membership).where(Membership.team_id == team.id))
        for member in team.members:
            user = users.get(member.user)
            if user is None:
                missing.append(member.user)
                continue
            session.add(
                Membership(
                    team_id=team.id,
                    user_id=user.id,
                    skills=sorted(member.skills),
                    capacity=member.capacity,
                )
            )
    session.flush()
    return missing


def _label(value: object) -> dict[str, str]:
    if isinstance(value, str):
        return {"en": value}
    return {str(k): str(v) for k, v in dict(value).items()}  # type: ignore[call-overload]


def record_config_version(ctx: UnitOfWork) -> None:
    """Remember that this bundle version ran (tickets carry the version they used)."""
    bundle = ctx.bundle
    if ctx.session.get(ConfigVersion, bundle.version) is None:
        ctx.session.add(
            ConfigVersion(version=bundle.version, loaded_at=ctx.now, summary=bundle.summary())
        )
