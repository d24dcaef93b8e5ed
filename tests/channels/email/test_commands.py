"""The mail channel as it is deployed: `gongdan mail serve` as its own process taking
mail from smtplib, `gongdan mail log`, and the Celery task `deliver_outbox` sending
mail by SMTP when `GONGDAN_SMTP_URL` is set."""

from __future__ import annotations

import os
import smtplib
import subprocess
import sys
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from gongdan import tasks
from gongdan.bundle.loader import load_bundle
from gongdan.cli import main
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import Outbox
from gongdan.rules.workflow import Actor
from tests.channels.email.conftest import OUR_ADDRESS, SUPPORT, Inbox, mail_bundle_dir
from tests.factories import make_user
from tests.helpers import free_port, wait_for_server


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[int, str, Path]]:
    """`gongdan mail serve` on a free port, on its own SQLite database."""
    config = mail_bundle_dir(tmp_path)
    url = f"sqlite:///{tmp_path / 'mail.db'}"
    port = free_port()
    env = {**os.environ, "GONGDAN_DATABASE_URL": url, "GONGDAN_DATA_DIR": str(tmp_path / "data")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gongdan.cli",
            "--config",
            str(config),
            "mail",
            "serve",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def answers() -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=2) as client:
            client.noop()

    try:
        wait_for_server(
            process,
            answers,
            timeout=30,
            name="gongdan mail serve",
            output=lambda: str(process.communicate()),
        )
        yield port, url, config
    finally:
        process.terminate()
        process.communicate(timeout=10)


def test_mail_serve_takes_mail_into_tickets(
    served: tuple[int, str, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port, url, config = served
    message = EmailMessage()
    message["From"] = "sun.li@customer.cn"
    message["To"] = SUPPORT
    message["Subject"] = "Badge reader broken"
    message.set_content("Gate 2.")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.send_message(message)

    db = Database(url)
    try:
        (ticket,) = TicketService(db, load_bundle(config)).list_tickets(Actor.system()).items
        assert (ticket.title, ticket.requester) == ("Badge reader broken", "sun.li@customer.cn")
    finally:
        db.dispose()
    monkeypatch.setenv("GONGDAN_DATABASE_URL", url)
    assert main(["mail", "log"]) == 0
    out = capsys.readouterr().out
    assert f"in  accepted {ticket.key}" in out
    assert "sun.li@customer.cn 'Badge reader broken' created" in out


def test_mail_serve_refuses_a_bundle_without_mailboxes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = mail_bundle_dir(tmp_path, {"mail/support.yaml": None})
    monkeypatch.setenv("GONGDAN_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    assert main(["--config", str(config), "mail", "serve", "--port", str(free_port())]) == 1
    assert "declares no Mailbox" in capsys.readouterr().err


def test_mail_poll_needs_an_imap_url(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GONGDAN_IMAP_URL", raising=False)
    assert main(["mail", "poll"]) == 2
    assert "set GONGDAN_IMAP_URL" in capsys.readouterr().err
    monkeypatch.setenv("GONGDAN_IMAP_URL", "http://example.com")
    assert main(["mail", "poll"]) == 2
    assert "GONGDAN_IMAP_URL must look like imap://" in capsys.readouterr().err


def test_the_celery_task_sends_mail_by_smtp(
    tmp_path: Path, inbox: tuple[Inbox, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    received, port = inbox
    config = mail_bundle_dir(tmp_path)
    url = f"sqlite:///{tmp_path / 'worker.db'}"
    db = Database(url)
    db.upgrade()
    requester = make_user(db, "he.min@customer.cn", "requester")
    key = (
        TicketService(db, load_bundle(config))
        .create_ticket(
            requester, "incident", title="Monitor flickers", fields={"category": "hardware"}
        )
        .ticket.key
    )
    with db.reading() as session:
        row_id = session.scalar(select(Outbox.id).where(Outbox.topic == "ticket.created"))
    db.dispose()
    for name, value in {
        "GONGDAN_DATABASE_URL": url,
        "GONGDAN_CONFIG_DIR": str(config),
        "GONGDAN_SMTP_URL": f"smtp://127.0.0.1:{port}",
        "GONGDAN_MAIL_FROM": OUR_ADDRESS,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(tasks, "_state", {})
    try:
        assert tasks.deliver_outbox(row_id) == "delivered"  # the task body, run here
    finally:
        if "db" in tasks._state:
            tasks._state["db"].dispose()

    (message,) = received.to("he.min@customer.cn")
    assert message["Subject"] == f"[{key}] We got it: Monitor flickers"
