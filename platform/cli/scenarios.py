"""Running one case of a bundle's tests (`kind: Test`) against the real engine.

Each case gets a throwaway in-memory SQLite database, the accounts it needs (every
team member of the bundle as an agent, the requester with their attributes, the
`people` of the test, an admin) and a clock that only moves when the test says so.
The ticket is created, changed and read through the engine's public API
(`gongdan.engine`: `TicketService`, routing, SLA, the scheduler's jobs, the outbox with
the logging notifier), so a test exercises exactly what production runs; nothing
here re-implements a rule. No network: webhooks are not sent, mail is only logged.

Time passing (`after: 2h`) runs the scheduler's jobs (`SCHEDULED_JOBS`) at every
instant something may fall due on the way (an SLA warning or breach, an `after:`
transition, an `on: schedule` automation's next run) and at the end, as the scheduler
would, without stepping through every minute.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from gongdan.bundle.compile_tests import Case, Check, Person, Step, Suite, Where
from gongdan.bundle.compiled import Bundle
from gongdan.engine import (
    SCHEDULED_JOBS,
    AccountService,
    Channels,
    Database,
    TicketRecord,
    TicketService,
    deliver,
    relay_once,
)
from gongdan.errors import ConfigIssue, GongdanError
from gongdan.rules.workflow import Actor

__all__ = ["CaseResult", "run_case"]

ADMIN = "admin@example.com"
TEAMLESS_AGENT = "agent@example.com"
MAX_TICKS = 20_000  # per `after:` step: far more than any real schedule needs
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
# The scheduler's jobs (`SCHEDULED_JOBS`) by what they look after.
_SLA_JOB, _AFTER_JOB, _SCHEDULE_JOB = "sla_scan", "after_transitions", "scheduled_automations"
_SLA_TARGETS = {
    "sla.first_response": "first_response_due",
    "sla.next_response": "next_response_due",
    "sla.resolution": "resolution_due",
}


@dataclass
class CaseResult:
    """What one case found: the failed checks (located) and how many checks ran."""

    case: Case
    failures: list[ConfigIssue] = field(default_factory=list)
    checks: int = 0

    @property
    def passed(self) -> bool:
        return not self.failures


class _Refused(Exception):
    """The test names someone who cannot act (no account): reported as a refusal."""


class _Sandbox:
    """One case's database, accounts and clock."""

    def __init__(self, bundle: Bundle, suite: Suite, case: Case) -> None:
        self.bundle, self.case = bundle, case
        self.now = case.ticket.created_at
        self.db = Database("sqlite://")
        self.db.upgrade()
        self.service = TicketService(self.db, bundle, clock=lambda: self.now)
        self.accounts = AccountService(self.db, bundle, clock=lambda: self.now)
        self.ids: dict[str, int] = {}
        self.last_run: dict[str, datetime] = {}
        self.key = ""
        self._people(suite, case)
        # Reads everything, internal fields included.
        self.admin = self.actor("admin")

    def close(self) -> None:
        self.db.dispose()

    # People ----------------------------------------------------------------------

    def _people(self, suite: Suite, case: Case) -> None:
        wanted: dict[str, Person] = {}
        for team in self.bundle.teams.values():
            for member in team.members:
                wanted.setdefault(member.user.lower(), Person(member.user.lower(), "agent"))
        for person in suite.people:
            wanted[person.email] = person
        requester = case.ticket.requester
        if requester.email not in wanted or requester.attributes or requester.organization:
            wanted[requester.email] = requester
        wanted.setdefault(ADMIN, Person(ADMIN, "admin"))
        wanted.setdefault(TEAMLESS_AGENT, Person(TEAMLESS_AGENT, "agent"))
        # People named in the ticket's fields (an approver…) need an account.
        for value in _values_named(case):
            wanted.setdefault(value.lower(), Person(value.lower(), "requester"))
        for person in wanted.values():
            account = self.accounts.add_user(
                person.email,
                role=person.role,
                name=person.name,
                language=person.language,
                organization=person.organization,
                attributes=person.attributes,
            )
            self.ids[person.email] = account.id
        self.accounts.sync_teams()

    def actor(self, who: str | None) -> Actor:
        """The actor `who` names now: a role resolved on the ticket, a user field's
        person, or an email; `None` is the requester."""
        email = self._email(who or "requester")
        account = self.accounts.get_account(self.ids[email]) if email in self.ids else None
        if account is None:
            raise _Refused(
                f"no account '{email}': list them under people: with their role"
                if _EMAIL.match(email)
                else f"nobody to act as '{who}' on this ticket"
            )
        return account.actor

    def _email(self, who: str) -> str:
        if who == "requester":
            return self.case.ticket.requester.email
        if who == "admin":
            return ADMIN
        if not self.key:  # creating: no ticket yet to find an agent or a field on
            return TEAMLESS_AGENT if who == "agent" else who.lower()
        ticket = self.read()
        if who == "agent":
            if ticket.assignee is not None:
                return ticket.assignee
            team = self.bundle.teams.get(ticket.team or "")
            for member in team.members if team else ():
                if member.user.lower() in self.ids:
                    return member.user.lower()
            return TEAMLESS_AGENT
        if who.startswith("field:"):
            value = ticket.data.get(who.removeprefix("field:"))
            return str(value).lower() if value else who
        return who.lower()

    def _reply(self, macro_id: str) -> str | None:
        """A macro's reply filled in for the ticket, as the desk would (its requester's
        language), by the system's name (a test names no agent)."""
        from gongdan.channels.macro_texts import Someone, reply_for_ticket  # Jinja2: only here

        macro = self.bundle.macros.get(macro_id)
        if macro is None:
            return None
        agent = Someone("Gongdan", ADMIN)
        return reply_for_ticket(self.service, self.bundle, macro, self.read(), agent) or None

    # The ticket ----------------------------------------------------------------------

    def read(self) -> TicketRecord:
        return self.service.get_ticket(self.admin, self.key)

    def create(self) -> None:
        spec = self.case.ticket
        actor = self.actor(spec.by)
        values = dict(spec.values)
        if actor.email != spec.requester.email:
            values["requester"] = spec.requester.email
        result = self.service.create_ticket(actor, spec.type, **values)
        self.key = result.ticket.key
        self.settle()

    def strategy(self) -> str | None:
        """The strategy of the latest routing decision (a new ticket's or a re-route)."""
        for event in reversed(self.service.list_events(self.admin, self.key)):
            routing = event.detail.get("routing") if event.kind == "ticket.created" else None
            detail = routing if isinstance(routing, dict) else event.detail
            if event.kind in ("ticket.created", "ticket.routed") and "strategy" in detail:
                return str(detail["strategy"]) if detail["strategy"] is not None else None
        return None

    def transitions(self, who: str) -> tuple[str, ...]:
        actor = self.actor(who)
        return tuple(t.id for t in self.service.transitions_for(actor, self.key))

    # Steps ---------------------------------------------------------------------------

    def step(self, step: Step) -> None:
        if step.duration is not None:  # after: time passes
            self.pass_time(step.duration.as_timedelta())
            return
        actor = self.actor(step.by)
        if step.action == "transition":
            self.service.take_transition(
                actor,
                self.key,
                step.value,
                fields=dict(step.fields) or None,
                comment=step.comment,
                public=not step.internal,
            )
        elif step.action == "macro":
            self.service.apply_macro(
                actor,
                self.key,
                step.value,
                reply=step.comment if step.comment is not None else self._reply(step.value),
                public=False if step.internal else None,
            )
        elif step.action == "comment":
            self.service.add_comment(actor, self.key, step.value, public=not step.internal)
        elif step.action == "update":
            self.service.update_ticket(actor, self.key, dict(step.value))
        else:  # assign
            # `assignee: null` in the test clears it ("" to the engine); left out: kept.
            clear = {k: "" if v is None else v for k, v in step.value.items()}
            self.service.assign(
                actor, self.key, team=clear.get("team"), assignee=clear.get("assignee")
            )
        self.settle()

    def settle(self) -> None:
        """Hand what the outbox holds to the logging notifier, as the relay would."""
        due: list[int] = []
        while relay_once(self.db, due.append, self.now) > 0:
            for outbox_id in due:
                deliver(self.db, outbox_id, self.now, channels=Channels())
            due.clear()

    def pass_time(self, span: timedelta) -> None:
        """Move the clock by `span`, running the scheduler's jobs at each instant one of
        them has something due on the way (only that job: the others would find
        nothing to do), and every job at the end."""
        target = self.now + span
        for _ in range(MAX_TICKS):
            due = list(self._due_after(self.now))
            self.now = min([target, *(at for at, _ in due)])
            names = {name for at, name in due if at <= self.now}
            for job in SCHEDULED_JOBS:
                if self.now >= target or job.name in names:
                    job.run(self.db, self.bundle, self.now)
            for automation in self.bundle.automations_on("schedule"):
                last = self.last_run.get(automation.id)
                every = automation.every.as_timedelta() if automation.every else None
                if every is not None and (last is None or self.now - last >= every):
                    self.last_run[automation.id] = self.now
            self.settle()
            if self.now >= target:
                return

    def _due_after(self, now: datetime) -> Iterator[tuple[datetime, str]]:
        """(instant, job) for what may fall due next: the ticket's SLA wake-up, the
        `after:` transitions out of its state, the scheduled automations' next runs."""
        ticket = self.read()
        if ticket.sla_wakeup_at is not None:
            # Due already but not handled yet: the SLA scan runs every 15 seconds.
            yield max(ticket.sla_wakeup_at, now + timedelta(seconds=15)), _SLA_JOB
        ticket_type = self.bundle.ticket_types.get(ticket.type)
        workflow = self.bundle.workflows.get(ticket_type.workflow) if ticket_type else None
        for transition in workflow.transitions_from(ticket.state) if workflow else ():
            if transition.after is not None and ticket.state_since is not None:
                at = ticket.state_since + transition.after.as_timedelta()
                if at > now:
                    yield at, _AFTER_JOB
        for automation in self.bundle.automations_on("schedule"):
            last = self.last_run.get(automation.id)
            if automation.every is not None:
                yield (last + automation.every.as_timedelta() if last else now), _SCHEDULE_JOB


