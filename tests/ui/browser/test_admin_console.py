"""The admin console in a real browser, against a real `gongdan serve` on a copy of
the example config kept in a git work tree: an admin finds a file in the bundle's tree
with the keyboard, edits it as YAML, reviews the change (the diff and the plan come in
without a page load and take the focus), saves it with a message, and the commit in
the config folder carries the admin as author; the people and team pages work at
tablet width; nothing breaks the strict CSP. Screenshots with GONGDAN_SCREENSHOTS=1."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.bundles import EXAMPLE
from tests.ui.browser.conftest import demo_server
from tests.ui.browser.test_csp import RECORD

SIZES = {"desktop": {"width": 1280, "height": 900}, "tablet": {"width": 768, "height": 1024}}
TEAM = "teams/escalation.yaml"


@pytest.fixture(scope="module")
def admin_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = tmp_path_factory.mktemp("admin-server")
    config = root / "config"
    shutil.copytree(EXAMPLE, config)
    git = ["git", "-C", str(config)]
    subprocess.run([*git, "init", "--quiet"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run(
        [*git, "-c", "user.name=Ops", "-c", "user.email=ops@example.com", "commit", "-qm", "Start"],
        check=True,
    )
    with demo_server(root, "admin-browser-tests", config=config) as base:
        yield base, config


@pytest.fixture(params=sorted(SIZES))
def admin_page(
    request: pytest.FixtureRequest, browser: Any, admin_server: tuple[str, Path]
) -> Iterator[Any]:
    base, _ = admin_server
    context = browser.new_context(viewport=SIZES[request.param], base_url=base, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.size_name = request.param
    page.add_init_script(RECORD)
    errors: list[str] = []
    page.on(
        "console",
        lambda m: (
            errors.append(f"{m.text} {m.location.get('url')}")
            if m.type == "error" and not str(m.location.get("url")).endswith("/favicon.ico")
            else None
        ),
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors
    page.goto("/login")
    page.get_by_label("Email").fill("admin@example.com")
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/desk"))
    try:
        yield page
    finally:
        context.close()


def test_an_admin_edits_reviews_and_saves_a_file_with_the_keyboard(
    admin_page: Any, admin_server: tuple[str, Path], screenshots: Path
) -> None:
    from playwright.sync_api import expect

    page = admin_page
    _, config = admin_server
    page.goto("/admin")
    expect(page.get_by_role("heading", name="Active version")).to_be_visible()
    page.screenshot(path=str(screenshots / f"admin-console-{page.size_name}.png"), full_page=True)

    # To the file with the keyboard: focus its link, Enter.
    link = page.locator(f'a[href="/admin/files/{TEAM}"]')
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/admin/files/{TEAM}")
    text = page.locator("#file-text")
    original = text.input_value()
    capacity = "capacity: 9" if page.size_name == "desktop" else "capacity: 7"
    edited = re.sub(r"capacity: \d+", capacity, original, count=1)
    text.fill(edited)
    text.focus()
    page.keyboard.press("Tab")  # the message box
    page.keyboard.type(f"Capacity for the {page.size_name} test")
    page.keyboard.press("Tab")  # Review
    page.keyboard.press("Enter")
    diff = page.locator("#proposal pre.diff")
    expect(diff).to_contain_text(capacity)
    expect(page.locator("#proposal")).to_contain_text("No open ticket is affected.")
    page.wait_for_function("document.activeElement.closest('#proposal') !== null")
    page.screenshot(path=str(screenshots / f"admin-review-{page.size_name}.png"), full_page=True)

    page.get_by_role("button", name="Save and apply").click()
    expect(page.locator(".notice")).to_contain_text("is active")
    expect(page.locator(".notice")).to_contain_text("Committed to git")
    assert capacity in (config / TEAM).read_text(encoding="utf-8")
    shown = subprocess.run(
        ["git", "-C", str(config), "log", "-1", "--format=%an <%ae>|%s"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert shown == f"Admin <admin@example.com>|Capacity for the {page.size_name} test"
    assert page.evaluate("window.__csp") == [] and page.errors == []


def test_people_and_teams_at_tablet_and_desktop_width(admin_page: Any, screenshots: Path) -> None:
    from playwright.sync_api import expect

    page = admin_page
    page.goto("/admin/people")
    expect(page.get_by_role("heading", name="People")).to_be_visible()
    page.get_by_label("Email or name").fill("li.wei")
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/people?q=li.wei*")
    page.get_by_role("link", name="li.wei@example.com").click()
    expect(page.get_by_role("heading", name="API tokens")).to_be_visible()
    page.screenshot(path=str(screenshots / f"admin-person-{page.size_name}.png"), full_page=True)
    page.goto("/admin/teams/service_desk")
    expect(page.locator("#member-user-0")).to_have_value("li.wei@example.com")
    page.get_by_role("button", name="Review changes").click()
    expect(page.locator("#proposal")).to_contain_text("No changes.")
    page.screenshot(path=str(screenshots / f"admin-team-{page.size_name}.png"), full_page=True)
    page.goto("/admin/versions")
    expect(page.locator("table.versions")).to_contain_text("admin console")
    # Nothing is wider than the screen (a tablet scrolls only inside the tables).
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert page.evaluate("window.__csp") == [] and page.errors == []
