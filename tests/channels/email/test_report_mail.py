"""Mailed reports (`kind: Report` with `mail:`): due at the schedule's instants in the
default calendar's zone (Asia/Shanghai here), claimed once in the database however
many schedulers run, sent through the outbox by real SMTP on loopback (aiosmtpd) with
the CSV attached and a summary in each recipient's language.

2026-11-09 is a Monday; the weekly mail due then covers Mon 2 - Sun 8 Nov."""

from __future__ import annotations

import csv
import io
import threading
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from gongdan.bundle.compiled import Bundle
from gongdan.bundle.loader import load_bundle
from gongdan.channels import channels_for
from gongdan.channels.email.notifier import SmtpNotifier
from gongdan.channels.email.settings import SmtpSettings
from gongdan.engine.automation.report_mail import covered_period, latest_due, run_report_mail
from gongdan.engine.outbox.runner import InProcessRunner
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import Outbox, ReportMailing, User
from gongdan.engine.unit_of_work import NO_BUNDLE, begin_write
from gongdan.rules.workflow import Actor
from tests.channels.email.conftest import OUR_ADDRESS, Inbox, drain, mail_bundle_dir
from tests.factories import make_user

SH = ZoneInfo("Asia/Shanghai")
WEEKLY = """\
kind: Report
id: weekly_by_category
title: {en: Incidents by category, zh-CN: 故障按类别}
measure: count
group_by: [category]
filter: {type: incident}
chart: bar
mail: {every: monday 09:00, to: [{team: desk}, {user: boss@example.com}]}
"""


def sh(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SH)


