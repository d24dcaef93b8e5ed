"""Issue 21 in a real browser against a real `gongdan serve --demo` (a server of its own:
these tests change the demo tickets): apply a macro in bulk from a queue, follow a
ticket from its page, save the current filter as a personal view."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.ui.browser.conftest import demo_server, sized_page

AGENT = "li.wei@example.com"  # IT service desk, in the demo data (password "demo")


@pytest.fixture(scope="module")
def workday_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with demo_server(tmp_path_factory.mktemp("workday"), "workday-tests") as base:
        yield base


@pytest.fixture
def desk(browser: Any, workday_server: str) -> Iterator[Any]:
    with sized_page(browser, workday_server, "desktop", 15_000) as page:
        page.goto("/login")
        page.get_by_label("Email").fill(AGENT)
        page.get_by_label("Password").fill("demo")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r"/desk"))
        yield page


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def test_apply_a_macro_in_bulk(desk: Any, screenshots: Path) -> None:
    expect = _expect()
    desk.goto("/desk/queues/my_teams")
    rows = desk.locator("table.queue tbody tr")
    expect(rows.first).to_be_visible()
    boxes = desk.locator('table.queue input[name="keys"]')
    keys = [boxes.nth(i).get_attribute("value") for i in range(boxes.count())]
    for i in range(boxes.count()):
        boxes.nth(i).check()
    desk.locator('select[name="macro"]').select_option("thanks_for_patience")
    desk.get_by_role("button", name="Use macro").click()
    outcomes = desk.locator(".outcomes li")
    expect(outcomes).to_have_count(len(keys))
    for key in keys:
        expect(desk.locator(".outcomes")).to_contain_text(f"{key}: done")
    desk.screenshot(path=str(screenshots / "macro-bulk.png"), full_page=True)
    # The reply went to each ticket, filled in for it.
    desk.goto(f"/desk/tickets/{keys[0]}")
    expect(desk.locator("#timeline")).to_contain_text(f"Thank you for your patience with {keys[0]}")


def test_follow_a_ticket(desk: Any, screenshots: Path) -> None:
    expect = _expect()
    desk.goto("/desk/queues/my_teams")
    first = desk.locator("table.queue tbody tr a").first
    key = first.inner_text()
    first.click()
    desk.wait_for_url(re.compile(rf"/desk/tickets/{key}$"))
    desk.get_by_role("button", name="Follow", exact=True).click()
    expect(desk.get_by_role("button", name="Unfollow")).to_be_visible()
    expect(desk.locator("#followers")).to_contain_text("Li Wei")
    desk.reload()
    expect(desk.get_by_role("button", name="Unfollow")).to_be_visible()
    # The macro picker previews the reply filled in for this ticket, to edit.
    desk.get_by_label("Macro").select_option("thanks_for_patience")
    desk.get_by_role("button", name="Preview").click()
    reply = desk.locator("#macro-body-input")
    expect(reply).to_have_value(re.compile(f"Thank you for your patience with {key}"))
    expect(desk.locator(".macro-changes")).to_contain_text("add the tags patience_sent")
    desk.screenshot(path=str(screenshots / "ticket-macro-followers.png"), full_page=True)


def test_save_a_view(desk: Any, screenshots: Path) -> None:
    expect = _expect()
    desk.goto("/desk/queues/my_teams")
    desk.locator('select[name="priority"]').select_option("normal")
    desk.get_by_role("button", name="Apply", exact=True).click()
    desk.wait_for_url(re.compile(r"priority=normal"))
    desk.get_by_label("Save this filter as a view").fill("My normal tickets")
    desk.get_by_role("button", name="Save view").click()
    desk.wait_for_url(re.compile(r"view=\d+"))
    expect(desk.locator("h1")).to_contain_text("My normal tickets")
    sidebar = desk.locator("#queue-counts")
    expect(sidebar.get_by_role("link", name="My normal tickets")).to_be_visible()
    expect(desk.locator('select[name="priority"]')).to_have_value("normal")
    desk.screenshot(path=str(screenshots / "saved-view.png"), full_page=True)