def _values_named(case: Case) -> Iterator[str]:
    """Email addresses given as field values in the case (approvers and the like)."""
    given = [case.ticket.values.get("fields", {})]
    given += [dict(s.fields) for s in case.steps]
    given += [dict(s.value) for s in case.steps if s.action == "update"]
    for values in given:
        for value in values.values():
            if isinstance(value, str) and _EMAIL.match(value):
                yield value


# Checks -----------------------------------------------------------------------------


def _same(expected: Any, actual: Any) -> bool:
    if expected == actual:
        return True
    scalars = (str, int, float)
    # A decimal field holds "120.00"; the test may say 120 or 120.0.
    if isinstance(expected, scalars) and isinstance(actual, scalars):
        try:
            return float(expected) == float(actual)
        except ValueError:
            return False
    return False


def _show(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if value is None:
        return "nothing"
    return repr(value) if isinstance(value, str) else str(value)


def _check(sandbox: _Sandbox, check: Check, result: CaseResult) -> None:
    result.checks += 1
    ticket = sandbox.read()
    expected = check.expected
    if check.what == "transitions":
        try:
            actual: Any = sandbox.transitions(check.who or "agent")
        except (GongdanError, _Refused) as error:
            result.failures.append(check.where.issue(f"cannot ask for {check.who}: {error}"))
            return
        ok = sorted(actual) == sorted(expected)
    elif check.what == "tags":
        actual = list(ticket.tags)
        ok = sorted(actual) == sorted(expected)
    elif check.what in _SLA_TARGETS:
        actual = getattr(ticket, _SLA_TARGETS[check.what])
        ok = actual == expected
        if actual is not None and expected is not None:
            actual = actual.astimezone(expected.tzinfo)
    elif check.what.startswith("fields."):
        actual = ticket.data.get(check.what.removeprefix("fields."))
        ok = _same(expected, actual)
    elif check.what == "strategy":
        actual = sandbox.strategy()
        ok = actual == expected
    else:
        actual = getattr(ticket, check.what)
        ok = actual == expected
    if not ok:
        who = f" for {check.who}" if check.who else ""
        result.failures.append(
            check.where.issue(f"expected{who} {_show(expected)}, got {_show(actual)}")
        )


def _refusal(
    what: str, refused: bool | str, where: Where, error: GongdanError | None, result: CaseResult
) -> bool:
    """Whether the case goes on after a step or create (`what`) that the test expects
    `refused` or not, given the engine's `error` (None: it was done)."""
    if not refused:
        if error is None:
            return True
        result.failures.append(where.issue(f"the {what} was refused: {error}"))
        return False
    result.checks += 1
    if error is None:
        result.failures.append(where.issue(f"expected the {what} to be refused"))
        return False
    wanted = refused if isinstance(refused, str) else ""
    if wanted and wanted.lower() not in str(error).lower():
        result.failures.append(where.issue(f"expected a refusal saying {wanted!r}, got: {error}"))
    return True


def run_case(bundle: Bundle, suite: Suite, case: Case) -> CaseResult:
    """Run one case on a fresh database; every failed check is a located issue."""
    result = CaseResult(case)
    sandbox = _Sandbox(bundle, suite, case)
    spec = case.ticket
    try:
        try:
            sandbox.create()
            error = None
        except (GongdanError, _Refused) as refused:
            error = GongdanError(str(refused))
        if not _refusal("ticket", spec.refused, spec.where, error, result) or error:
            return result
        for check in case.checks:
            _check(sandbox, check, result)
        for step in case.steps:
            try:
                sandbox.step(step)
                error = None
            except (GongdanError, _Refused) as refused:
                error = GongdanError(str(refused))
            if not _refusal(step.action, step.refused, step.where, error, result):
                break
            for check in step.checks:
                _check(sandbox, check, result)
    finally:
        sandbox.close()
    return result
