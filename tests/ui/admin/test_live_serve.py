"""A change saved in the console is live without a restart, against real servers: two
`gongdan serve` processes on one PostgreSQL database (the live-reload test's
fixture); an admin signed in to one saves a new ticket type through the YAML page, and
both serve it within 5 s; the activation is recorded as the admin's edit (source
`editor`), not as a file change."""

from __future__ import annotations

import http.cookiejar
import urllib.parse
import urllib.request
from pathlib import Path

from gongdan.engine import version_log
from gongdan.engine.accounts.service import AccountService
from gongdan.engine.store.database import Database
from tests.engine.lifecycle.test_promote import NEW_TYPE
from tests.helpers import wait_until
from tests.ui.conftest import PASSWORD, page_token
from tests.ui.test_reload_servers import call, servers

__all__ = ["servers"]


class Browser:
    """A cookie-keeping client of one server, posting forms as a browser does."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        self.csrf = ""

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=10) as response:
            text: str = response.read().decode()
        self.csrf = page_token(text)
        return text

    def post(self, path: str, form: dict[str, str]) -> tuple[int, str]:
        data = urllib.parse.urlencode({"csrf_token": self.csrf, **form}).encode()
        try:
            with self.opener.open(self.base + path, data=data, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


def test_a_saved_change_is_live_in_every_server_without_a_restart(
    servers: tuple[list[int], Path, Database],
) -> None:
    ports, root, db = servers
    AccountService(db).add_user("admin@example.com", role="admin", name="Ana", password=PASSWORD)
    schema = "/api/v1/config/ticket-types/question/schema"
    assert all(call(p, schema)[0] == 404 for p in ports)

    browser = Browser(ports[0])
    browser.get("/login")
    status, _ = browser.post("/login", {"email": "admin@example.com", "password": PASSWORD})
    assert status == 200  # (redirected to the desk)
    browser.get("/admin/files-new")
    status, page = browser.post(
        "/admin/files/save",
        {
            "path": "ticket_types/question.yaml",
            "base": "",
            "text": NEW_TYPE,
            "new": "1",
            "message": "Questions",
        },
    )
    assert status == 200 and "is active" in page, page[-2000:]

    assert wait_until(lambda: all(call(p, schema)[0] == 200 for p in ports), 5)
    latest = version_log(db)[0]
    assert (latest.source, latest.activated_by) == ("editor", "Ana <admin@example.com>")
    assert (root / "ticket_types/question.yaml").read_text(encoding="utf-8") == NEW_TYPE
    assert {call(p, "/healthz")[1]["config_version"] for p in ports} == {latest.version}
