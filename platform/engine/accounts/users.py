"""Users and teams: accounts with argon2 password hashes, and teams synced from config.

Users live in the database (DESIGN.md); teams and memberships are declared in
`config/teams/` and synced, matching members to users by email. The members a team
names are kept in the database too (`declared_members`, written with the teams when a
version becomes active), so a user made later by any path and any process — the CLI,
mail intake, a sign-up, an API create naming a new requester — joins their teams in
the same transaction (`join_declared_teams`). The writes here run in
a `UnitOfWork` (`AccountService` opens it) and record themselves with its events; the
reads take the session of a read.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import available_timezones

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session

from gongdan.engine.accounts.tokens import forget_recent
from gongdan.engine.store.models import (
    ConfigVersion,
    DeclaredMember,
    Membership,
    RoutingPointer,
    Team,
    User,
)
from gongdan.engine.unit_of_work import UnitOfWork
from gongdan.errors import Conflict, NotFound, ValidationFailed
from gongdan.rules.workflow import Actor
from gongdan.vocabulary import ACCOUNT_ROLES, STAFF_ROLES, Role

__all__ = [
    "LANGUAGES",
    "MAX_NAME_LENGTH",
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "TIMEZONE_ATTRIBUTE",
    "Account",
    "account_of",
    "actor_for",
    "add_user",
    "authenticate",
    "change_password",
    "check_password",
    "check_timezone",
    "count_members_without_account",
    "get_account",
    "has_admin",
    "join_declared_teams",
    "members_without_account",
    "missing_accounts",
    "record_config_version",
    "session_stamp",
    "set_language",
    "sync_teams",
    "update_profile",
    "user_timezone",
]

LANGUAGES = ("en", "zh-CN")
# The password rule of every way to set one (portal sign-up, the account page, reset).
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024  # argon2 hashes any length; this bounds the work per request
MAX_NAME_LENGTH = 200
TIMEZONE_ATTRIBUTE = "timezone"  # the key of a user's chosen time zone in `attributes`
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
    # The IANA zone times are shown in ("": the bundle's default calendar's).
    timezone: str = ""

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
    join_declared_teams(ctx, user)
    return user


def join_declared_teams(ctx: UnitOfWork, user: User) -> list[str]:
    """Make `user` a member of every team of the active version that names their
    email (and that they are not in yet); returns those teams' ids. Every path that
    makes or re-activates a user calls it, in its own unit of work."""
    session = ctx.session
    declared = session.scalars(
        select(DeclaredMember).where(DeclaredMember.email == user.email)
    ).all()
    if not declared:
        return []
    # A declared member has an account now: the count `/healthz` keeps is stale once
    # this commits (not before: a count read meanwhile would be kept as new).
    event.listen(session, "after_commit", _forget_missing_counts, once=True)
    current = set(session.scalars(select(Membership.team_id).where(Membership.user_id == user.id)))
    joined: list[str] = []
    for row in declared:
        if row.team_id in current:
            continue
        session.add(
            Membership(
                team_id=row.team_id,
                user_id=user.id,
                skills=list(row.skills),
                capacity=row.capacity,
            )
        )
        joined.append(row.team_id)
    if joined:
        session.flush()
        # Actors recognised by token carry their teams.
        forget_recent()
        ctx.event(None, "user.joined_teams", after={"email": user.email, "teams": joined})
    return joined


def members_without_account(session: Session) -> list[tuple[str, str]]:
    """(team id, email) of every member the active version's teams name who has no
    account yet, sorted."""
    rows = session.execute(
        select(DeclaredMember.team_id, DeclaredMember.email)
        .outerjoin(User, User.email == DeclaredMember.email)
        .where(User.id.is_(None))
        .order_by(DeclaredMember.team_id, DeclaredMember.email)
    )
    return [(team, email) for team, email in rows]


# `/healthz` tells how many declared members have no account on every call, and a load
# balancer calls it every few seconds. The count changes only when a version becomes
# active (it is kept per version) or a declared member gets an account: forgotten as
# soon as that commits in this process; a user made by another process (the CLI) shows
# within MISSING_SECONDS. GET /api/v1/config/status always reads the names afresh.
MISSING_SECONDS = 30.0
_missing: dict[tuple[str, str], tuple[float, int, int]] = {}  # (url, version) → t, n, epoch
_missing_lock = threading.Lock()
_missing_epoch = 0


def _forget_missing_counts(_session: object = None) -> None:
    global _missing_epoch
    with _missing_lock:
        _missing_epoch += 1
        _missing.clear()


def count_members_without_account(
    read: Callable[[], int], url: str, version: str, now: float | None = None
) -> int:
    """How many members the active version's teams name have no account yet, kept per
    database and version (see MISSING_SECONDS); `read()` counts them when needed."""
    key = (url, version)
    moment = time.monotonic() if now is None else now
    with _missing_lock:
        kept = _missing.get(key)
        epoch = _missing_epoch
        if kept is not None and kept[2] == epoch and moment - kept[0] < MISSING_SECONDS:
            return kept[1]
    count = read()
    with _missing_lock:
        if epoch == _missing_epoch:  # (nobody got an account while we counted)
            if len(_missing) > 64:
                _missing.clear()
            _missing[key] = (moment, count, epoch)
    return count


def missing_accounts(session: Session, emails: list[str]) -> list[str]:
    """The addresses of `emails` that no account has, in the order given."""
    wanted = [e.strip().lower() for e in emails]
    known = set(session.scalars(select(User.email).where(User.email.in_(wanted))))
    return [e for e in wanted if e not in known]


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


def update_profile(
    ctx: UnitOfWork, user_id: int, *, name: str, language: str, timezone: str | None = None
) -> None:
    """Change a user's display name, UI language and (unless None) time zone ("": the
    default calendar's), their email stays: it is how teams, tickets and mail know
    them. `ValidationFailed` by field; a `user.updated` event records what changed."""
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
    if timezone is not None and (problem := check_timezone(timezone)) is not None:
        problems["timezone"] = problem
    if problems:
        raise ValidationFailed("the profile has problems: " + ", ".join(problems), problems)
    user = _active_user(ctx.session, user_id)
    zone = user_timezone(user) if timezone is None else timezone
    before = {"name": user.name, "language": user.language, "timezone": user_timezone(user)}
    after = {"name": clean, "language": language, "timezone": zone}
    changed = {k for k in after if after[k] != before[k]}
    if not changed:
        return
    user.name, user.language = clean, language
    if "timezone" in changed:  # a new dict: the JSON column notices the change
        user.attributes = {**(user.attributes or {}), TIMEZONE_ATTRIBUTE: zone}
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
        user_timezone(user),
    )


def user_timezone(user: User) -> str:
    """The time zone a user chose (kept in their attributes), or "" for the default."""
    zone = (user.attributes or {}).get(TIMEZONE_ATTRIBUTE)
    return zone if isinstance(zone, str) and check_timezone(zone) is None else ""


def check_timezone(zone: str) -> str | None:
    """None if `zone` is "" or an IANA time zone this system knows; else the problem."""
    if not zone:
        return None
    if len(zone) > 64 or zone not in available_timezones():
        return "is not a known time zone (like Asia/Shanghai)"
    return None


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
    session.execute(delete(DeclaredMember))
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
        declared: set[str] = set()
        for member in team.members:
            address = member.user.strip().lower()
            if address not in declared:
                declared.add(address)
                session.add(
                    DeclaredMember(
                        team_id=team.id,
                        email=address,
                        skills=sorted(member.skills),
                        capacity=member.capacity,
                    )
                )
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
