"""An agent's day in a real browser, on a desktop and on a 390 px phone: sign in, create
an IT incident (the serial field appears for hardware; a bad serial is refused, then
fixed), find it in the queue, open it, start and resolve it with its required field, see the timeline."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

AGENT = "yang.lei@example.com"  # field service, in the demo data (password "demo")


def _fits(page: Any) -> None:
    """Nothing sticks out sideways: no horizontal scrolling on a phone."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"] + 1, f"page is {width}px wide"


def test_create_work_and_resolve_an_incident(page: Any, screenshots: Path) -> None:
    mobile = page.size_name == "mobile"
    expect = _expect()
    page.goto("/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    if not mobile:
        page.screenshot(path=str(screenshots / "login.png"))
    page.get_by_label("Email").fill(AGENT)
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/desk"))

    page.goto("/desk/new")
    page.get_by_role("link", name=re.compile("IT incident")).click()
    page.wait_for_url(re.compile(r"/desk/new/it_incident$"))
    serial = page.locator("#new-device_serial-input")
    expect(serial).to_have_count(0)
    page.locator("#new-title-input").fill("Laptop will not boot")
    page.locator("#new-description-input").fill("Black screen after the **BIOS** logo.")
    page.locator("#new-category-input").select_option("hardware")
    expect(serial).to_be_visible()  # shown by the server, no page load
    serial.fill("bad serial")
    page.get_by_role("button", name="Create ticket").click()
    error = page.locator("#new-device_serial-error")
    expect(error).to_contain_text("must look like")
    expect(page.locator("#new-title-input")).to_have_value("Laptop will not boot")
    if not mobile:
        page.screenshot(path=str(screenshots / "new-ticket.png"), full_page=True)
    _fits(page)
    page.locator("#new-device_serial-input").fill("PC-2024-0815")
    page.get_by_role("button", name="Create ticket").click()
    page.wait_for_url(re.compile(r"/desk/tickets/INC-\d+$"))
    key = page.url.rsplit("/", 1)[1]
    expect(page.locator("h1")).to_contain_text("Laptop will not boot")
    expect(page.locator("#ticket-state")).to_have_text("New")

    # The hardware incident was routed to field service: find it in "My teams" and open it.
    page.goto("/desk/queues/my_teams")
    row = page.locator("table.queue tbody tr", has_text="Laptop will not boot")
    expect(row).to_have_count(1)
    row.get_by_role("link", name=key).click()
    page.wait_for_url(re.compile(rf"/desk/tickets/{key}$"))

    page.locator('button[data-transition="start"]').click()
    expect(page.locator("#ticket-state")).to_have_text("In progress")

    page.locator('a[data-transition="resolve"]').click()
    form = page.locator("#transition")
    expect(form).to_be_visible()
    form.get_by_role("button", name="Resolve").click()
    expect(page.locator("#tr-resolution_code-error")).to_contain_text("is required")
    expect(page.locator("#tr-comment-error")).to_contain_text("is required")
    page.locator("#tr-resolution_code-input").select_option("replaced")
    page.locator("#tr-comment-input").fill("Replaced the SSD; the laptop boots again.")
    page.locator("#transition").get_by_role("button", name="Resolve").click()
    expect(page.locator("#ticket-state")).to_have_text("Resolved")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Replaced the SSD")
    expect(timeline).to_contain_text("In progress → Resolved")
    _fits(page)
    name = "ticket-mobile.png" if mobile else "ticket.png"
    page.reload()
    page.screenshot(path=str(screenshots / name), full_page=True)
    assert key.startswith("INC-")


def test_keyboard_reaches_the_main_actions(page: Any) -> None:
    if page.size_name == "mobile":
        pytest.skip("keyboard navigation is checked on the desktop size")
    expect = _expect()
    page.goto("/login")
    expect(page.get_by_label("Email")).to_be_focused()  # autofocus: type straight away
    page.keyboard.type(AGENT)
    page.keyboard.press("Tab")
    page.keyboard.type("demo")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/desk"))
    page.goto("/desk/new")
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the first ticket type
    page.wait_for_url(re.compile(r"/desk/new/\w+$"))


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect
