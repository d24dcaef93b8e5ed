"""The desk's search box in a real browser (`gongdan serve --demo`, chromium): a key
opens its ticket, Chinese words and a custom field's value list the tickets they are
in (two Chinese characters among every ticket), and one or two other characters say
they look at the newest tickets only."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.ui.browser.test_relations import _expect, _sign_in


def _new_incident(page: Any, title: str, serial: str) -> str:
    page.goto("/desk/new/it_incident")
    page.locator("#new-title-input").fill(title)
    page.locator("#new-description-input").fill(f"{title}。从今天早上开始。")
    page.locator("#new-category-input").select_option("hardware")
    serial_input = page.locator("#new-device_serial-input")
    _expect()(serial_input).to_be_visible()
    serial_input.fill(serial)
    page.get_by_role("button", name="Create ticket").click()
    page.wait_for_url(re.compile(r"/desk/tickets/INC-\d+$"))
    key: str = page.url.rsplit("/", 1)[1]
    return key


def _search(page: Any, text: str) -> None:
    box = page.get_by_role("search").get_by_role("searchbox")
    box.fill(text)
    box.press("Enter")


def test_search_by_key_chinese_text_and_custom_field(page: Any, screenshots: Path) -> None:
    if page.size_name == "mobile":
        pytest.skip("the search box is checked at the desktop size")
    expect = _expect()
    _sign_in(page)
    key = _new_incident(page, "三楼彩色打印机卡纸", "PRN-3F-88231")

    _search(page, key.lower())  # a key opens its ticket
    page.wait_for_url(re.compile(rf"/desk/tickets/{key}$"))

    _search(page, "彩色打印机")
    page.wait_for_url(re.compile(r"/desk/queues/search\?q="))
    results = page.locator("#results")
    expect(results.get_by_role("link", name=key, exact=True)).to_be_visible()
    page.screenshot(path=str(screenshots / "desk-search.png"), full_page=True)

    _search(page, "prn-3f-88231")  # a custom text field, any case
    expect(results.get_by_role("link", name=key, exact=True)).to_be_visible()
    expect(results.locator("tbody tr")).to_have_count(1)

    _search(page, "卡纸")  # two Chinese characters: a word, found among every ticket
    expect(results.get_by_role("link", name=key, exact=True)).to_be_visible()
    expect(page.get_by_role("note")).to_have_count(0)
    _search(page, "3f")  # two other characters: the newest tickets only, and it says so
    expect(page.get_by_role("note")).to_contain_text("newest")
