"""Merge two tickets and split one in a real browser (`gongdan serve --demo`, chromium):
the other ticket is found by typing its key, the merge and the split each say what
moves where before anything changes, then the agent lands on the ticket that goes on."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

ADMIN = "admin@example.com"  # in the demo data (password "demo"): sees every ticket


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def _sign_in(page: Any) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(ADMIN)
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/desk"))


def _new_incident(page: Any, title: str) -> str:
    page.goto("/desk/new/it_incident")
    page.locator("#new-title-input").fill(title)
    page.locator("#new-description-input").fill(f"{title}, since this morning.")
    page.locator("#new-category-input").select_option("software")
    page.get_by_role("button", name="Create ticket").click()
    page.wait_for_url(re.compile(r"/desk/tickets/INC-\d+$"))
    key: str = page.url.rsplit("/", 1)[1]
    return key


def _reply(page: Any, text: str) -> None:
    page.locator("#reply-body").fill(text)
    page.locator("#reply").get_by_role("button", name="Send").click()
    _expect()(page.locator("#timeline")).to_contain_text(text)


def test_merge_two_tickets(page: Any, screenshots: Path) -> None:
    if page.size_name == "mobile":
        pytest.skip("the merge is checked at the desktop size; the split at both")
    expect = _expect()
    _sign_in(page)
    survivor = _new_incident(page, "VPN drops every hour")
    duplicate = _new_incident(page, "VPN disconnects again")

    page.locator('a[data-relation="relate"]').click()
    search = page.locator("#relate-q")
    expect(search).to_be_focused()
    search.fill(survivor)
    candidate = page.locator(f'#relate-candidates input[value="{survivor}"]')
    expect(candidate).to_be_checked()  # the one match, chosen as it appeared
    page.locator("#relate-action").select_option("merge_into")
    page.locator("#relate-form").get_by_role("button", name="Continue").click()
    confirm = page.locator("#merge-confirm")
    expect(confirm).to_contain_text(f"Merge {duplicate} into {survivor}?")
    expect(confirm).to_contain_text("is closed and points to")
    page.screenshot(path=str(screenshots / "merge-confirm.png"), full_page=True)
    page.locator("#relate-form").get_by_role("button", name="Merge").click()

    page.wait_for_url(re.compile(rf"/desk/tickets/{survivor}$"))
    expect(page.locator('#ticket-links li[data-link="merged_from"]')).to_contain_text(duplicate)
    page.goto(f"/desk/tickets/{duplicate}")
    expect(page.locator("#ticket-state")).to_have_text("Closed")
    expect(page.locator("#ticket")).to_contain_text(f"Merged into {survivor}")


def test_split_a_ticket(page: Any, screenshots: Path) -> None:
    expect = _expect()
    _sign_in(page)
    key = _new_incident(page, "Outlook and Teams both fail")
    _reply(page, "Outlook crashes when it starts.")
    _reply(page, "Teams shows a blank window.")

    page.locator('a[data-relation="split"]').click()
    form = page.locator("#split-form")
    expect(page.locator("#split-title")).to_be_focused()
    form.get_by_role("button", name="Continue").click()
    expect(page.locator("#split-title-error")).to_contain_text("is required")
    page.locator("#split-title").fill("Teams shows a blank window")
    form.get_by_role("checkbox", name=re.compile("Teams shows a blank window")).check()
    form.get_by_role("button", name="Continue").click()
    confirm = page.locator("#split-confirm")
    expect(confirm).to_contain_text(f"1 comment(s) move from {key} to the new ticket")
    expect(confirm).to_contain_text(f"1 comment(s) stay on {key}")
    if page.size_name == "desktop":
        page.screenshot(path=str(screenshots / "split-confirm.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"] + 1, f"page is {width}px wide"
    form.get_by_role("button", name="Split").click()

    page.wait_for_url(re.compile(rf"/desk/tickets/(?!{key}$)INC-\d+$"))  # the new one
    expect(page.locator("h1")).to_contain_text("Teams shows a blank window")
    expect(page.locator("#timeline")).to_contain_text("Teams shows a blank window.")
    expect(page.locator('#ticket-links li[data-link="split_from"]')).to_contain_text(key)
    page.goto(f"/desk/tickets/{key}")
    expect(page.locator("#timeline")).not_to_contain_text("Teams shows a blank window.")
