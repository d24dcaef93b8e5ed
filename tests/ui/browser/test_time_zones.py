"""Time zones in a real browser (`gongdan serve --demo` of its own, chromium): a first
sign-in takes the browser's zone, so an admin whose browser is in America/New_York and
one in Asia/Shanghai see the same SLA deadline, each in their own zone and named."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tests.ui.browser.conftest import CHROMIUM, demo_server
from tests.ui.browser.test_relations import _expect

ADMIN = "admin@example.com"


def _deadline(browser: Any, base: str, zone: str, email: str) -> str:
    context = browser.new_context(base_url=base, locale="en-GB", timezone_id=zone)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto("/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill("demo")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r"/desk"))
        page.goto("/desk/tickets/INC-1")
        due = page.locator(".sla .muted.block").first
        _expect()(due).to_be_visible()
        text: str = due.inner_text()
        return text
    finally:
        context.close()


def test_each_sees_the_same_deadline_in_their_own_zone(browser: Any, tmp_path: Path) -> None:
    assert CHROMIUM
    with demo_server(tmp_path, "zones") as base:
        new_york = _deadline(browser, base, "America/New_York", ADMIN)
        # The demo routes INC-1 (a broken printer) to field service.
        shanghai = _deadline(browser, base, "Asia/Shanghai", "yang.lei@example.com")
    pattern = re.compile(r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}) UTC([+-]\d+)")
    ny, sh = pattern.search(new_york), pattern.search(shanghai)
    assert ny and sh, (new_york, shanghai)
    assert ny.group(2) in ("-5", "-4") and sh.group(2) == "+8"
    moments = [
        datetime.strptime(found.group(1), "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo(zone))
        for found, zone in ((ny, "America/New_York"), (sh, "Asia/Shanghai"))
    ]
    assert moments[0] == moments[1]  # one deadline, two readings
