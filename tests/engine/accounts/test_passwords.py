"""One-time password links: issued for active users only, stored hashed, spent by use,
by expiry and by a newer link; a weak password is refused by field; events for each."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from gongdan.engine.accounts.passwords import (
    RESEND_AFTER,
    RESET_TTL,
    check_reset_token,
    needs_password,
)
from gongdan.engine.accounts.service import AccountService
from gongdan.engine.accounts.users import authenticate
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import Event, Outbox, PasswordReset, User
from gongdan.errors import ValidationFailed
from tests.factories import NOW, make_user

NEW = "a much better password"
OLD = "the old password"


def _accounts(db: Database, at: timedelta = timedelta(0)) -> AccountService:
    return AccountService(db, clock=lambda: NOW + at)


def _request(db: Database, email: str, at: timedelta = timedelta(0)) -> bool:
    return _accounts(db, at).request_password_reset(email)


def _token(db: Database) -> str:
    """The token of the newest link (only the outbox row waiting to be mailed has it)."""
    with db.reading() as session:
        row = session.scalars(
            select(Outbox).where(Outbox.topic == "password.reset").order_by(Outbox.id.desc())
        ).first()
        assert row is not None
        return str(row.payload["token"])


def _reset(db: Database, token: str, password: str = NEW, at: timedelta = timedelta(0)) -> None:
    _accounts(db, at).reset_password(token, password, confirm=password)


def _signs_in(db: Database, email: str, password: str) -> bool:
    with db.reading() as session:
        return authenticate(session, email, password) is not None


def test_a_link_sets_the_password_of_an_account_without_one(db: Database) -> None:
    make_user(db, "mail.only@example.com", "requester")
    with db.reading() as session:
        assert needs_password(session, "Mail.Only@example.com")
    assert _request(db, " Mail.Only@example.com ")
    token = _token(db)
    with db.reading() as session:
        link = check_reset_token(session, token, now=NOW)
        row = session.scalars(select(PasswordReset)).one()
        outbox = session.scalars(select(Outbox)).one()
    assert link is not None and link.email == "mail.only@example.com" and not link.has_password
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() != token
    assert outbox.payload["purpose"] == "set" and outbox.payload["email"] == link.email
    _reset(db, token)
    assert _signs_in(db, "mail.only@example.com", NEW)
    with db.reading() as session:
        kinds = list(session.scalars(select(Event.kind).order_by(Event.id)))
        assert not needs_password(session, "mail.only@example.com")
    assert kinds == ["password.reset_requested", "password.reset"]


def test_a_used_link_is_refused(db: Database) -> None:
    make_user(db, "ann@example.com", "requester", password=OLD)
    _request(db, "ann@example.com")
    token = _token(db)
    _reset(db, token)
    with pytest.raises(ValidationFailed) as refused:
        _reset(db, token, "yet another password")
    assert "token" in refused.value.fields
    assert _signs_in(db, "ann@example.com", NEW)
    assert not _signs_in(db, "ann@example.com", OLD)


def test_an_expired_link_is_refused(db: Database) -> None:
    make_user(db, "ann@example.com", "requester")
    _request(db, "ann@example.com")
    token = _token(db)
    with db.reading() as session:
        assert check_reset_token(session, token, now=NOW + RESET_TTL - timedelta(seconds=1))
        assert check_reset_token(session, token, now=NOW + RESET_TTL) is None
    with pytest.raises(ValidationFailed) as refused:
        _reset(db, token, at=RESET_TTL + timedelta(seconds=1))
    assert "token" in refused.value.fields
    assert not _signs_in(db, "ann@example.com", NEW)


def test_a_newer_link_replaces_the_older_one(db: Database) -> None:
    make_user(db, "ann@example.com", "requester")
    assert _request(db, "ann@example.com")
    first = _token(db)
    assert not _request(db, "ann@example.com", RESEND_AFTER / 2)  # no second mail at once
    assert _token(db) == first
    assert _request(db, "ann@example.com", RESEND_AFTER)
    second = _token(db)
    assert second != first
    with pytest.raises(ValidationFailed):
        _reset(db, first, at=RESEND_AFTER)
    _reset(db, second, at=RESEND_AFTER)
    assert _signs_in(db, "ann@example.com", NEW)


@pytest.mark.parametrize("token", ["", "x" * 500, "not-a-token", "abc\x00def"])
def test_a_tampered_or_unknown_token_is_refused(db: Database, token: str) -> None:
    make_user(db, "ann@example.com", "requester")
    _request(db, "ann@example.com")
    tampered = token or _token(db)[:-1] + ("A" if not _token(db).endswith("A") else "B")
    with pytest.raises(ValidationFailed) as refused:
        _reset(db, tampered)
    assert "token" in refused.value.fields
    with db.reading() as session:
        assert check_reset_token(session, tampered, now=NOW) is None


def test_a_weak_or_mistyped_password_is_refused_and_the_link_stays_usable(db: Database) -> None:
    make_user(db, "ann@example.com", "requester")
    _request(db, "ann@example.com")
    token = _token(db)
    with pytest.raises(ValidationFailed) as short:
        _accounts(db).reset_password(token, "short")
    assert short.value.fields == {"password": "must be at least 10 characters"}
    with pytest.raises(ValidationFailed) as long:
        _accounts(db).reset_password(token, "x" * 1025)
    assert long.value.fields == {"password": "must be at most 1024 characters"}
    with pytest.raises(ValidationFailed) as mistyped:
        _accounts(db).reset_password(token, NEW, confirm=NEW + "!")
    assert list(mistyped.value.fields) == ["confirm"]
    _reset(db, token)
    assert _signs_in(db, "ann@example.com", NEW)


@pytest.mark.parametrize("email", ["nobody@example.com", "", "not an address", "a\x00@b.c"])
def test_no_link_for_an_unknown_address(db: Database, email: str) -> None:
    make_user(db, "ann@example.com", "requester")
    assert not _request(db, email)
    with db.reading() as session:
        assert session.scalars(select(Outbox)).first() is None
        assert session.scalars(select(Event)).first() is None


def test_no_link_for_a_deactivated_account_and_an_issued_one_stops_working(db: Database) -> None:
    make_user(db, "ann@example.com", "requester")
    _request(db, "ann@example.com")
    token = _token(db)
    with db.transaction() as session:
        user = session.scalars(select(User).where(User.email == "ann@example.com")).one()
        user.active = False
    assert not _request(db, "ann@example.com", RESEND_AFTER)
    with pytest.raises(ValidationFailed):
        _reset(db, token)
