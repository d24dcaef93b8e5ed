"""Mailed reports: a `kind: Report` with `mail: {every: monday 09:00, to: [...]}` is
sent to its recipients at each due instant of its schedule, through the outbox.

The schedule is read in the report zone (`reads.reports.report_zone`: the bundle's
default calendar's), so `monday 09:00` is 09:00 in Shanghai for the example bundle.
At each run of the `report_mail` job (every minute, in every scheduler process) a
report whose latest due instant has passed, by less than `GRACE`, is claimed: a row
`(report, due instant)` in `report_mailings`, inserted only if absent, in the same
transaction as the outbox rows of its mail. Of several processes, one inserts and
writes the mail; the others insert nothing and write nothing, so a due instant is
mailed once. A scheduler that was down for longer than `GRACE` skips the instants
it missed rather than mail stale figures late.

Each recipient (the members of a team in `to`, or a user named there, if they are an
active agent or admin) gets one outbox row: the report's figures as *they* may see
them (scoped as their dashboard), over the period the schedule covers (the day
before for `daily`/`weekdays`, the 7 days before for a weekday, the month before for
`monthly`, in days of the report zone), as CSV in their language with a short
summary; the mail channel (`channels.email.report_mail`) sends it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import func, select

from gongdan.bundle.compile_reports import MailDef, ReportDef
from gongdan.bundle.compiled import Bundle
from gongdan.engine.accounts.users import actor_for
from gongdan.engine.reads.report_text import localised, report_csv, row_words
from gongdan.engine.reads.reports import ReportFilters, ReportService, ReportTable, report_zone
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import ReportMailing, User
from gongdan.engine.store.reports import claim_report_mailing
from gongdan.engine.unit_of_work import begin_write
from gongdan.errors import GongdanError
from gongdan.rules.workflow import Actor
from gongdan.vocabulary import STAFF_ROLES

__all__ = [
    "GRACE",
    "SUMMARY_ROWS",
    "TOPIC",
    "covered_period",
    "latest_due",
    "run_report_mail",
]

log = logging.getLogger(__name__)
TOPIC = "report.mail"
GRACE = timedelta(hours=6)
SUMMARY_ROWS = 10  # rows of the figures written in the mail's body (all are in the CSV)
LANGUAGES = ("en", "zh-CN")


def latest_due(mail: MailDef, now: datetime, zone: tzinfo) -> datetime | None:
    """The latest instant of the schedule at or before `now` (UTC), None if none in
    the last 32 days."""
    local = now.astimezone(zone)
    for back in range(32):
        day = local.date() - timedelta(days=back)
        if (day.day != 1) if mail.every == "monthly" else (day.weekday() not in mail.days):
            continue
        at = datetime.combine(day, time(mail.hour, mail.minute), tzinfo=zone)
        if at <= local:
            return at.astimezone(UTC)
    return None


def covered_period(mail: MailDef, due: datetime, zone: tzinfo) -> tuple[datetime, datetime]:
    """The [start, end) a mail due at `due` reports on, in whole days of `zone`."""
    day = due.astimezone(zone).date()
    if mail.every == "monthly":
        start_day = (day.replace(day=1) - timedelta(days=1)).replace(day=1)
        end_day = day.replace(day=1)
    else:
        end_day = day
        start_day = day - timedelta(days=1 if mail.every in ("daily", "weekdays") else 7)

    def midnight(d: date) -> datetime:
        return datetime.combine(d, time(), tzinfo=zone).astimezone(UTC)

    return midnight(start_day), midnight(end_day)


def _recipients(session: Any, bundle: Bundle, mail: MailDef) -> list[User]:
    emails: dict[str, None] = {}
    for team_id in mail.teams:
        team = bundle.teams.get(team_id)
        for member in team.members if team is not None else ():
            emails[member.user.lower()] = None
    for email in mail.users:
        emails[email.lower()] = None
    if not emails:
        return []
    users = session.scalars(
        select(User).where(func.lower(User.email).in_(sorted(emails)), User.active.is_(True))
    )
    return sorted((u for u in users if u.role in STAFF_ROLES), key=lambda u: u.email)


def _summary(
    bundle: Bundle, report: ReportDef, table: ReportTable, lang: str, period: tuple[str, str]
) -> str:
    """A few lines for the mail's body: the period, then the first rows in words."""
    zh = lang == "zh-CN"
    lines = [
        f"{localised(report.title, lang)}",
        (f"统计范围：{period[0]} 至 {period[1]}" if zh else f"Period: {period[0]} to {period[1]}"),
        "",
    ]
    if not table.rows:
        lines.append("没有符合条件的工单。" if zh else "No tickets match.")
    for row in table.rows[:SUMMARY_ROWS]:
        *words, value = row_words(bundle, report, row, lang)
        shown = "" if value is None else str(value)
        lines.append(f"- {' · '.join(str(w) for w in words) or '='}: {shown}")
    more = len(table.rows) - SUMMARY_ROWS
    if more > 0:
        lines.append(
            f"（另有 {more} 行，见附件 CSV）" if zh else f"(and {more} more rows in the CSV)"
        )
    lines += ["", "完整数据见附件 CSV。" if zh else "The figures are attached as CSV."]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True, slots=True)
