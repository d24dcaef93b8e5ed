"""Forgot password, end to end in a real browser on a 390 px phone: `gongdan serve --demo`
of its own with `GONGDAN_SMTP_URL` pointing at an aiosmtpd server on loopback, so the
mail leaves through the app's in-process outbox runner; the link from the mail sets the
password, the person is signed in, and the new password works at the sign-in page."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.channels.email.conftest import Inbox
from tests.helpers import free_port
from tests.ui.browser.conftest import demo_server

REQUESTER = "zhang.san@example.com"  # a demo account
NEW = "a fresh phone password"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def mail_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, Inbox]]:
    """A demo server mailing through an SMTP server of the test; (base URL, inbox)."""
    received = Inbox()
    smtp_port = free_port()
    controller = Controller(received, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    root = tmp_path_factory.mktemp("password-server")
    smtp_url = f"smtp://127.0.0.1:{smtp_port}"
    try:
        with demo_server(root, "browser-tests", GONGDAN_SMTP_URL=smtp_url) as base:
            yield base, received
    finally:
        controller.stop()


def _fits(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"{page.url} is {width}px wide"


def _wait_for_link(inbox: Inbox, address: str, base: str) -> str:
    """The set-password link mailed to `address` (the demo's ticket mails go there too)."""
    pattern = re.compile(re.escape(base) + r"/password/reset\?token=\S+")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for message in inbox.to(address):
            body = message.get_body(("plain",))
            found = pattern.search(str(body.get_content())) if body is not None else None
            if found:
                return found.group(0)
        time.sleep(0.2)
    raise AssertionError(f"no set-password mail to {address} within 20 s")


def test_forgot_password_on_a_phone(mail_server: tuple[str, Inbox], browser: Any) -> None:
    from playwright.sync_api import expect

    base, inbox = mail_server
    context = browser.new_context(viewport=PHONE, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(f"{base}/login")
        page.get_by_role("link", name="Forgot password?").click()
        expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
        _fits(page)
        page.get_by_label("Email").fill(REQUESTER)
        page.get_by_role("button", name="Send the link").click()
        expect(page.get_by_role("status")).to_contain_text(REQUESTER)
        _fits(page)

        page.goto(_wait_for_link(inbox, REQUESTER, base))
        expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
        _fits(page)
        page.get_by_label("New password", exact=True).fill(NEW)
        page.get_by_label("New password again").fill(NEW + "?")
        page.get_by_role("button", name="Save password and sign in").click()
        expect(page.locator("#reset-confirm-error")).to_be_visible()
        _fits(page)
        page.get_by_label("New password", exact=True).fill(NEW)
        page.get_by_label("New password again").fill(NEW)
        page.get_by_role("button", name="Save password and sign in").click()
        page.wait_for_url(f"{base}/portal")

        page.context.clear_cookies()
        page.goto(f"{base}/login")
        page.get_by_label("Email").fill(REQUESTER)
        page.get_by_label("Password").fill(NEW)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/portal")
    finally:
        context.close()
