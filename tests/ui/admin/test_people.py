"""The People pages: an admin lists and finds people, adds someone with a password or
invites them by mail (a set-password link through the outbox), changes a role and
away, deactivates someone (signed out at once) and reactivates them, mails a password
link, and revokes a token; the last admin cannot be demoted."""

from __future__ import annotations

from sqlalchemy import select

from gongdan.engine.store.models import Outbox
from gongdan.rules.workflow import Actor
from tests.ui.admin.conftest import ADMIN, AGENT, REQUESTER, Console
from tests.ui.conftest import PASSWORD


def mails_to(console: Console, email: str) -> list[dict[str, object]]:
    with console.web.db.reading() as session:
        rows = session.scalars(select(Outbox).where(Outbox.topic == "password.reset")).all()
        return [dict(r.payload) for r in rows if r.payload.get("email") == email]


def test_the_list_finds_people_by_name_or_role(console: Console) -> None:
    html = console.admin.get("/admin/people").text
    assert all(email in html for email in (ADMIN, AGENT, REQUESTER))
    only = console.admin.get("/admin/people?role=requester").text
    assert REQUESTER in only and AGENT not in only
    found = console.admin.get("/admin/people?q=li.wei").text
    assert AGENT in found and REQUESTER not in found


def test_an_invited_person_gets_a_set_password_link_by_mail(console: Console) -> None:
    added = console.admin.send_form(
        "/admin/people",
        {
            "email": "Chen.Jing@example.com",
            "name": "Chen Jing",
            "role": "agent",
            "language": "zh-CN",
            "invite": "1",
        },
    )
    assert added.status_code == 303
    assert added.headers["location"] == "/admin/people/chen.jing%40example.com?done=invited"
    person = console.web.service.accounts.get_person("chen.jing@example.com")
    assert (person.role, person.language, person.has_password) == ("agent", "zh-CN", False)
    (mail,) = mails_to(console, "chen.jing@example.com")
    assert mail["purpose"] == "set"
    page = console.admin.get(added.headers["location"]).text
    assert "a link to set their password is on its way" in page


def test_adding_with_a_password_and_the_errors_of_a_bad_form(console: Console) -> None:
    short = console.admin.send_form(
        "/admin/people", {"email": "x@example.com", "role": "agent", "password": "short"}
    )
    assert short.status_code == 422 and "must be at least" in short.text
    taken = console.admin.send_form(
        "/admin/people", {"email": AGENT, "role": "agent", "invite": "1"}
    )
    assert taken.status_code == 422 and "already exists" in taken.text
    added = console.admin.send_form(
        "/admin/people",
        {"email": "new@example.com", "role": "requester", "password": PASSWORD},
    )
    assert added.status_code == 303
    assert console.web.service.accounts.authenticate("new@example.com", PASSWORD) is not None


def test_role_away_deactivation_and_reactivation(console: Console) -> None:
    url = f"/admin/people/{AGENT}"
    saved = console.admin.send_form(
        url, {"name": "Li Wei", "role": "agent", "language": "en", "away": "1"}
    )
    assert saved.status_code == 303
    person = console.web.service.accounts.get_person(AGENT)
    assert person.away and person.name == "Li Wei"

    assert console.agent.get("/desk/queues").status_code == 200
    off = console.admin.send_form(f"{url}/deactivate")
    assert off.status_code == 303 and off.headers["location"].endswith("done=deactivated")
    # Signed out at once: the agent's next request asks them to sign in.
    assert console.agent.get("/desk/queues").status_code == 303
    assert not console.web.service.accounts.get_person(AGENT).active
    assert "Deactivated" in console.admin.get("/admin/people").text

    on = console.admin.send_form(f"{url}/reactivate")
    assert on.status_code == 303
    assert console.web.service.accounts.authenticate(AGENT, PASSWORD) is not None


def test_sign_out_everywhere(console: Console) -> None:
    assert console.requester.get("/portal").status_code == 200
    done = console.admin.send_form(f"/admin/people/{REQUESTER}/signout")
    assert done.status_code == 303 and done.headers["location"].endswith("done=signed_out")
    assert console.requester.get("/portal").status_code == 303


def test_the_last_admin_is_neither_demoted_nor_deactivated(console: Console) -> None:
    url = f"/admin/people/{ADMIN}"
    demoted = console.admin.send_form(url, {"name": "Wang", "role": "agent", "language": "en"})
    assert demoted.status_code == 409 and "last active admin" in demoted.text
    off = console.admin.send_form(f"{url}/deactivate")
    assert off.status_code == 409 and "cannot deactivate yourself" in off.text
    assert console.web.service.accounts.get_person(ADMIN).role == "admin"


def test_a_password_link_and_a_revoked_token(console: Console) -> None:
    url = f"/admin/people/{AGENT}"
    sent = console.admin.send_form(f"{url}/password-link")
    assert sent.status_code == 303 and sent.headers["location"].endswith("done=link_sent")
    (mail,) = mails_to(console, AGENT)
    assert mail["purpose"] == "reset"

    accounts = console.web.service.accounts
    info, _token = accounts.create_token(Actor.system(), AGENT, "CRM sync")
    page = console.admin.get(url).text
    assert "CRM sync" in page and info.prefix in page
    revoked = console.admin.send_form(f"{url}/tokens/{info.id}/revoke")
    assert revoked.status_code == 303
    assert accounts.list_tokens(AGENT)[0].revoked_at is not None
    # A token of someone else is not found under this person.
    other, _ = accounts.create_token(Actor.system(), REQUESTER, "mine")
    wrong = console.admin.send_form(f"{url}/tokens/{other.id}/revoke")
    assert wrong.status_code == 404
    assert accounts.list_tokens(REQUESTER)[0].revoked_at is None
