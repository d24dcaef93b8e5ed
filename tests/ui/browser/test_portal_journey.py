"""A requester's whole journey through the portal in a real browser, on a desktop and on
a 390 px phone, against a real server (`gongdan serve --demo` on 127.0.0.1):

sign up, create an IT incident, find it under "my requests" with its progress; an agent
(the service, in this test, on the server's database) replies publicly, writes an
internal note and resolves it; the requester sees the reply and not the note, reopens
(a comment is required), then confirms the resolution and answers the survey.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from gongdan.bundle.loader import load_bundle
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import EmailVerification
from tests.bundles import EXAMPLE
from tests.factories import actor
from tests.ui.browser.conftest import SIZES, demo_server, sized_page

AGENT = "li.wei@example.com"  # IT service desk, in the demo data
INTERNAL_NOTE = "Internal: the requester's laptop is on the replacement list"
PASSWORD = "my portal password"  # noqa: S105 - a test account


@dataclass
class Site:
    base: str
    service: TicketService


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """`gongdan serve --demo` on a free port, and a TicketService on its database (the
    agent's side of the journey)."""
    root = tmp_path_factory.mktemp("portal-server")
    with demo_server(root, "portal-journey") as base:
        database = Database(f"sqlite:///{root / 'gongdan.db'}")
        try:
            yield Site(base, TicketService(database, load_bundle(EXAMPLE)))
        finally:
            database.dispose()


@pytest.fixture(params=sorted(SIZES))
def page(request: pytest.FixtureRequest, browser: Any, site: Site) -> Iterator[Any]:
    with sized_page(browser, site.base, request.param, 15_000) as page:
        yield page


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def _fits(page: Any) -> None:
    """Nothing sticks out sideways: no horizontal scrolling on a phone."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"] + 1, f"{page.url} is {width}px wide"


def _shot(page: Any, screenshots: Path, name: str) -> None:
    suffix = "-mobile" if page.size_name == "mobile" else ""
    page.screenshot(path=str(screenshots / f"portal-{name}{suffix}.png"), full_page=True)
    _fits(page)


def _take(page: Any, transition: str, comment: str | None = None) -> None:
    details = page.locator(f"details:has(#transition-{transition})")
    if details.get_attribute("open") is None:  # open already when it shows an error
        details.locator("summary").click()
    form = page.locator(f"#transition-{transition}")
    if comment is not None:
        form.locator("textarea[name=comment]").fill(comment)
    form.locator("button[type=submit]").click()


def test_requester_journey(page: Any, site: Site, screenshots: Path) -> None:
    expect = _expect()
    email = f"chen.jing.{page.size_name}@example.com"

    # Sign up.
    page.goto("/portal/signup")
    page.get_by_label("Your name").fill("Chen Jing")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#signup-password-error")).to_contain_text("at least 10 characters")
    page.get_by_label("Password").fill(PASSWORD)
    _shot(page, screenshots, "signup")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("status").first).to_contain_text("We have e-mailed a link")
    # The link of the mail (the demo server only logs mail): the pending sign-up is
    # given a token this test knows, as the mail would have carried one.
    link = f"journey-{page.size_name}"
    with site.service.db.transaction() as session:
        session.execute(
            update(EmailVerification)
            .where(EmailVerification.email == email)
            .values(token_hash=hashlib.sha256(link.encode()).hexdigest())
        )
    page.goto(f"/portal/signup/verify?token={link}")
    page.get_by_role("button", name="Confirm and sign in").click()
    page.wait_for_url(re.compile(r"/portal\?welcome=1$"))
    expect(page.get_by_role("status").first).to_contain_text("Your account is ready")

    # Create an IT incident with the type's generated form.
    page.get_by_role("link", name="New request").first.click()
    page.get_by_role("link", name=re.compile("IT incident")).click()
    page.wait_for_url(re.compile(r"/portal/new/it_incident$"))
    expect(page.locator("#new-device_serial-input")).to_have_count(0)
    page.locator("#new-title-input").fill("Outlook crashes on start")
    page.locator("#new-description-input").fill("Since the update this **morning**.")
    page.locator("#new-category-input").select_option("hardware")
    expect(page.locator("#new-device_serial-input")).to_be_visible()  # shown by htmx
    page.locator("#new-category-input").select_option("software")
    expect(page.locator("#new-device_serial-input")).to_have_count(0)
    page.locator("#new-impact-input").select_option("me")
    _shot(page, screenshots, "new")
    page.get_by_role("button", name="Send request").click()
    page.wait_for_url(re.compile(r"/portal/tickets/INC-\d+\?created=1$"))
    key = re.search(r"INC-\d+", page.url).group(0)  # type: ignore[union-attr]
    expect(page.get_by_role("status").first).to_contain_text(
        f"Your request {key} has been received"
    )

    # My requests, with the step line.
    page.goto("/portal")
    card = page.locator(".portal-ticket", has_text=key)
    expect(card).to_contain_text("Outlook crashes on start")
    expect(card.locator('[aria-current="step"]')).to_contain_text("New")
    _shot(page, screenshots, "home")

    # The agent answers in public, notes something internal, and resolves.
    agent = actor(site.service.db, AGENT)
    site.service.add_comment(agent, key, "Please try **safe mode** first.")
    site.service.add_comment(agent, key, INTERNAL_NOTE, public=False)
    site.service.assign(agent, key, team="service_desk", assignee=AGENT)
    site.service.take_transition(
        agent, key, "resolve", fields={"resolution_code": "fixed"}, comment="Repaired the profile."
    )
    page.goto(f"/portal/tickets/{key}")
    conversation = page.locator("#conversation")
    expect(conversation).to_contain_text("Please try safe mode first.")
    expect(conversation).to_contain_text("Repaired the profile.")
    expect(page.locator("body")).not_to_contain_text(INTERNAL_NOTE)
    expect(page.locator('.steps [aria-current="step"]')).to_contain_text("Resolved")

    # Reopen: the comment is required, then it is back in progress.
    _take(page, "reopen", "")
    expect(page.locator("#transition-reopen-comment-error")).to_contain_text("is required")
    _take(page, "reopen", "It crashed again after lunch.")
    expect(page.locator(".ticket-head .state")).to_have_text("In progress")
    expect(page.locator("#conversation")).to_contain_text("It crashed again after lunch.")

    # Resolved again; the requester confirms, and answers the survey.
    site.service.take_transition(
        agent, key, "resolve", fields={"resolution_code": "fixed"}, comment="New profile."
    )
    page.reload()
    _shot(page, screenshots, "ticket")
    _take(page, "close")
    expect(page.locator(".ticket-head .state")).to_have_text("Closed")
    # The survey appears once the server's background runner delivered `survey: csat`.
    rating = page.locator("#survey input[name=rating][value='5']")
    for _ in range(30):
        if rating.count():
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(rating).to_be_visible()
    rating.check()
    page.locator("#survey-comment").fill("Quick and friendly.")
    _shot(page, screenshots, "survey")
    page.get_by_role("button", name="Send rating").click()
    expect(page.locator("#survey")).to_contain_text("Thank you for your feedback: 5 out of 5.")
    [survey] = site.service.list_surveys(agent, key)
    assert (survey.rating, survey.comment) == (5, "Quick and friendly.")
    expect(page.locator("body")).not_to_contain_text(INTERNAL_NOTE)
    _fits(page)


def test_the_portal_in_chinese(browser: Any, site: Site, screenshots: Path) -> None:
    """The demo requester switches to Chinese: the portal, its step lines and the
    workflow's state labels read in Chinese, and stay so on the next page."""
    expect = _expect()
    context = browser.new_context(viewport=SIZES["mobile"], base_url=site.base, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.size_name = "zh"
    try:
        page.goto("/login?next=/portal")
        page.get_by_label("Email").fill("zhang.san@example.com")
        page.get_by_label("Password").fill("demo")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r"/portal$"))
        page.get_by_role("button", name="简体中文").click()
        expect(page.get_by_role("heading", name="我的请求")).to_be_visible()
        expect(page.locator(".portal-tickets")).to_contain_text("新建")  # an incident's state
        page.screenshot(path=str(screenshots / "portal-home-zh.png"), full_page=True)
        _fits(page)
        page.locator(".portal-ticket a").first.click()
        expect(page.get_by_role("heading", name="沟通记录")).to_be_visible()
        _fits(page)
    finally:
        context.close()
