"""One `gongdan serve --demo` (SQLite) shared by the HTTP-level security tests of a
module, with small throttling limits so a test reaches them quickly and
127.0.0.1 as its trusted proxy (so a test can say it came over HTTPS)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.ui.security.server import Served, served

SETTINGS = {
    "GONGDAN_TRUSTED_PROXIES": "127.0.0.1",
    "GONGDAN_SIGNIN_LIMIT": "3",
    "GONGDAN_SIGNIN_IP_LIMIT": "1000",
    "GONGDAN_SIGNIN_WINDOW_SECONDS": "120",
    "GONGDAN_TOKEN_FAILURE_LIMIT": "5",
}


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with served(tmp_path_factory.mktemp("served"), **SETTINGS) as running:
        yield running
