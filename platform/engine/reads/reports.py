"""Reports and the dashboard: the figures of `kind: Report`, read for one actor.

Staff only (a requester is refused), scoped exactly as queues are: the actor's scope
and the page's filters are `queries.ticket_conditions`, so an agent's figures count
only the tickets their queues show. Each report is one aggregating statement
(`report_sql`); the rows that come back are the groups, ordered here (time and
priorities in their own order) and rounded for people: durations in business hours,
percentages to one decimal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from gongdan.bundle.compile_reports import TICKET_COLUMNS, ReportDef
from gongdan.bundle.compiled import Bundle
from gongdan.bundle.report_schema import AGE_BUCKETS
from gongdan.engine.reads.queries import FieldFilter, TicketQuery, ticket_conditions
from gongdan.engine.reads.queue_sql import condition_sql
from gongdan.engine.reads.report_sql import PERCENTILES, report_statement, time_column
from gongdan.engine.store.database import Database
from gongdan.engine.store.reports import without_jit
from gongdan.engine.unit_of_work import utc_now
from gongdan.errors import NotFound, PermissionDenied, ValidationFailed
from gongdan.rules.workflow import Actor
from gongdan.vocabulary import PRIORITIES, STAFF_ROLES, STATE_CATEGORIES

__all__ = ["ReportColumn", "ReportFilters", "ReportService", "ReportTable", "report_zone"]


def report_zone(bundle: Bundle) -> tzinfo:
    """The zone reports count days, weeks and months in, and mailed reports are
    scheduled in: the bundle's default calendar's (the first by id), else UTC. One
    zone for everyone, so a shared link, an export and a mailed report show the
    same figures whoever opens them."""
    if not bundle.calendars:
        return UTC
    return bundle.calendars[min(bundle.calendars)].timezone


@dataclass(frozen=True, slots=True)
class ReportFilters:
    """What the caller narrows every report to: a period `[start, end)` on the report's
    time column (`created_at`, or `resolved_at` when it groups by it), ticket types,
    teams, priorities and custom-field filters (as the ticket list's)."""

    start: datetime | None = None
    end: datetime | None = None
    types: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()
    fields: tuple[FieldFilter, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class ReportColumn:
    id: str
    label: Any  # a label: text or {locale: text}


@dataclass(frozen=True, slots=True)
class ReportTable:
    """A report's figures: the group-by values first in each row, the measure last."""

    id: str
    title: Any
    chart: str
    measure: str
    columns: tuple[ReportColumn, ...]
    rows: tuple[tuple[Any, ...], ...]


class ReportService:
    """Reports on one database under one compiled bundle."""

    def __init__(
        self, db: Database, bundle: Bundle, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self.db, self.bundle, self.clock = db, bundle, clock
        self.zone = report_zone(bundle)

    def reports_for(self, actor: Actor) -> list[ReportDef]:
        """The reports `actor` may read, in the order declared (staff only)."""
        _require_staff(actor)
        return list(self.bundle.reports.values())

    def run_report(
        self, actor: Actor, report_id: str, filters: ReportFilters | None = None
    ) -> ReportTable:
        """One report's figures: one statement."""
        _require_staff(actor)
        report = self.bundle.reports.get(report_id)
        if report is None:
            raise NotFound(f"no report '{report_id}'")
        filters = filters or ReportFilters()
        self._check(filters)
        with self.db.reading() as session:
            without_jit(session)
            return self._run(session, actor, report, filters)

    def run_dashboard(
        self, actor: Actor, filters: ReportFilters | None = None
    ) -> list[ReportTable]:
        """Every report, in the order declared, in one read transaction."""
        reports = self.reports_for(actor)
        filters = filters or ReportFilters()
        self._check(filters)
        with self.db.reading() as session:
            without_jit(session)
            return [self._run(session, actor, report, filters) for report in reports]

    def _check(self, filters: ReportFilters) -> None:
        problems: dict[str, str] = {}
        for name, given, known in (
            ("type", filters.types, self.bundle.ticket_types),
            ("team", filters.teams, self.bundle.teams),
            ("priority", filters.priorities, PRIORITIES),
        ):
            unknown = [value for value in given if value not in known]
            if unknown:
                problems[name] = f"unknown {name} '{unknown[0]}'"
        if filters.start and filters.end and filters.start >= filters.end:
            problems["to"] = "must be after 'from'"
        if problems:
            raise ValidationFailed("; ".join(problems.values()), problems)

    def _run(
        self, session: Session, actor: Actor, report: ReportDef, filters: ReportFilters
    ) -> ReportTable:
        dialect = session.get_bind().dialect.name
        query = TicketQuery(
            types=filters.types or report.types,
            teams=filters.teams,
            priorities=filters.priorities,
            fields=filters.fields,
        )
        try:
            conditions = ticket_conditions(session, self.bundle, actor, query)
        except ValidationFailed as error:
            # Name the query parameter the way the caller wrote it (`fields.<id>`).
            fields = {f"fields.{name}": message for name, message in error.fields.items()}
            raise ValidationFailed(error.detail, fields) from error
        now = self.clock()
        conditions.append(condition_sql(report.filter, report.kinds, dialect, now))
        column = time_column(report)
        if report.time_column != "created_at":
            conditions.append(column.is_not(None))
        if filters.start is not None:
            conditions.append(column >= filters.start)
        if filters.end is not None:
            conditions.append(column < filters.end)
        since = filters.start if report.time_column == "created_at" else None
        statement = report_statement(report, dialect, conditions, now, self.zone, since)
        rows = [_row(report, tuple(row)) for row in session.execute(statement).all()]
        leading = TICKET_COLUMNS if report.measure.lists_tickets else ()
        return ReportTable(
            id=report.id,
            title=report.title,
            chart=report.chart,
            measure=report.measure.kind,
            columns=(
                *(ReportColumn(key, label) for key, label in leading),
                *(ReportColumn(g.id, g.label) for g in report.group_by),
                ReportColumn(report.measure.id, report.measure.label),
            ),
            # A list's order is the statement's (worst first); groups are sorted here.
            rows=tuple(rows) if leading else _ordered(report, rows),
        )


def _row(report: ReportDef, row: tuple[Any, ...]) -> tuple[Any, ...]:
    *groups, value = row
    return (*groups, _rounded(report, value))


def _rounded(report: ReportDef, value: Any) -> Any:
    kind = report.measure.kind
    if value is None:
        return None
    if kind == "breached":  # an instant as the SLA engine stored it (ISO 8601), in UTC
        return datetime.fromisoformat(str(value)).astimezone(UTC)
    if kind in ("count", "lowest_rated"):
        return int(value)
    number = float(value) if isinstance(value, (Decimal, int, float)) else float(str(value))
    if kind in PERCENTILES:
        return round(number / 3600, 2)  # business seconds → business hours
    return round(number, 1 if kind in ("sla_attainment", "csat_response_rate") else 2)


_ORDERS: dict[str, dict[str, int]] = {
    "age": {name: i for i, (_, name) in enumerate(AGE_BUCKETS)},
    "priority": {p: i for i, p in enumerate(PRIORITIES)},
    "state_category": {c: i for i, c in enumerate(STATE_CATEGORIES)},
}


def _ordered(report: ReportDef, rows: Sequence[tuple[Any, ...]]) -> tuple[tuple[Any, ...], ...]:
    """Groups in a stable order on both databases: time ascending, priorities and state
    categories in their own order, the rest alphabetically; no value last."""

    def key(row: tuple[Any, ...]) -> tuple[Any, ...]:
        parts: list[Any] = []
        for group, value in zip(report.group_by, row, strict=False):
            order = _ORDERS.get(group.key) if group.kind == "builtin" else None
            rank = order.get(str(value), len(order)) if order is not None else 0
            parts += [value is None, rank, "" if value is None else str(value)]
        return tuple(parts)

    kept = [
        r for r in rows if report.group_by or r[-1] is not None or report.measure.kind == "count"
    ]
    return tuple(sorted(kept, key=key))


def _require_staff(actor: Actor) -> None:
    if actor.role not in STAFF_ROLES:
        raise PermissionDenied("reports are for agents and admins")
