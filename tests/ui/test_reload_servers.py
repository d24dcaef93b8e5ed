"""Two real `gongdan serve` processes on one PostgreSQL database, as behind a load
balancer: a ticket type added to the config folder is served by both within 5 s; a
broken file leaves both on the active version, reporting the errors; fixing it moves
both on; a stream of API creates through all of it sees no failed request."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gongdan.engine.accounts.service import AccountService
from gongdan.engine.store.database import Database
from gongdan.rules.workflow import Actor
from tests.bundles import make_bundle
from tests.conftest import _truncate
from tests.engine.lifecycle.test_promote import BROKEN_TYPE, NEW_TYPE
from tests.helpers import free_port, wait_for_server, wait_until

FIXED_TYPE = NEW_TYPE.replace("question", "broken").replace("answer", "fixed").replace("QST", "BRK")


def call(port: int, path: str, *, token: str | None = None, body: Any = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={
            "Content-Type": "application/json",
            **({"Authorization": f"Bearer {token}"} if token else {}),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


class Load(threading.Thread):
    """API creates, alternating between the servers, until stopped."""

    def __init__(self, ports: list[int], token: str) -> None:
        super().__init__(daemon=True)
        self.ports, self.token = ports, token
        self.done = 0
        self.failures: list[str] = []
        self.halt = threading.Event()

    def run(self) -> None:
        body = {"type": "incident", "title": "Load", "fields": {"category": "software"}}
        while not self.halt.is_set():
            port = self.ports[self.done % len(self.ports)]
            try:
                status, answer = call(port, "/api/v1/tickets", token=self.token, body=body)
            except OSError as error:
                status, answer = 0, str(error)
            if status != 201:
                self.failures.append(f"{port}: {status} {answer}")
            self.done += 1
            time.sleep(0.02)


@pytest.fixture
def servers(tmp_path: Path, postgres_url: str) -> Iterator[tuple[list[int], Path, Database]]:
    db = Database(postgres_url)
    _truncate(db)
    root = make_bundle(tmp_path)
    env = {
        **os.environ,
        "GONGDAN_DATABASE_URL": postgres_url,
        "GONGDAN_CONFIG_DIR": str(root),
        "GONGDAN_CONFIG_RELOAD": "watch",
    }
    ports = [free_port(), free_port()]
    logs = [tmp_path / f"serve-{port}.log" for port in ports]
    processes = []
    for port, log in zip(ports, logs, strict=True):
        with log.open("wb") as out:
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "gongdan.cli", "serve", "--port", str(port)],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
    try:
        for process, port, log in zip(processes, ports, logs, strict=True):
            wait_for_server(
                process,
                lambda port=port: call(port, "/healthz"),  # type: ignore[misc]
                timeout=60,
                name=f"gongdan serve :{port}",
                output=log.read_text,
            )
        yield ports, root, db
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        db.dispose()


def test_two_servers_follow_the_folder_through_a_broken_change_without_a_failed_request(
    servers: tuple[list[int], Path, Database],
) -> None:
    ports, root, db = servers
    accounts = AccountService(db)
    accounts.add_user("admin@example.com", role="admin")
    accounts.add_user("req@example.com", role="requester")
    admin = accounts.create_token(Actor.system(), "admin@example.com", "test")[1]
    requester = accounts.create_token(Actor.system(), "req@example.com", "test")[1]
    first = {call(p, "/healthz")[1]["config_version"] for p in ports}
    assert len(first) == 1

    load = Load(ports, requester)
    load.start()
    phases = [0]

    def through(condition: Callable[[], bool]) -> bool:
        """Wait up to 5 s for `condition`, then for one more create of the load: creates
        ran through every phase."""
        held = wait_until(condition, 5)
        wait_until(lambda: load.done > phases[-1], 30)
        phases.append(load.done)
        return held

    try:
        # A new ticket type: both serve it within 5 s.
        (root / "ticket_types" / "question.yaml").write_text(NEW_TYPE, encoding="utf-8")
        schema = "/api/v1/config/ticket-types/question/schema"
        assert through(lambda: all(call(p, schema)[0] == 200 for p in ports))
        second = {call(p, "/healthz")[1]["config_version"] for p in ports}
        assert len(second) == 1 and second != first

        # A broken file: both keep that version and report the errors.
        broken = root / "ticket_types" / "broken.yaml"
        broken.write_text(BROKEN_TYPE, encoding="utf-8")
        assert through(lambda: all(call(p, "/healthz")[1]["config_errors"] > 0 for p in ports))
        for port in ports:
            assert call(port, "/healthz")[1]["config_version"] in second
            status = call(port, "/api/v1/config/status", token=admin)[1]
            assert status["errors"][0].startswith(f"{broken}:5:"), status

        # Fixed: both move on.
        broken.write_text(FIXED_TYPE, encoding="utf-8")
        fixed = "/api/v1/config/ticket-types/broken/schema"
        assert through(lambda: all(call(p, fixed)[0] == 200 for p in ports))
        assert all(call(p, "/healthz")[1]["config_errors"] == 0 for p in ports)
    finally:
        load.halt.set()
        load.join(timeout=30)
    assert load.failures == []
    assert phases == sorted(set(phases)) and len(phases) == 4  # creates in every phase
