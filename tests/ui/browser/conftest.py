"""A real server and a real browser: `gongdan serve --demo` on 127.0.0.1 (a free port, a
SQLite file, the example config) driven by Playwright with Debian's chromium.

The tests skip, saying why, when chromium or Playwright is missing, except when
`GONGDAN_REQUIRE_SERVICES=1` (CI), where they fail instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.bundles import EXAMPLE

CHROMIUM = os.environ.get("GONGDAN_CHROMIUM", "/usr/bin/chromium")
REQUIRE = os.environ.get("GONGDAN_REQUIRE_SERVICES") == "1"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _missing(reason: str) -> None:
    if REQUIRE:
        pytest.fail(f"{reason} (GONGDAN_REQUIRE_SERVICES=1: browser tests must run in CI)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a `gongdan serve --demo` process of its own."""
    root = tmp_path_factory.mktemp("server")
    port = _free_port()
    env = {
        **os.environ,
        "GONGDAN_DATABASE_URL": f"sqlite:///{root / 'gongdan.db'}",
        "GONGDAN_DATA_DIR": str(root / "data"),
        "GONGDAN_SECRET_KEY": "browser-tests",
    }
    env.pop("GONGDAN_BROKER_URL", None)
    command = [
        sys.executable, "-c", "from gongdan.cli import run; run()",
        "serve", "--demo", "--config", str(EXAMPLE), "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip
    log = (root / "server.log").open("wb")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process, root / "server.log")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_until_up(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server did not answer /healthz:\n{log.read_text(errors='replace')}")


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


@pytest.fixture(params=sorted(SIZES))
def page(request: pytest.FixtureRequest, browser: Any, server: str) -> Iterator[Any]:
    """A page on the shared server, once at desktop size and once at 390 px (`size_name`)."""
    context = browser.new_context(
        viewport=SIZES[request.param],
        base_url=server,
        locale="en-GB",
        is_mobile=request.param == "mobile",
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.size_name = request.param
    yield page
    context.close()
