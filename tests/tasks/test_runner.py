"""The in-process runner (`gongdan serve` without a broker): it relays and delivers the
outbox and runs the scheduled jobs in background threads, started and stopped with
the web app."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from gongdan import tasks
from gongdan.bundle.compiled import Bundle
from gongdan.bundle.loader import load_bundle
from gongdan.channels import channels_for
from gongdan.cli import main
from gongdan.engine.outbox.relay import lease_from_env, relay_once
from gongdan.engine.outbox.runner import SCHEDULED_JOBS, InProcessRunner, ScheduledJob, find_job
from gongdan.engine.service import TicketService, utc_now
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import Outbox
from gongdan.ui.app import create_app
from tests.factories import make_user
from tests.helpers import wait_until
from tests.tasks.conftest import SECRET, SECRET_ENV, Receiver, webhook_bundle


def statuses(db: Database) -> list[str]:
    with db.reading() as session:
        return list(session.scalars(select(Outbox.status).order_by(Outbox.id)))


def test_the_runner_delivers_the_outbox_and_runs_scheduled_jobs(
    db: Database, tmp_path: Path, receiver: Receiver
) -> None:
    bundle = load_bundle(webhook_bundle(tmp_path, receiver.url))
    service = TicketService(db, bundle)
    agent = make_user(db, "li.wei@example.com", "agent")
    ran: list[tuple[str, datetime]] = []

    def sweep(_db: Database, loaded: Bundle, now: datetime) -> None:
        ran.append((loaded.version, now))

    runner = InProcessRunner(
        db,
        lambda: bundle,
        interval=0.05,
        channels=channels_for(environ={SECRET_ENV: SECRET.decode()}),
        jobs=[ScheduledJob("sweep", 0.2, sweep)],
    )
    runner.start()
    try:
        keys = [
            service.create_ticket(agent, "incident", title=f"T{n}").ticket.key for n in range(5)
        ]
        assert wait_until(lambda: statuses(db) == ["delivered"] * 10, 15)
        assert wait_until(lambda: len(ran) >= 2, 15)
    finally:
        runner.stop()
    assert runner._thread is None
    assert {r.path for r in receiver.requests} == {"/created"}
    assert len(receiver.deliveries()) == len(keys) == len(receiver.requests)
    assert all(r.signed() for r in receiver.requests)
    assert {version for version, _ in ran} == {bundle.version}


def test_the_web_app_runs_background_work_when_there_is_no_broker(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GONGDAN_BROKER_URL", raising=False)
    monkeypatch.setenv(SECRET_ENV, SECRET.decode())
    config = webhook_bundle(tmp_path, receiver.url)
    app = create_app(config, database_url=f"sqlite:///{tmp_path / 'app.db'}")
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        runner = app.state.runner
        assert isinstance(runner, InProcessRunner)
        agent = make_user(app.state.db, "li.wei@example.com", "agent")
        app.state.service.create_ticket(agent, "incident", title="Scanner jammed")
        (request,) = receiver.wait_for(1, timeout=15)
        assert request.signed() and request.path == "/created"
        assert wait_until(lambda: statuses(app.state.db) == ["delivered", "delivered"], 15)
    assert runner._thread is None  # stopped with the app


def test_with_a_broker_the_web_app_leaves_background_work_to_celery(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GONGDAN_BROKER_URL", "redis://127.0.0.1:6379/0")
    config = webhook_bundle(tmp_path, receiver.url)
    app = create_app(config, database_url=f"sqlite:///{tmp_path / 'app.db'}")
    with TestClient(app):
        assert app.state.runner is None


def test_gongdan_worker_needs_a_broker(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GONGDAN_BROKER_URL", raising=False)
    assert main(["worker", "--concurrency", "2"]) == 2
    assert "set GONGDAN_BROKER_URL" in capsys.readouterr().err


def test_the_celery_app_acks_late_and_beat_runs_the_relay_and_every_scheduled_job() -> None:
    conf = tasks.app.conf
    assert (conf.task_acks_late, conf.worker_prefetch_multiplier) == (True, 1)
    assert (conf.task_serializer, list(conf.accept_content)) == ("json", ["json"])
    assert conf.beat_schedule["relay-outbox"]["task"] == tasks.relay_outbox.name
    assert conf.beat_schedule["relay-outbox"]["schedule"] == 2.0
    job = ScheduledJob("close_after", 30, lambda _db, _bundle, _now: None)
    SCHEDULED_JOBS.append(job)
    try:
        entry = tasks._beat_schedule()["job:close_after"]
        assert (entry["task"], entry["args"], entry["schedule"]) == (
            tasks.run_scheduled_job.name,
            ("close_after",),
            30,
        )
        assert find_job("close_after") is job
    finally:
        SCHEDULED_JOBS.remove(job)
    with pytest.raises(KeyError):
        find_job("close_after")


def test_after_a_crash_the_in_process_runner_redelivers_after_the_configured_lease(
    db: Database, tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Finding 10 of issue 20: only Celery read GONGDAN_OUTBOX_LEASE_SECONDS, so rows
    # claimed by a runner that died waited the 120 s default.
    monkeypatch.setenv("GONGDAN_OUTBOX_LEASE_SECONDS", "1")
    bundle = load_bundle(webhook_bundle(tmp_path, receiver.url))
    agent = make_user(db, "li.wei@example.com", "agent")
    TicketService(db, bundle).create_ticket(agent, "incident", title="Scanner jammed")
    channels = channels_for(environ={SECRET_ENV: SECRET.decode()})
    crashed = InProcessRunner(db, lambda: bundle, channels=channels, jobs=[])
    assert crashed.lease.total_seconds() == 1
    # The runner claims both rows and dies before delivering them.
    claimed = relay_once(db, lambda _row: None, utc_now(), 100, lease=crashed.lease)
    assert claimed == 2 and statuses(db) == ["pending", "pending"]
    runner = InProcessRunner(db, lambda: bundle, interval=0.1, channels=channels, jobs=[])
    runner.start()
    try:
        assert wait_until(lambda: statuses(db) == ["delivered", "delivered"], 10)
    finally:
        runner.stop()
    assert len(receiver.requests) == 1  # the webhook (the other row is a mail)


def test_a_lease_setting_that_is_not_a_number_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="GONGDAN_OUTBOX_LEASE_SECONDS='soon'"):
        lease_from_env({"GONGDAN_OUTBOX_LEASE_SECONDS": "soon"})
    assert lease_from_env({}).total_seconds() == 120
