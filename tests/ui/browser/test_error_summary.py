"""The error summary above a form lists only what is still wrong: a field fixed (and
checked as the agent leaves it) leaves the list; with nothing left, the summary goes."""

from __future__ import annotations

import re
from typing import Any

import pytest


def test_fixed_fields_leave_the_error_summary(page: Any) -> None:
    if page.size_name == "mobile":
        pytest.skip("the summary behaves the same at every size")
    from playwright.sync_api import expect

    page.goto("/login")
    page.get_by_label("Email").fill("admin@example.com")
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/desk"))
    page.goto("/desk/new/it_incident")
    page.get_by_role("button", name="Create ticket").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary.locator('li[data-error-of="new-title-error"]')).to_have_count(1)
    expect(summary.locator('li[data-error-of="new-category-error"]')).to_have_count(1)

    page.locator("#new-title-input").fill("Screen flickers")
    page.locator("#new-title-input").press("Tab")  # a change: the field is checked
    expect(summary.locator('li[data-error-of="new-title-error"]')).to_have_count(0)
    expect(summary.locator('li[data-error-of="new-category-error"]')).to_have_count(1)
    page.locator("#new-category-input").select_option("software")
    expect(page.locator("#error-summary")).to_have_count(0)