@pytest.fixture(scope="module")
def report_bundle(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    root = tmp_path_factory.mktemp("report_mail")
    return load_bundle(mail_bundle_dir(root, {"reports/weekly.yaml": WEEKLY}))


class Clock:
    def __init__(self) -> None:
        self.now = sh(3, 10)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def world(db: Database, report_bundle: Bundle) -> Database:
    """Three people to mail (two agents of desk, one in Chinese; an admin named by
    address), a requester who is not mailed, and incidents: two software and one
    hardware in the week of 2 Nov, one more on Mon 9 Nov (after the period)."""
    make_user(db, "li.wei@example.com", teams=("desk",))
    make_user(db, "wang.fang@example.com", teams=("desk",))
    admin = make_user(db, "boss@example.com", "admin")
    make_user(db, "zhang.san@example.com", "requester")
    with begin_write(db, NO_BUNDLE, Actor.system(), sh(3, 9)) as ctx:
        ctx.session.execute(
            update(User).where(User.email == "li.wei@example.com").values(language="zh-CN")
        )
    clock = Clock()
    tickets = TicketService(db, report_bundle, clock=clock)
    for day, category in ((3, "software"), (4, "software"), (6, "hardware"), (9, "software")):
        clock.now = sh(day, 10)
        tickets.create_ticket(
            admin,
            "incident",
            title=f"Broken {day}",
            fields={"category": category},
            requester="zhang.san@example.com",
        )
    return db


def test_the_schedule_is_read_in_the_default_calendars_zone(report_bundle: Bundle) -> None:
    mail = report_bundle.reports["weekly_by_category"].mail
    assert mail is not None and mail.days == (0,)
    assert latest_due(mail, sh(9, 8, 59), SH) == sh(2, 9).astimezone(UTC)
    assert latest_due(mail, sh(9, 9), SH) == sh(9, 9).astimezone(UTC)
    start, end = covered_period(mail, sh(9, 9).astimezone(UTC), SH)
    assert (start, end) == (sh(2, 0).astimezone(UTC), sh(9, 0).astimezone(UTC))


def _mails(db: Database) -> list[dict[str, object]]:
    with db.reading() as session:
        rows = session.scalars(select(Outbox).where(Outbox.topic == "report.mail"))
        return [dict(row.payload) for row in rows]


def test_a_due_report_is_written_once_for_each_recipient(
    world: Database, report_bundle: Bundle
) -> None:
    db = world
    assert run_report_mail(db, report_bundle, sh(9, 8, 59)) == 0  # 2 Nov's is > 6 h old
    assert run_report_mail(db, report_bundle, sh(9, 9, 0)) == 3
    assert run_report_mail(db, report_bundle, sh(9, 9, 1)) == 0  # claimed
    assert run_report_mail(db, report_bundle, sh(9, 14, 0)) == 0
    mails = _mails(db)
    assert sorted(str(m["email"]) for m in mails) == [
        "boss@example.com",
        "li.wei@example.com",
        "wang.fang@example.com",
    ]
    with db.reading() as session:
        claims = session.scalars(select(ReportMailing)).all()
        assert [(c.report_id, c.due_at, c.recipients) for c in claims] == [
            ("weekly_by_category", sh(9, 9).astimezone(UTC), 3)
        ]
    # The next Monday is due again.
    assert run_report_mail(db, report_bundle, sh(16, 9, 0)) == 3


def test_several_schedulers_at_once_write_one_mail_per_recipient(
    world: Database, report_bundle: Bundle
) -> None:
    db = world
    if db.engine.dialect.name != "postgresql":
        pytest.skip("concurrent writers: PostgreSQL (SQLite serialises every write)")
    url = db.engine.url.render_as_string(hide_password=False)
    others = [Database(url) for _ in range(4)]
    written: list[int] = []
    barrier = threading.Barrier(len(others))

    def one(other: Database) -> None:
        barrier.wait()
        written.append(run_report_mail(other, report_bundle, sh(9, 9, 0)))

    threads = [threading.Thread(target=one, args=(o,)) for o in others]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for other in others:
        other.dispose()
    assert sorted(written) == [0, 0, 0, 3]
    assert len(_mails(db)) == 3


def test_the_mail_carries_the_csv_and_a_summary_in_each_language(
    world: Database, report_bundle: Bundle, inbox: tuple[Inbox, int], tmp_path: Path
) -> None:
    db = world
    received, port = inbox
    settings = SmtpSettings("127.0.0.1", port, False, False, None, None, OUR_ADDRESS)
    notifier = SmtpNotifier(db, lambda: report_bundle, settings, environ={})
    runner = InProcessRunner(db, lambda: report_bundle, channels=channels_for(notifier), jobs=[])
    run_report_mail(db, report_bundle, sh(9, 9, 0))
    drain(runner)
    drain(runner)  # nothing is sent twice
    reports = [m for m in received.messages if m["X-Gongdan-Report"] == "weekly_by_category"]
    assert sorted(m["To"].addresses[0].addr_spec for m in reports) == [
        "boss@example.com",
        "li.wei@example.com",
        "wang.fang@example.com",
    ]
    english = received.to("wang.fang@example.com")[0]
    assert english["Subject"] == "Report: Incidents by category (2026-11-02 to 2026-11-08)"
    body = english.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "Period: 2026-11-02 to 2026-11-08" in text
    assert "- hardware: 1" in text and "- software: 2" in text  # options without labels
    attachment = next(english.iter_attachments())
    assert attachment.get_filename() == "weekly_by_category_2026-11-02_2026-11-08.csv"
    raw = attachment.get_payload(decode=True)
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows == [["Category", "Tickets"], ["hardware", "1"], ["software", "2"]]
    chinese = received.to("li.wei@example.com")[0]
    assert chinese["Subject"] == "报表：故障按类别（2026-11-02 至 2026-11-08）"
    zh_csv = next(chinese.iter_attachments()).get_payload(decode=True).decode("utf-8-sig")
    assert zh_csv.splitlines()[0] == "类别,工单数"
    assert "统计范围：2026-11-02 至 2026-11-08" in chinese.get_body(("plain",)).get_content()
    # The requester hears of their tickets, never of the report.
    assert all(m["X-Gongdan-Report"] is None for m in received.to("zhang.san@example.com"))
