"""Followers and CC (issue 21): an agent follows a ticket from its page; a requester
copies a colleague in from the portal, who then sees the ticket as the requester does
(never an internal note) and hears of its public updates; followers hear of internal
notes too; notification preferences drop the mails a user turned off; mail intake
copies in the Cc'd people when the mailbox says so."""

from __future__ import annotations

import sqlalchemy as sa

from gongdan.bundle.loader import load_bundle
from gongdan.channels.email.audience import audience
from gongdan.channels.email.templates import mail_templates
from gongdan.engine import Notification, read_mail_batch
from gongdan.engine.store.models import User
from gongdan.rules.workflow import Actor
from gongdan.vocabulary import Role
from tests.bundles import EXAMPLE
from tests.factories import incident
from tests.ui.conftest import Web

AGENT = "li.wei@example.com"
REQUESTER = "zhang.san@example.com"
COLLEAGUE = "wang.fang@example.com"


def _setup(web: Web) -> tuple[Actor, Actor, str]:
    agent = web.user(AGENT, teams=("service_desk",))
    requester = web.user(REQUESTER, "requester")
    key = incident(web.service, agent, requester=REQUESTER).ticket.key
    web.service.assign(agent, key, team="service_desk", assignee=agent.email)
    return agent, requester, key


def _who(web: Web, topic: str, key: str, **payload: object) -> list[tuple[str | None, str]]:
    bundle = load_bundle(EXAMPLE)
    note = Notification(1, topic, {"key": key, "type": "it_incident"}, "subscribers", (), None,
                        None, {"ticket": key, **payload})  # fmt: skip
    with read_mail_batch(web.db, bundle, [key]) as reads:
        return [(t, p.email) for t, p in audience(note, bundle, mail_templates(bundle), reads)]


def test_an_agent_follows_and_unfollows_from_the_ticket_page(web: Web) -> None:
    _, _, key = _setup(web)
    follower = web.user("chen.jie@example.com", teams=("service_desk",))
    client = web.client(follower.email)
    assert 'data-follow="follow"' in client.get(f"/desk/tickets/{key}").text
    assert client.send_form(f"/desk/tickets/{key}/follow", {"follow": "yes"}).status_code == 303
    page = client.get(f"/desk/tickets/{key}").text
    assert 'data-follow="unfollow"' in page
    assert web.service.list_followers(follower, key)["follower"][0][0] == follower.email
    # A follower hears of an internal note; the requester does not.
    assert ("follower_update", follower.email) in _who(web, "comment.note", key, by=AGENT)
    assert all(email != REQUESTER for _, email in _who(web, "comment.note", key, by=AGENT))
    client.send_form(f"/desk/tickets/{key}/follow", {"follow": "no"})
    assert web.service.list_followers(follower, key)["follower"] == []


def test_a_cc_sees_the_ticket_as_the_requester_does_and_hears_public_news(web: Web) -> None:
    agent, _, key = _setup(web)
    web.service.add_comment(agent, key, "Secret workaround KB-12", public=False)
    web.service.add_comment(agent, key, "Please restart.")
    client = web.client(REQUESTER)
    copied = client.send_form(f"/portal/tickets/{key}/cc", {"email": COLLEAGUE})
    assert copied.status_code == 303
    assert COLLEAGUE in client.get(f"/portal/tickets/{key}").text
    # The colleague has an account now (no password): give them one to look.
    with web.db.transaction() as session:
        colleague_id = session.scalar(sa.select(User.id).where(User.email == COLLEAGUE))
    colleague = Actor(colleague_id, COLLEAGUE, Role.REQUESTER)
    seen = web.service.get_ticket(colleague, key)
    assert seen.key == key
    bodies = [c.body for c in web.service.list_comments(colleague, key)]
    assert bodies == ["Please restart."]  # never the internal note
    assert ("replied", COLLEAGUE) in _who(web, "comment.added", key, by_staff=True, by=AGENT)
    assert all(e != COLLEAGUE for _, e in _who(web, "comment.note", key, by=AGENT))
    # The ticket is in the colleague's own list, and the desk's timeline says who was added.
    assert [t.key for t in web.service.list_tickets(colleague).items] == [key]
    desk = web.client(AGENT).get(f"/desk/tickets/{key}").text
    assert f"copied in {COLLEAGUE}" in desk
    # Only the requester copies people in: the colleague may not.
    other = web.service.list_followers(colleague, key)
    assert other["follower"] == [] and other["cc"][0][0] == COLLEAGUE


def test_a_cc_is_refused_a_bad_address_with_a_clear_message(web: Web) -> None:
    _, _, key = _setup(web)
    client = web.client(REQUESTER)
    refused = client.send_form(f"/portal/tickets/{key}/cc", {"email": "not an address"})
    assert refused.status_code == 422
    assert "must be an email address" in refused.text


def test_a_stranger_cannot_copy_themselves_in(web: Web) -> None:
    _, _, key = _setup(web)
    web.user("stranger@example.com", "requester")
    client = web.client("stranger@example.com")
    answer = client.send_form(f"/portal/tickets/{key}/cc", {"email": "stranger@example.com"})
    assert answer.status_code == 404


def test_preferences_are_kept_and_respected(web: Web) -> None:
    _, _, key = _setup(web)
    client = web.client(REQUESTER)
    page = client.get("/account").text
    assert 'data-pref="reply"' in page and "Notifications" in page
    saved = client.send_form(
        "/account/notifications", {"mail": "on", "kinds": ["created", "state", "sla", "rule"]}
    )
    assert saved.status_code == 303
    assert 'data-pref="reply" checked' not in client.get("/account").text
    # Replies are muted for the requester: the mail is not sent to them any more.
    assert _who(web, "comment.added", key, by_staff=True, by=AGENT) == []
    client.send_form("/account/notifications", {"kinds": ["reply"]})  # mail off
    assert _who(web, "ticket.created", key) == []


def test_the_api_follows_and_copies_in(web: Web) -> None:
    agent, requester, key = _setup(web)
    agent_token = web.service.accounts.create_token(agent, AGENT, "follow")[1]
    requester_token = web.service.accounts.create_token(requester, REQUESTER, "cc")[1]
    client = web.client()
    as_agent = {"Authorization": f"Bearer {agent_token}"}
    as_requester = {"Authorization": f"Bearer {requester_token}"}
    followed = client.put(f"/api/v1/tickets/{key}/followers/me", headers=as_agent)
    assert followed.status_code == 200 and followed.json()["followers"] == [AGENT]
    copied = client.post(
        f"/api/v1/tickets/{key}/cc", json={"email": COLLEAGUE}, headers=as_requester
    )
    assert copied.status_code == 200, copied.text
    # A requester learns who is copied in, never who follows inside.
    assert copied.json() == {"followers": [], "cc": [COLLEAGUE]}
    bad = client.post(
        f"/api/v1/tickets/{key}/cc", json={"email": "a\x00@b.cn"}, headers=as_requester
    )
    assert bad.status_code == 422 and bad.json()["fields"]["cc"] == "must be an email address"
    # Requesters cannot follow; agents may unfollow.
    assert (
        client.put(f"/api/v1/tickets/{key}/followers/me", headers=as_requester).status_code == 403
    )
    gone = client.delete(f"/api/v1/tickets/{key}/followers/me", headers=as_agent)
    assert gone.json()["followers"] == []
    removed = client.delete(f"/api/v1/tickets/{key}/cc/{COLLEAGUE}", headers=as_requester)
    assert removed.status_code == 200 and removed.json()["cc"] == []
