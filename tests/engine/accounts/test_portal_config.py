"""The portal's config (`kind: Portal`: self sign-up, allowed domains, welcome text),
which ticket types the portal offers, and self sign-up against a real database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from gongdan.bundle.compiled import Bundle, PortalSettings
from gongdan.bundle.loader import check_bundle, load_bundle
from gongdan.engine.accounts.service import AccountService
from gongdan.engine.accounts.signup import MIN_PASSWORD_LENGTH, portal_types
from gongdan.engine.accounts.users import Account
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import Event, Outbox, User
from gongdan.errors import PermissionDenied, ValidationFailed
from tests.bundles import make_bundle
from tests.factories import NOW, make_user

PORTAL = """\
kind: Portal
self_signup: true
allowed_email_domains: [Example.com, factory.example.cn]
welcome: {en: Welcome, zh-CN: 欢迎}
"""
PASSWORD = "correct horse battery"  # noqa: S105 - a test account


def portal_bundle(tmp_path: Path, text: str = PORTAL) -> Bundle:
    return load_bundle(make_bundle(tmp_path, {"portal.yaml": text}))


def issues_of(tmp_path: Path, files: dict[str, str | None]) -> list[str]:
    root = make_bundle(tmp_path, files)
    _, issues = check_bundle(root)
    return [str(i).replace(f"{root}/", "") for i in issues]


# Config ----------------------------------------------------------------------------


def test_without_a_portal_document_nobody_signs_up(tmp_path: Path) -> None:
    bundle = load_bundle(make_bundle(tmp_path))
    assert bundle.portal == PortalSettings(self_signup=False)


def test_portal_document_compiles(tmp_path: Path) -> None:
    settings = portal_bundle(tmp_path).portal
    assert settings.self_signup is True
    assert settings.allowed_email_domains == {"example.com", "factory.example.cn"}
    assert settings.welcome == {"en": "Welcome", "zh-CN": "欢迎"}


def test_a_second_portal_document_is_an_error(tmp_path: Path) -> None:
    got = issues_of(
        tmp_path, {"portal.yaml": PORTAL, "more/portal2.yaml": "kind: Portal\nself_signup: false\n"}
    )
    assert got == [
        "more/portal2.yaml:1:1: (document): a bundle has one Portal document; 'portal' is "
        "already one (portal.yaml:1)"
    ]


def test_bad_domain_and_unknown_key_are_located(tmp_path: Path) -> None:
    text = PORTAL.replace("factory.example.cn", "'@factory'").replace("welcome", "welcom")
    got = issues_of(tmp_path, {"portal.yaml": text})
    assert got[0].startswith("portal.yaml:3:")
    assert "allowed_email_domains[1]" in got[0] and "'@factory'" in got[0]
    assert got[1].startswith("portal.yaml:4:1: welcom: unknown key 'welcom'")
    assert "did you mean 'welcome'" in got[1]
    assert len(got) == 2


def test_domains_without_sign_up_is_a_warning(tmp_path: Path) -> None:
    got = issues_of(
        tmp_path, {"portal.yaml": PORTAL.replace("self_signup: true", "self_signup: false")}
    )
    assert got == [
        "portal.yaml:3:1: allowed_email_domains: warning: has no effect while self_signup is false"
    ]


def test_the_example_portal(example_bundle: Bundle) -> None:
    assert example_bundle.portal.self_signup is True
    assert example_bundle.portal.allowed_email_domains == frozenset()
    assert set(example_bundle.portal.welcome) == {"en", "zh-CN"}
    # Types offer themselves in the portal unless they say `portal: false`.
    assert [t.id for t in portal_types(example_bundle)] == [
        "access_request", "after_sales", "equipment_maintenance", "it_incident",
    ]  # fmt: skip


# Self sign-up ----------------------------------------------------------------------


@pytest.fixture
def bundle(tmp_path: Path) -> Bundle:
    return portal_bundle(tmp_path)


def signup(db: Database, bundle: Bundle, **overrides: str) -> Account:
    values = {"email": "Chen.Jing@Example.com", "name": "Chen Jing", "password": PASSWORD}
    values.update(overrides)
    accounts = AccountService(db, bundle, clock=lambda: NOW)
    address = accounts.sign_up(language="zh-CN", **values)
    with db.reading() as session:  # the link of the mail (the outbox is not delivered)
        row = session.scalars(
            select(Outbox).where(Outbox.topic == "account.verify").order_by(Outbox.id.desc())
        ).first()
        assert row is not None and row.payload["email"] == address
        token = row.payload["token"]
    return accounts.confirm_sign_up(token)


def test_sign_up_creates_a_requester_who_can_sign_in(db: Database, bundle: Bundle) -> None:
    user = signup(db, bundle)
    assert (user.email, user.name, user.role, user.language) == (
        "chen.jing@example.com", "Chen Jing", "requester", "zh-CN",
    )  # fmt: skip
    accounts = AccountService(db, bundle)
    assert accounts.authenticate(user.email, PASSWORD) == user
    assert accounts.authenticate(user.email, "wrong password") is None
    with db.reading() as session:
        [event] = session.scalars(select(Event).where(Event.kind == "user.created")).all()
        assert event.actor_id == user.id and event.detail == {
            "source": "portal sign-up",
            "verified": True,
        }


def test_sign_up_refused_when_not_enabled(db: Database, tmp_path: Path) -> None:
    closed = load_bundle(make_bundle(tmp_path / "closed"))
    with pytest.raises(PermissionDenied, match="not enabled"):
        signup(db, closed)
    with db.reading() as session:
        assert session.scalar(select(User)) is None


def test_sign_up_only_for_allowed_domains(db: Database, bundle: Bundle) -> None:
    with pytest.raises(ValidationFailed) as caught:
        signup(db, bundle, email="someone@gmail.com")
    assert caught.value.fields == {
        "email": "sign-up is open to addresses at example.com, factory.example.cn only"
    }
    # A subdomain is another domain: the list is matched exactly.
    with pytest.raises(ValidationFailed):
        signup(db, bundle, email="someone@mail.example.com")
    assert signup(db, bundle, email="line.lead@FACTORY.example.cn").role == "requester"


def test_an_address_is_registered_once(db: Database, bundle: Bundle) -> None:
    make_user(db, "chen.jing@example.com", "agent")
    accounts = AccountService(db, bundle, clock=lambda: NOW)
    address = accounts.sign_up(email="Chen.Jing@Example.com", name="Chen", password=PASSWORD)
    assert address == "chen.jing@example.com"  # answered as a new address is
    with db.reading() as session:
        topics = session.scalars(select(Outbox.topic).order_by(Outbox.id)).all()
        assert topics == ["password.reset"]  # the owner's link; no second account
        assert session.scalars(select(User.role).where(User.email == address)).all() == ["agent"]


def test_every_problem_of_the_form_at_once(db: Database, bundle: Bundle) -> None:
    with pytest.raises(ValidationFailed) as caught:
        signup(db, bundle, email="not an address", name="   ", password="short")  # noqa: S106
    assert caught.value.fields == {
        "email": "must be an email address",
        "name": "is required",
        "password": f"must be at least {MIN_PASSWORD_LENGTH} characters",
    }
    with db.reading() as session:
        assert session.scalar(select(User)) is None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"password": "x" * 1025}, "password"),
        ({"name": "x" * 201}, "name"),
        ({"name": "bell\x07"}, "name"),
        ({"email": "two@@example.com"}, "email"),
        ({"email": "@example.com"}, "email"),
    ],
)
def test_bad_values(db: Database, bundle: Bundle, overrides: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        signup(db, bundle, **overrides)
    assert list(caught.value.fields) == [field]
