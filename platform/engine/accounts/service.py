"""`AccountService`: the people side of the platform, as the web pages, the REST API's
account routes and the CLI call it — accounts, sign-in, profile and password, API
tokens, password links, self sign-up, teams synced from the bundle, the config version
record.

Each write is one `UnitOfWork` (`unit_of_work.begin_write`: one transaction, one actor,
one `now`, its events and outbox rows, the same finishing steps as a ticket's write);
each read one `ReadContext`. Callers never open a session: they get records
(`Account`, `TokenInfo`, `ResetLink`) and the errors of `gongdan.errors`. Reachable as
`TicketService.accounts`; the CLI, which loads no config, makes one on `NO_BUNDLE`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any

from gongdan.bundle.compiled import Bundle
from gongdan.engine.accounts import (
    passwords,
    people,
    preferences,
    saved_views,
    sessions,
    signup,
    tokens,
    users,
    verification,
)
from gongdan.engine.accounts.passwords import ResetLink
from gongdan.engine.accounts.people import PersonRecord
from gongdan.engine.accounts.preferences import Preferences
from gongdan.engine.accounts.saved_views import SavedViewRecord
from gongdan.engine.accounts.tokens import TokenInfo
from gongdan.engine.accounts.users import Account
from gongdan.engine.accounts.verification import PendingSignUp
from gongdan.engine.store.database import Database
from gongdan.engine.unit_of_work import (
    NO_BUNDLE,
    ReadContext,
    UnitOfWork,
    begin_read,
    begin_write,
    utc_now,
)
from gongdan.errors import NotFound
from gongdan.rules.workflow import Actor

__all__ = ["AccountService"]


class AccountService:
    """Accounts on one database (under one bundle: its teams, its portal settings)."""

    def __init__(
        self,
        db: Database,
        bundle: Bundle = NO_BUNDLE,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.db, self.bundle, self.clock = db, bundle, clock

    def _write(self, actor: Actor) -> AbstractContextManager[UnitOfWork]:
        return begin_write(self.db, self.bundle, actor, self.clock())

    def _read(self) -> AbstractContextManager[ReadContext]:
        return begin_read(self.db, self.bundle, Actor.system(), self.clock())

    def _read_as(self, actor: Actor) -> AbstractContextManager[ReadContext]:
        return begin_read(self.db, self.bundle, actor, self.clock())

    # Notification preferences and saved views (the user's own) ----------------------

    def notification_preferences(self, actor: Actor) -> Preferences:
        """The acting user's notification preferences (the defaults if never set)."""
        with self._read_as(actor) as ctx:
            return preferences.read_preferences(ctx, _own(actor))

    def set_notification_preferences(
        self, actor: Actor, *, mail: bool, muted: list[str] | frozenset[str]
    ) -> Preferences:
        with self._write(actor) as ctx:
            return preferences.set_preferences(ctx, mail=mail, muted=muted)

    def list_saved_views(self, actor: Actor) -> list[SavedViewRecord]:
        """The acting agent's own saved views."""
        with self._read_as(actor) as ctx:
            return saved_views.list_views(ctx)

    def save_view(
        self,
        actor: Actor,
        name: str,
        queue: str,
        filters: Mapping[str, Any],
        columns: list[str] | tuple[str, ...] = (),
    ) -> SavedViewRecord:
        with self._write(actor) as ctx:
            return saved_views.save_view(ctx, name, queue, filters, columns)

    def rename_view(self, actor: Actor, view_id: int, name: str) -> SavedViewRecord:
        with self._write(actor) as ctx:
            return saved_views.rename_view(ctx, view_id, name)

    def delete_view(self, actor: Actor, view_id: int) -> None:
        with self._write(actor) as ctx:
            saved_views.delete_view(ctx, view_id)

    # Accounts ----------------------------------------------------------------------

    def add_user(
        self,
        email: str,
        *,
        role: str,
        name: str | None = None,
        password: str | None = None,
        language: str = "en",
        actor: Actor | None = None,
        organization: str | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> Account:
        """Create a user (the email must be new; `Conflict` otherwise), with the
        organisation and attributes (tier, department…) conditions read."""
        with self._write(actor or Actor.system()) as ctx:
            user = users.add_user(
                ctx,
                email,
                role=role,
                name=name,
                password=password,
                language=language,
                organization=organization,
                attributes=attributes,
            )
            return users.account_of(ctx.session, user)

    def has_admin(self) -> bool:
        """Whether an active admin exists (none yet: a first run, see `gongdan serve`)."""
        with self._read() as ctx:
            return users.has_admin(ctx.session)

    def authenticate(self, email: str, password: str) -> Account | None:
        """The account of `email` when `password` is theirs and they are active."""
        with self._read() as ctx:
            return users.authenticate(ctx.session, email, password)

    def get_account(self, user_id: int) -> Account | None:
        """The account of an active user by id (None once deactivated or deleted)."""
        with self._read() as ctx:
            return users.get_account(ctx.session, user_id)

    def set_language(self, actor: Actor, language: str) -> None:
        """Remember the language the actor reads the UI in."""
        with self._write(actor) as ctx:
            users.set_language(ctx, _own(actor), language)

    def update_profile(
        self, actor: Actor, *, name: str, language: str, timezone: str | None = None
    ) -> None:
        """Change the actor's display name, UI language and (unless None) time zone
        (`user.updated`)."""
        with self._write(actor) as ctx:
            users.update_profile(ctx, _own(actor), name=name, language=language, timezone=timezone)

    def change_password(
        self, actor: Actor, *, current: str, new: str, repeat: str, keep_session: str = ""
    ) -> str:
        """Set the actor's new password after checking the current one, and sign out
        every other session of theirs (`keep_session`, the key of the one that asked,
        goes on); returns the new session stamp (`users.change_password`)."""
        with self._write(actor) as ctx:
            stamp = users.change_password(ctx, _own(actor), current=current, new=new, repeat=repeat)
        sessions.end_sessions(self.db, _own(actor), keep=keep_session or None)
        return stamp

    # People, as an admin manages them (`people`) -----------------------------------

    def list_people(
        self, *, query: str = "", role: str = "", include_inactive: bool = True
    ) -> list[PersonRecord]:
        """Every account (matching `query` and `role` when given), by email."""
        with self._read() as ctx:
            return people.list_people(
                ctx.session, query=query, role=role, include_inactive=include_inactive
            )

    def get_person(self, email: str) -> PersonRecord:
        """One account by email (`NotFound` when there is none)."""
        with self._read() as ctx:
            return people.get_person(ctx.session, email)

    def set_user(
        self,
        actor: Actor,
        email: str,
        *,
        role: str | None = None,
        name: str | None = None,
        language: str | None = None,
        away: bool | None = None,
    ) -> PersonRecord:
        """Change a user's role, name, language or away (None: unchanged)."""
        with self._write(actor) as ctx:
            people.set_user(ctx, email, role=role, name=name, language=language, away=away)
        return self.get_person(email)

    def set_active(self, actor: Actor, email: str, active: bool) -> PersonRecord:
        """Deactivate (every session of theirs ends at once) or reactivate a user."""
        with self._write(actor) as ctx:
            user_id = people.set_active(ctx, email, active).id
        if not active:
            sessions.end_sessions(self.db, user_id)
        return self.get_person(email)

    def invite_user(
        self, actor: Actor, email: str, *, role: str, name: str | None = None, language: str = "en"
    ) -> tuple[PersonRecord, bool]:
        """A new account without a password and its set-password mail; returns the
        account and whether the mail was queued."""
        with self._write(actor) as ctx:
            user, mailed = people.invite_user(ctx, email, role=role, name=name, language=language)
            address = user.email
        return self.get_person(address), mailed

    def send_password_link(self, actor: Actor, email: str) -> bool:
        """An admin's "reset password": mail the user a set-password link (their
        password works until they use it); whether a mail was queued (not when a link
        went out less than a minute ago)."""
        with self._write(actor) as ctx:
            user = tokens.find_user(ctx.session, email)
            ctx.event(None, "user.password_link_sent", detail={"user": user.email})
            return passwords.request_password_reset(ctx, user.email, source="admin")

    # Web sessions (`sessions`) -----------------------------------------------------

    def start_session(self, user_id: int) -> str:
        """A new signed-in session of `user_id`; returns the key its cookie carries."""
        return sessions.start_session(self.db, user_id, self.clock())

    def session_account(self, key: str, *, idle: timedelta, lifetime: timedelta) -> Account | None:
        """The account of the session `key`, or None once it is over."""
        return sessions.session_account(self.db, key, self.clock(), idle=idle, lifetime=lifetime)

    def announce_lock(self, email: str, *, minutes: int, address: str) -> bool:
        """Mail the owner of `email` that sign-in is locked (`sessions.announce_lock`)."""
        with self._write(Actor.system()) as ctx:
            return sessions.announce_lock(ctx, email, minutes=minutes, address=address)

    def end_session(self, key: str) -> None:
        """Sign out the session `key` (logout)."""
        sessions.end_session(self.db, key)

    def sign_out_everywhere(self, actor: Actor, email: str) -> int:
        """End every session of the user of `email` at once (an admin's "sign out
        everywhere", `gongdan user signout`); a `user.signed_out` event by `actor`
        records it. Returns how many sessions ended; `NotFound` for no such user."""
        with self._write(actor) as ctx:
            user = tokens.find_user(ctx.session, email)
            ctx.event(None, "user.signed_out", detail={"user": user.email})
            user_id = user.id
        return sessions.end_sessions(self.db, user_id)

    def sign_up(self, *, email: str, name: str, password: str, language: str = "en") -> str:
        """A requester signing themselves up in the portal: a link is mailed to the
        address, no account made yet (`signup.sign_up`); returns the address."""
        with self._write(Actor.system()) as ctx:
            return signup.sign_up(ctx, email=email, name=name, password=password, language=language)

    def check_sign_up_link(self, token: str) -> PendingSignUp | None:
        """The sign-up of a mailed link if it may still be followed (nothing spent)."""
        with self._read() as ctx:
            return verification.check_sign_up_token(ctx.session, token, now=ctx.now)

    def confirm_sign_up(self, token: str) -> Account:
        """Follow a sign-up link: the account is made (`verification.confirm_sign_up`)."""
        with self._write(Actor.system()) as ctx:
            user = verification.confirm_sign_up(ctx, token)
            return users.account_of(ctx.session, user)

    # API tokens --------------------------------------------------------------------

    def create_token(self, actor: Actor, email: str, name: str) -> tuple[TokenInfo, str]:
        """A new token for the user of `email`, by `actor` (the owner on their account
        page, the system for the operator's CLI): its info and the token, shown once."""
        with self._write(actor) as ctx:
            return tokens.create_token(ctx, tokens.find_user(ctx.session, email), name)

    def list_tokens(self, email: str) -> list[TokenInfo]:
        """Every token of the user of `email`, revoked ones included, oldest first."""
        with self._read() as ctx:
            return tokens.list_tokens(ctx.session, tokens.find_user(ctx.session, email))

    def revoke_token(self, actor: Actor, token_id: int, *, owner: str | None = None) -> TokenInfo:
        """Revoke a token by id (only among the tokens of `owner`, an email, when given)."""
        with self._write(actor) as ctx:
            user = tokens.find_user(ctx.session, owner) if owner is not None else None
            return tokens.revoke_token(ctx, token_id, owner=user)

    # Password links ----------------------------------------------------------------

    def request_password_reset(self, email: str, *, source: str = "forgot") -> bool:
        """Queue the set-password mail for `email` if it is an active account; returns
        whether a mail was queued (`passwords.request_password_reset`)."""
        with self._write(Actor.system()) as ctx:
            return passwords.request_password_reset(ctx, email, source=source)

    def check_reset_token(self, token: str) -> ResetLink | None:
        """The link of `token` if it may still be used (nothing is spent)."""
        with self._read() as ctx:
            return passwords.check_reset_token(ctx.session, token, now=ctx.now)

    def reset_password(
        self, token: str, password: str, *, confirm: str | None = None
    ) -> Account | None:
        """Spend the link and set its user's password; returns their account, to sign
        them in (None if they were deactivated at this very moment)."""
        with self._write(Actor.system()) as ctx:
            user = passwords.reset_password(ctx, token, password, confirm=confirm)
            account = users.get_account(ctx.session, user.id)
        # Whoever knew the old password (or holds an old cookie) is signed out.
        sessions.end_sessions(self.db, user.id)
        return account

    def needs_password(self, email: str) -> bool:
        """Whether `email` is an active account without a password yet."""
        with self._read() as ctx:
            return passwords.needs_password(ctx.session, email)

    # The bundle's people -----------------------------------------------------------

    def sync_teams(self) -> list[str]:
        """Make teams and memberships match the bundle; returns members with no user."""
        with self._write(Actor.system()) as ctx:
            return users.sync_teams(ctx)

    def members_without_account(self) -> list[tuple[str, str]]:
        """(team, email) of every member the active version's teams name who has no
        account yet."""
        with self._read() as ctx:
            return users.members_without_account(ctx.session)

    def count_members_without_account(self, version: str) -> int:
        """How many members the teams of `version` (the active one) name have no account
        yet: counted at most every `users.MISSING_SECONDS` per version, and again as soon
        as a declared member gets an account in this process (what `/healthz` says)."""
        return users.count_members_without_account(
            lambda: len(self.members_without_account()), self.db.url, version
        )

    def missing_accounts(self, emails: list[str]) -> list[str]:
        """The addresses of `emails` that no account has."""
        with self._read() as ctx:
            return users.missing_accounts(ctx.session, emails)

    def record_config_version(self) -> None:
        """Remember that this bundle version ran."""
        with self._write(Actor.system()) as ctx:
            users.record_config_version(ctx)


def _own(actor: Actor) -> int:
    """The user an account change is about: the actor themselves."""
    if actor.user_id is None:
        raise NotFound("no signed-in user")
    return actor.user_id