class _Person:
    email: str
    name: str
    language: str


def _mail_payload(
    bundle: Bundle,
    report: ReportDef,
    table: ReportTable,
    user: _Person,
    due: datetime,
    start: datetime,
    end: datetime,
    zone: tzinfo,
) -> dict[str, Any]:
    lang = user.language if user.language in LANGUAGES else "en"
    first = start.astimezone(zone).date().isoformat()
    last = (end.astimezone(zone).date() - timedelta(days=1)).isoformat()
    title = localised(report.title, lang)
    subject = (
        f"报表：{title}（{first} 至 {last}）"
        if lang == "zh-CN"
        else (f"Report: {title} ({first} to {last})")
    )
    return {
        "report": report.id,
        "due_at": due,
        "email": user.email,
        "name": user.name,
        "language": lang,
        "subject": subject,
        "summary": _summary(bundle, report, table, lang, (first, last)),
        "filename": f"{report.id}_{first}_{last}.csv",
        "csv": report_csv(bundle, table, lang).decode("utf-8"),
    }


def run_report_mail(db: Database, bundle: Bundle, now: datetime) -> int:
    """Mail each report whose schedule is due (see the module doc); returns the
    number of mails written to the outbox by this process."""
    zone = report_zone(bundle)
    reports = ReportService(db, bundle, clock=lambda: now)
    written = 0
    for report in bundle.reports.values():
        if report.mail is None:
            continue
        due = latest_due(report.mail, now, zone)
        if due is None or now - due >= GRACE or _claimed(db, report.id, due):
            continue
        start, end = covered_period(report.mail, due, zone)
        with db.reading() as session:
            people = [
                (_Person(u.email, u.name, u.language), actor_for(session, u))
                for u in _recipients(session, bundle, report.mail)
            ]
        payloads = []
        for user, actor in people:
            try:
                table = reports.run_report(actor, report.id, ReportFilters(start=start, end=end))
            except GongdanError as error:  # e.g. a filter of a field removed since
                log.warning("report %s not mailed to %s: %s", report.id, user.email, error)
                continue
            payloads.append(_mail_payload(bundle, report, table, user, due, start, end, zone))
        with begin_write(db, bundle, Actor.system(), now) as ctx:
            if not claim_report_mailing(ctx.session, report.id, due, now, len(payloads)):
                continue  # another process claimed this instant first
            for payload in payloads:
                ctx.outbox(TOPIC, payload)
            written += len(payloads)
        log.info("report %s due %s mailed to %d people", report.id, due, len(payloads))
    return written


def _claimed(db: Database, report_id: str, due: datetime) -> bool:
    with db.reading() as session:
        found = session.get(ReportMailing, (report_id, due))
        return found is not None
