"""The reports dashboard in a real browser, on a desktop and on a 390 px phone: the
panels render their charts, a filter changes every panel without a page load and is
kept in the URL, and a panel's export downloads a CSV with a BOM."""

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


def test_dashboard_filters_and_export(page: Any, screenshots: Path, tmp_path: Path) -> None:
    expect = _expect()
    _sign_in(page)
    page.get_by_role("link", name="Reports").click()
    page.wait_for_url(re.compile(r"/reports"))
    expect(page.get_by_role("heading", name="Backlog by priority")).to_be_visible()
    panel = page.locator("#report-backlog_by_priority")
    expect(panel.locator("svg.chart rect").first).to_be_visible()
    # The lists of tickets (SLA breaches, lowest ratings) link each ticket.
    for report_id in ("sla_breached_first_response", "csat_lowest_rated"):
        listed = page.locator(f"#report-{report_id}")
        expect(listed.locator("h2")).to_be_visible()
        links = listed.locator("table.report tbody tr td:first-child a")
        if links.count():
            expect(links.first).to_have_attribute("href", re.compile(r"^/desk/tickets/[A-Z]+-\d+$"))
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"] + 1, f"page is {width}px wide"
    page.screenshot(path=str(screenshots / f"reports-{page.size_name}.png"), full_page=True)

    # A filter applies to every panel at once, by htmx, and lands in the URL.
    page.locator('select[name="priority"]').select_option("urgent")
    page.wait_for_url(re.compile(r"priority=urgent"))
    rows = panel.locator("table.report tbody tr")
    if rows.count():
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("Urgent")
    else:
        expect(panel).to_contain_text("No tickets match.")
    expect(page.locator("#report-backlog_by_type a", has_text="Download CSV")).to_have_attribute(
        "href", re.compile(r"priority=urgent")
    )

    with page.expect_download() as download_info:
        page.locator("#report-backlog_by_team a", has_text="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename == "backlog_by_team.csv"
    saved = tmp_path / "backlog_by_team.csv"
    download.save_as(saved)
    content = saved.read_bytes()
    assert content.startswith(b"\xef\xbb\xbf") and b"Team" in content
