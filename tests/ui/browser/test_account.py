"""The account page in a real browser at 390 px, by keyboard only: create an API token,
copy it with the copy button, use it against the API, revoke it; a wrong current
password is said next to its field. Against `gongdan serve --demo` (the `server`
fixture); nothing here changes what other browser tests rely on (passwords, language).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from gongdan.engine.demo import DEMO_PASSWORD

REQUESTER = "zhang.san@example.com"  # in the demo data
PHONE = {"width": 390, "height": 844}


def _api_status(base: str, token: str) -> int:
    request = urllib.request.Request(  # noqa: S310 - our own server on loopback
        f"{base}/api/v1/tickets", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            json.load(response)
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def _tab_to(page: Any, selector: str, limit: int = 60) -> None:
    """Press Tab until `selector` has focus (fails if it never does)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement === document.querySelector({selector!r})"):
            return
    raise AssertionError(f"{selector} is not reachable by keyboard")


def _focus_moves_to(page: Any, element_id: str) -> None:
    """Wait (a moment: htmx settles after the swap) until `element_id` has focus."""
    # (Not wait_for_function: its polling evaluates a string, which the page's CSP
    # forbids whenever the first check does not already hold.)
    from playwright.sync_api import expect

    expect(page.locator(f"#{element_id}")).to_be_focused(timeout=5000)


def test_tokens_by_keyboard_at_390_px(server: str, browser: Any, screenshots: Path) -> None:
    context = browser.new_context(
        viewport=PHONE, permissions=["clipboard-read", "clipboard-write"], base_url=server
    )
    page = context.new_page()
    page.goto("/login")
    page.fill("#email", REQUESTER)
    page.fill("#password", DEMO_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/portal")

    page.get_by_role("link", name="My account").click()
    page.wait_for_url("**/account")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    _tab_to(page, "#token-name")
    page.keyboard.type("Home script")
    page.keyboard.press("Enter")
    box = page.locator("#new-token")
    box.wait_for()
    _focus_moves_to(page, "new-token")  # read out first
    assert "shown only this once" in box.inner_text()
    token = page.input_value("#new-token-value")
    assert token.startswith("gd_")

    _tab_to(page, "[data-copy]")
    page.keyboard.press("Enter")
    page.locator("[data-copy-status]", has_text="Copied.").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == token
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(screenshots / "account-token-390.png"), full_page=True)

    assert _api_status(server, token) == 200
    page.on("dialog", lambda dialog: dialog.accept())  # "Revoke this token?"
    _tab_to(page, "#tokens form[action$='/revoke'] button")
    page.keyboard.press("Enter")
    notice = page.locator("#tokens .notice")
    notice.wait_for()
    assert "is revoked" in notice.inner_text()
    assert page.locator("#new-token").count() == 0  # the token is not shown again
    assert _api_status(server, token) == 401
    context.close()


def test_wrong_current_password_by_keyboard(server: str, browser: Any, screenshots: Path) -> None:
    context = browser.new_context(viewport=PHONE, base_url=server)
    page = context.new_page()
    page.goto("/login")
    page.fill("#email", REQUESTER)
    page.fill("#password", DEMO_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/portal")
    page.goto("/account")

    _tab_to(page, "#password-current-password")
    page.keyboard.type("not my password")
    page.keyboard.press("Tab")
    page.keyboard.type("a new long password")
    page.keyboard.press("Tab")
    page.keyboard.type("a new long password")
    page.keyboard.press("Enter")
    error = page.locator("#password-current-password-error")
    error.wait_for()
    assert "is not your current password" in error.inner_text()
    _focus_moves_to(page, "error-summary")
    assert page.get_attribute("#password-current-password", "aria-invalid") == "true"
    page.screenshot(path=str(screenshots / "account-password-390.png"), full_page=True)
    context.close()
