"""A real server and a real browser: `gongdan serve --demo` on 127.0.0.1 (a free port, a
SQLite file, the example config) driven by Playwright with Debian's chromium.

The tests skip, saying why, when chromium or Playwright is missing, except when
`GONGDAN_REQUIRE_SERVICES=1` (CI), where they fail instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.bundles import EXAMPLE
from tests.helpers import free_port, wait_for_server

CHROMIUM = os.environ.get("GONGDAN_CHROMIUM", "/usr/bin/chromium")
REQUIRE = os.environ.get("GONGDAN_REQUIRE_SERVICES") == "1"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _missing(reason: str) -> None:
    if REQUIRE:
        pytest.fail(f"{reason} (GONGDAN_REQUIRE_SERVICES=1: browser tests must run in CI)")
    pytest.skip(reason)


@contextmanager
def demo_server(root: Path, secret: str, config: Path = EXAMPLE, **settings: str) -> Iterator[str]:
    """`gongdan serve --demo` of the example config in a process of its own, on a free
    port, with its SQLite file at `root/gongdan.db`, its files in `root/data` and its
    log in `root/server.log`, serving the config folder `config` (a copy, for a test
    that saves config changes); yields its base URL (also its GONGDAN_BASE_URL, for the
    links in its mails) and stops it on exit. `settings`: more environment variables."""
    base = f"http://127.0.0.1:{free_port()}"
    env = {
        **os.environ,
        "GONGDAN_DATABASE_URL": f"sqlite:///{root / 'gongdan.db'}",
        "GONGDAN_DATA_DIR": str(root / "data"),
        "GONGDAN_SECRET_KEY": secret,
        "GONGDAN_BASE_URL": base,
        **settings,
    }
    env.pop("GONGDAN_BROKER_URL", None)  # the server relays its outbox itself
    command = [
        sys.executable, "-c", "from gongdan.cli import run; run()", "serve", "--demo",
        "--config", str(config), "--host", "127.0.0.1", "--port", base.rsplit(":", 1)[1],
    ]  # fmt: skip
    log_path = root / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for_server(
                process,
                lambda: urllib.request.urlopen(f"{base}/healthz", timeout=1).close(),  # noqa: S310
                timeout=60,
                name="gongdan serve --demo",
                output=lambda: log_path.read_text(errors="replace"),
            )
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a `gongdan serve --demo` process of its own."""
    with demo_server(tmp_path_factory.mktemp("server"), "browser-tests") as base:
        yield base


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        _missing(f"chromium is not installed at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright is not installed (pip install playwright)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where screenshots go: `docs/screenshots/` with `GONGDAN_SCREENSHOTS=1`, else a
    temporary directory (so ordinary test runs leave the repository alone)."""
    if os.environ.get("GONGDAN_SCREENSHOTS") == "1":
        target = Path(__file__).parents[3] / "docs" / "screenshots"
        target.mkdir(parents=True, exist_ok=True)
        return target
    return tmp_path


SIZES = {"desktop": {"width": 1280, "height": 900}, "mobile": {"width": 390, "height": 844}}


@contextmanager
def sized_page(browser: Any, base: str, size: str, timeout_ms: int) -> Iterator[Any]:
    """A page of a new browser context on `base` at one of SIZES (its name on
    `page.size_name`), waiting at most `timeout_ms` for what it expects; closed on exit."""
    context = browser.new_context(
        viewport=SIZES[size], base_url=base, locale="en-GB", is_mobile=size == "mobile"
    )
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    page.size_name = size
    try:
        yield page
    finally:
        context.close()


@pytest.fixture(params=sorted(SIZES))
def page(request: pytest.FixtureRequest, browser: Any, server: str) -> Iterator[Any]:
    """A page on the shared server, once at desktop size and once at 390 px (`size_name`)."""
    with sized_page(browser, server, request.param, 10_000) as page:
        yield page
