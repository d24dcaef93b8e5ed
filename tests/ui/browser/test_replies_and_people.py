"""Issue 21's reply and people rules in a real browser (`gongdan serve --demo` of its own,
chromium), with the agent's side done by a TicketService on the server's database:

- a requester's reply to a resolved ticket reopens it (the workflow's `reopen`);
- a reply to a closed ticket starts a follow-up linked to it, and the portal says so;
- a `user` field refuses an address that is no account, at the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gongdan.bundle.loader import load_bundle
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from tests.bundles import EXAMPLE
from tests.factories import actor
from tests.ui.browser.conftest import demo_server, sized_page
from tests.ui.browser.test_portal_journey import Site

AGENT = "li.wei@example.com"  # IT service desk, in the demo data (password "demo")
REQUESTER = "zhang.san@example.com"  # who asked for the demo tickets


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("replies-server")
    with demo_server(root, "replies-and-people") as base:
        database = Database(f"sqlite:///{root / 'gongdan.db'}")
        try:
            yield Site(base, TicketService(database, load_bundle(EXAMPLE)))
        finally:
            database.dispose()


@pytest.fixture
def requester(browser: Any, site: Site) -> Iterator[Any]:
    with sized_page(browser, site.base, "desktop", 15_000) as page:
        page.goto("/login?next=/portal")
        page.get_by_label("Email").fill(REQUESTER)
        page.get_by_label("Password").fill("demo")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r"/portal"))
        yield page


def _resolve(site: Site, key: str) -> None:
    service, database = site.service, site.service.db
    agent, admin = actor(database, AGENT), actor(database, "admin@example.com")
    if service.get_ticket(agent, key).state == "new":
        service.assign(admin, key, team="service_desk", assignee=AGENT)
        service.take_transition(agent, key, "start")
    service.take_transition(
        agent, key, "resolve", fields={"resolution_code": "fixed"}, comment="Fixed, please check."
    )


def _reply(page: Any, key: str, text: str) -> None:
    page.goto(f"/portal/tickets/{key}")
    page.locator("#reply-body").fill(text)
    page.locator("form.reply").get_by_role("button", name="Send").click()


def test_a_reply_reopens_a_resolved_ticket_and_follows_up_a_closed_one(
    requester: Any, site: Site, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    key = "INC-2"  # the demo's VPN incident
    agent = actor(site.service.db, AGENT)
    _resolve(site, key)
    requester.goto(f"/portal/tickets/{key}")
    expect(requester.locator(".state").first).to_have_class(
        re.compile(r"state-closed|state-resolved")
    )

    _reply(requester, key, "Still drops every ten minutes.")
    requester.wait_for_url(re.compile(rf"/portal/tickets/{key}#conversation$"))
    expect(requester.locator("#conversation")).to_contain_text("Still drops every ten minutes.")
    assert site.service.get_ticket(agent, key).state == "in_progress"
    expect(requester.locator(".state").first).not_to_have_class(re.compile(r"state-closed"))

    _resolve(site, key)
    site.service.take_transition(agent, key, "close")
    _reply(requester, key, "It is back again!")
    requester.wait_for_url(re.compile(rf"\?follow_up_of={key}$"))
    new_key = requester.url.split("/portal/tickets/")[1].split("?")[0]
    assert new_key != key
    expect(requester.locator("body")).to_contain_text(
        f"{key} was already closed, so your reply started this new request"
    )
    expect(requester.locator("#conversation")).to_contain_text("It is back again!")
    assert site.service.get_ticket(agent, key).state == "closed"  # the old one stays closed
    requester.screenshot(path=str(screenshots / "portal-follow-up.png"), full_page=True)


def test_a_user_field_refuses_an_address_with_no_account(requester: Any) -> None:
    from playwright.sync_api import expect

    requester.goto("/portal/new/access_request")
    requester.get_by_label("Title").fill("ERP access for planning")
    requester.get_by_label("System").select_option("erp")
    requester.get_by_label("Justification").fill("Monthly planning reports for the plant.")
    approver = requester.get_by_label("Approving manager")
    approver.fill("nobody@example.com")
    approver.press("Tab")  # the form's own check of the field, done before sending
    requester.wait_for_load_state("networkidle")
    requester.locator("form").filter(has=approver).locator("button[type=submit]").last.click()
    requester.wait_for_load_state("networkidle")
    error = requester.locator("[id$=approver-error]").filter(has_text="no active user")
    expect(error).to_contain_text("no active user 'nobody@example.com'")
    expect(approver).to_have_attribute("aria-invalid", "true")
    assert "/portal/new/access_request" in requester.url  # nothing was filed

    approver.fill("admin@example.com")
    requester.locator("form").filter(has=approver).locator("button[type=submit]").last.click()
    requester.wait_for_url(re.compile(r"/portal/tickets/[A-Z]+-\d+"))
