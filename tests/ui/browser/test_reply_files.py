"""Files on replies in a real browser against a real `gongdan serve --demo` (a server of
its own: the test writes to a demo ticket): an agent attaches a picture to a reply on
the ticket page, and the requester sees it drawn inline in the portal."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import pdf_document, png_image
from tests.ui.browser.conftest import demo_server, sized_page
from tests.ui.browser.test_csp import _sign_in

AGENT = "li.wei@example.com"  # IT service desk, in the demo data (password "demo")
REQUESTER = "zhang.san@example.com"  # who asked for the demo tickets


@pytest.fixture(scope="module")
def files_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with demo_server(tmp_path_factory.mktemp("reply-files"), "reply-files-tests") as base:
        yield base


def _drawn(image: Any) -> int:
    """The picture's width as the browser decoded it (0: a broken image)."""
    return int(image.evaluate("img => img.complete ? img.naturalWidth : 0"))


def test_an_agents_picture_shows_inline_to_the_requester(
    browser: Any, files_server: str, screenshots: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    picture = tmp_path / "error-dialog.png"
    picture.write_bytes(png_image(240, 140))
    with sized_page(browser, files_server, "desktop", 15_000) as desk:
        _sign_in(desk, AGENT)
        desk.goto("/desk/queues/my_teams")
        first = desk.locator("table.queue tbody tr a").first
        key = first.inner_text()
        first.click()
        desk.wait_for_url(re.compile(rf"/desk/tickets/{key}$"))
        # What the input takes is said before anything is chosen.
        expect(desk.locator("#reply-files-help")).to_contain_text("up to 25 MB each")
        desk.locator("#reply-body").fill("Is this the dialog you see?")
        desk.locator("#reply-files").set_input_files(str(picture))
        desk.locator("#reply").get_by_role("button", name="Send").click()
        shown = desk.locator('#timeline img[alt="error-dialog.png"]')
        expect(shown).to_be_visible()
        expect(desk.locator("#timeline")).to_contain_text("Is this the dialog you see?")
        assert _drawn(shown) == 240
        desk.screenshot(path=str(screenshots / "ticket-reply-picture.png"), full_page=True)

    with sized_page(browser, files_server, "desktop", 15_000) as portal:
        _sign_in(portal, REQUESTER)
        portal.goto(f"/portal/tickets/{key}")
        seen = portal.locator('#conversation img[alt="error-dialog.png"]')
        expect(seen).to_be_visible()
        assert _drawn(seen) == 240  # drawn in the page, not a download
        served = portal.request.get(str(seen.get_attribute("src")))
        assert served.headers["content-type"] == "image/png"
        assert served.headers["content-disposition"].startswith("inline;")
        assert served.headers["content-security-policy"] == "sandbox"
        expect(portal.locator("#reply-files-help")).to_contain_text("Accepted: .png")
        portal.locator("#conversation").scroll_into_view_if_needed()
        portal.screenshot(path=str(screenshots / "portal-reply-picture.png"), full_page=True)


def test_a_pdf_on_a_reply_opens_in_the_browsers_viewer(
    browser: Any, files_server: str, tmp_path: Path
) -> None:
    """A PDF is shown, not downloaded: the link opens a tab that Chromium's PDF viewer
    draws (its frame is there), under the same `Content-Security-Policy: sandbox` as
    pictures."""
    from playwright.sync_api import expect

    invoice = tmp_path / "invoice.pdf"
    invoice.write_bytes(pdf_document("Invoice 2026-12"))
    with sized_page(browser, files_server, "desktop", 15_000) as desk:
        _sign_in(desk, AGENT)
        desk.goto("/desk/queues/my_teams")
        first = desk.locator("table.queue tbody tr a").first
        key = first.inner_text()
        first.click()
        desk.wait_for_url(re.compile(rf"/desk/tickets/{key}$"))
        desk.locator("#reply-body").fill("The invoice you asked for.")
        desk.locator("#reply-files").set_input_files(str(invoice))
        desk.locator("#reply").get_by_role("button", name="Send").click()
        expect(desk.locator("#timeline")).to_contain_text("invoice.pdf")

    with sized_page(browser, files_server, "desktop", 15_000) as portal:
        _sign_in(portal, REQUESTER)
        portal.goto(f"/portal/tickets/{key}")
        downloads: list[Any] = []
        portal.context.on("download", lambda download: downloads.append(download))
        link = portal.locator("#conversation a", has_text="invoice.pdf").first
        with portal.context.expect_page() as opened:
            link.click()
        tab = opened.value
        tab.wait_for_load_state("load", timeout=15_000)
        assert tab.evaluate("document.contentType") == "application/pdf"
        assert re.search(r"/portal/attachments/[^/?]+$", tab.url), tab.url
        assert downloads == []
        assert portal.request.get(tab.url).headers["content-security-policy"] == "sandbox"
        # Chromium's PDF viewer draws the document in a frame of its own.
        viewer = lambda: [f.url for f in tab.frames if f.url.startswith("chrome-extension://")]  # noqa: E731
        for _ in range(50):
            if viewer():
                break
            tab.wait_for_timeout(100)
        assert viewer(), [f.url for f in tab.frames]
        tab.close()
