"""`gongdan background`: the embedded background work (no broker) in one process of
its own beside the web workers, as `gongdan serve --workers N` runs it (issue 23)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from gongdan.bundle.loader import load_bundle
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import Outbox
from gongdan.ui.app import create_app
from tests.factories import make_user
from tests.helpers import wait_until
from tests.tasks.conftest import SECRET, SECRET_ENV, Receiver, webhook_bundle


def statuses(db: Database) -> list[str]:
    with db.reading() as session:
        return list(session.scalars(select(Outbox.status).order_by(Outbox.id)))


def test_beside_a_background_process_the_web_app_runs_no_background_work(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GONGDAN_BROKER_URL", raising=False)
    monkeypatch.setenv("GONGDAN_BACKGROUND", "process")
    config = webhook_bundle(tmp_path, receiver.url)
    app = create_app(config, database_url=f"sqlite:///{tmp_path / 'app.db'}")
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        assert app.state.runner is None
        agent = make_user(app.state.db, "li.wei@example.com", "agent")
        app.state.service.create_ticket(agent, "incident", title="Scanner jammed")
        assert statuses(app.state.db) == ["pending", "pending"]  # left to the process


def test_the_background_process_delivers_what_the_web_workers_write_and_stops_on_sigterm(
    db: Database, tmp_path: Path, receiver: Receiver
) -> None:
    config = webhook_bundle(tmp_path, receiver.url)
    env = {
        **os.environ,
        "GONGDAN_DATABASE_URL": db.url,
        SECRET_ENV: SECRET.decode(),
        "GONGDAN_BACKGROUND": "process",
    }
    env.pop("GONGDAN_BROKER_URL", None)
    log = (tmp_path / "background.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "gongdan.cli", "--config", str(config), "background"],
        env=env,
        stderr=log,
    )
    try:
        # A write of another process (a web worker): found by the process's poll.
        service = TicketService(db, load_bundle(config))
        agent = make_user(db, "li.wei@example.com", "agent")
        service.create_ticket(agent, "incident", title="Scanner jammed")
        (request,) = receiver.wait_for(1, timeout=30)
        assert request.signed() and request.path == "/created"
        assert wait_until(lambda: statuses(db) == ["delivered", "delivered"], 30)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=40) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()
