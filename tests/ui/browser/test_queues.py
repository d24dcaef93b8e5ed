"""The queue pages in a real browser, on a desktop and on a 390 px phone: the queue list
with its counts, a queue as a table (desktop) or as cards (phone) with SLA badges,
filtering without a page load, sorting by a column heading, and bulk assignment by
keyboard alone."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

AGENT = "li.wei@example.com"  # IT service desk, in the demo data (password "demo")


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def _sign_in(page: Any) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(AGENT)
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/desk"))


def test_queues_filter_sort_and_bulk_assign(page: Any, screenshots: Path) -> None:
    expect = _expect()
    mobile = page.size_name == "mobile"
    _sign_in(page)
    page.goto("/desk/queues")
    counts = page.locator("#queue-counts")
    expect(counts).to_have_attribute("hx-trigger", "every 30s")
    expect(counts.get_by_role("link", name=re.compile("My teams"))).to_be_visible()
    counts.get_by_role("link", name=re.compile("My teams")).click()
    page.wait_for_url(re.compile(r"/desk/queues/my_teams"))
    # The counts arrive by htmx after the page, with this queue marked as current.
    expect(page.locator('#queue-counts a[aria-current="page"]')).to_contain_text("My teams")
    rows = page.locator("table.queue tbody tr")
    expect(rows.first).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"] + 1, f"page is {width}px wide"
    display = rows.first.evaluate("row => getComputedStyle(row).display")
    assert display == ("block" if mobile else "table-row")  # cards on a phone
    page.screenshot(path=str(screenshots / f"queue-{page.size_name}.png"), full_page=True)

    # The filter bar is a <details>: open on a desktop; on a phone folded, so the first
    # ticket shows on the first screen, and it opens from the keyboard.
    filters = page.locator("details#queue-filters")
    summary = filters.locator("summary")
    expect(summary).to_contain_text(re.compile(r"Filters \(0 active\)"))
    if mobile:
        assert filters.evaluate("box => box.open") is False
        top = rows.first.bounding_box()["y"]
        assert top < page.viewport_size["height"], f"first ticket at {top}px"
        summary.focus()
        page.keyboard.press("Enter")
    expect(page.locator('select[name="priority"]')).to_be_visible()

    # Filter without a page load: the URL follows, the results are swapped in place.
    marker = page.evaluate("window.queueMarker = 42")
    page.locator('select[name="priority"]').select_option("urgent")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"priority=urgent"))
    assert page.evaluate("window.queueMarker") == marker
    expect(summary).to_contain_text("(1 active)")  # the count follows the swap
    for text in page.locator('table.queue td[data-label="Priority"]').all_inner_texts():
        assert text.strip() == "Urgent"

    # Sort by a column heading (on a phone, where headings are hidden: the sort control).
    page.goto("/desk/queues/my_teams")
    if mobile:
        page.locator("details#queue-filters summary").click()
        page.locator('select[name="sort"]').select_option("priority")
        page.locator('select[name="dir"]').select_option("desc")
        page.get_by_role("button", name="Apply").click()
    else:
        page.locator("table.queue thead").get_by_role("link", name=re.compile("Priority")).click()
    page.wait_for_url(re.compile(r"sort=priority"))
    shown = [p.strip() for p in page.locator('td[data-label="Priority"]').all_inner_texts()]
    rank = ["Urgent", "High", "Normal", "Low"]
    assert shown and shown == sorted(shown, key=rank.index), shown

    # Bulk assign to myself with the keyboard only.
    first = page.locator('input[name="keys"]').first
    key = first.get_attribute("value")
    first.focus()
    page.keyboard.press("Space")
    assignee = page.locator('fieldset.queue-bulk select[name="assignee"]')
    assignee.focus()
    page.keyboard.type("me")  # picks "Me" in the list of assignable people
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the Assign button comes next
    expect(page.locator(".outcomes")).to_contain_text(f"{key}: done")
    page.goto("/desk/queues/mine")
    expect(page.locator("table.queue")).to_contain_text(key)


def test_bulk_resolve_opens_the_transitions_form(page: Any) -> None:
    """Choosing `resolve` for selected incidents opens its form (fetched by htmx); on
    the phone run the ticket is then assigned to me and resolved with those values."""
    expect = _expect()
    _sign_in(page)
    page.goto("/desk/queues/my_teams?type=it_incident")
    key = page.locator('input[name="keys"]').first.get_attribute("value")
    box = page.locator(f'input[name="keys"][value="{key}"]')
    box.check()
    page.locator('select[name="transition"]').select_option("resolve")
    code = page.locator('#bulk-transition select[name="resolution_code"]')
    expect(code).to_be_visible()
    expect(page.locator("#bulk-comment-input")).to_be_visible()
    if page.size_name != "mobile":
        return
    page.locator('fieldset.queue-bulk select[name="assignee"]').select_option("me")
    page.get_by_role("button", name="Assign").click()
    expect(page.locator(".outcomes")).to_contain_text(f"{key}: done")
    page.locator(f'input[name="keys"][value="{key}"]').check()
    page.locator('select[name="transition"]').select_option("resolve")
    code.select_option("fixed")
    page.locator("#bulk-comment-input").fill("Reset the VPN profile")
    page.get_by_role("button", name="Take transition").click()
    expect(page.locator(".outcomes")).to_contain_text(f"{key}: done")
    page.goto(f"/desk/tickets/{key}")
    expect(page.locator("body")).to_contain_text("Reset the VPN profile")
