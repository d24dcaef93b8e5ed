"""IMAP polling against a real IMAP server on loopback (pymap's in-memory backend, run
as its own process): unseen mail becomes tickets, is marked seen, and a second poll
takes nothing twice."""

from __future__ import annotations

import imaplib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from gongdan.bundle.compiled import Bundle
from gongdan.channels.email.imap import PollResult, poll_mailbox
from gongdan.channels.email.intake import MailIntake
from gongdan.channels.email.settings import ImapSettings
from gongdan.engine.outbox.mail_log import list_mail
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.rules.workflow import Actor
from tests.channels.email.conftest import OUR_ADDRESS, SUPPORT
from tests.helpers import free_port, wait_for_server, wait_until

USER, PASSWORD = "desk", "imap-test-password"


@pytest.fixture
def imap_server() -> Iterator[ImapSettings]:
    pymap = shutil.which("pymap", path=str(Path(sys.executable).parent))
    if pymap is None:
        pytest.fail("pymap (a dev dependency) is not installed")
    port = free_port()
    process = subprocess.Popen(
        [pymap, "--host", "127.0.0.1", "--port", str(port), "--no-tls", "dict",
         "--demo-user", USER, "--demo-password", PASSWORD],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_server(
            process,
            lambda: imaplib.IMAP4("127.0.0.1", port, timeout=1).logout(),
            timeout=15,
            name="the pymap IMAP server",
        )
        yield ImapSettings("127.0.0.1", port, False, USER, PASSWORD, "INBOX")
    finally:
        process.terminate()
        process.wait(10)


def deliver_to_mailbox(settings: ImapSettings, *messages: EmailMessage) -> None:
    client = imaplib.IMAP4(settings.host, settings.port, timeout=5)
    client.login(settings.user, settings.password)
    for message in messages:
        client.append("INBOX", None, None, message.as_bytes())
    client.logout()


def unseen(settings: ImapSettings) -> int:
    client = imaplib.IMAP4(settings.host, settings.port, timeout=5)
    client.login(settings.user, settings.password)
    client.select("INBOX")
    _, data = client.uid("SEARCH", "UNSEEN")
    client.logout()
    return len((data[0] or b"").split())


def message(sender: str, subject: str, **headers: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, SUPPORT, subject
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    mail.set_content("Details inside.")
    return mail


def test_polling_takes_unseen_mail_once(
    imap_server: ImapSettings, db: Database, mail_bundle: Bundle, mail_service: TicketService
) -> None:
    deliver_to_mailbox(
        imap_server,
        message("wu.lei@customer.cn", "Scanner offline"),
        message("robot@customer.cn", "Auto: out of office", Auto_Submitted="auto-replied"),
        message("Not an address", "broken"),
    )
    intake = MailIntake(
        db, lambda: mail_bundle, service=lambda b: mail_service, our_address=OUR_ADDRESS
    )

    assert poll_mailbox(intake, imap_server, SUPPORT) == PollResult(
        accepted=1, ignored=1, rejected=1
    )
    assert unseen(imap_server) == 0
    assert poll_mailbox(intake, imap_server, SUPPORT) == PollResult()

    (ticket,) = mail_service.list_tickets(Actor.system()).items
    assert (ticket.title, ticket.requester) == ("Scanner offline", "wu.lei@customer.cn")
    assert sorted(m.status for m in list_mail(db)) == ["accepted", "ignored", "rejected"]


def test_a_wrong_password_is_an_imap_error(
    imap_server: ImapSettings, db: Database, mail_bundle: Bundle
) -> None:
    intake = MailIntake(db, lambda: mail_bundle, our_address=OUR_ADDRESS)
    wrong = ImapSettings(imap_server.host, imap_server.port, False, USER, "nope", "INBOX")
    with pytest.raises(imaplib.IMAP4.error):
        poll_mailbox(intake, wrong, SUPPORT)


def test_mail_poll_command_and_the_celery_task(
    imap_server: ImapSettings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from gongdan import tasks
    from gongdan.bundle.loader import load_bundle
    from gongdan.cli import main
    from tests.channels.email.conftest import mail_bundle_dir

    config = mail_bundle_dir(tmp_path)
    url = f"sqlite:///{tmp_path / 'poll.db'}"
    s = imap_server
    for name, value in {
        "GONGDAN_DATABASE_URL": url,
        "GONGDAN_CONFIG_DIR": str(config),
        "GONGDAN_DATA_DIR": str(tmp_path / "data"),
        "GONGDAN_IMAP_URL": f"imap://{s.user}:{s.password}@{s.host}:{s.port}/INBOX",
    }.items():
        monkeypatch.setenv(name, value)
    deliver_to_mailbox(s, message("qian.yu@customer.cn", "Keyboard missing keys"))

    assert main(["--config", str(config), "mail", "poll"]) == 0
    assert capsys.readouterr().out == "1 accepted, 0 ignored, 0 rejected\n"

    deliver_to_mailbox(s, message("qian.yu@customer.cn", "Mouse too"))
    monkeypatch.setattr(tasks, "_state", {})
    try:
        assert tasks.poll_mail() == "PollResult(accepted=1, ignored=0, rejected=0)"
    finally:
        tasks._state["db"].dispose()

    db = Database(url)
    try:
        titles = sorted(
            t.title
            for t in TicketService(db, load_bundle(config)).list_tickets(Actor.system()).items
        )
    finally:
        db.dispose()
    assert titles == ["Keyboard missing keys", "Mouse too"]


def test_serve_without_a_broker_polls_the_mailbox_itself(
    imap_server: ImapSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No `gongdan mail poll`, no Celery: the embedded runner of the web app takes the
    mail in on its schedule."""
    from fastapi.testclient import TestClient

    from gongdan.ui.app import create_app
    from tests.channels.email.conftest import mail_bundle_dir

    s = imap_server
    monkeypatch.delenv("GONGDAN_BROKER_URL", raising=False)
    monkeypatch.setenv("GONGDAN_IMAP_URL", f"imap://{s.user}:{s.password}@{s.host}:{s.port}/INBOX")
    monkeypatch.setenv("GONGDAN_IMAP_POLL_SECONDS", "0.5")
    monkeypatch.setenv("GONGDAN_DATA_DIR", str(tmp_path / "data"))
    app = create_app(mail_bundle_dir(tmp_path), database_url=f"sqlite:///{tmp_path / 'w.db'}")
    deliver_to_mailbox(s, message("sun.li@customer.cn", "Projector flickers"))
    with TestClient(app):  # the lifespan starts the runner

        def titles() -> list[str]:
            return [t.title for t in app.state.service.list_tickets(Actor.system()).items]

        wait_until(lambda: bool(titles()), 20, interval=0.2)
        found = titles()
    app.state.db.dispose()
    assert found == ["Projector flickers"]
    assert unseen(s) == 0
