"""One report (`kind: Report`) as one aggregating SQL statement, on SQLite and PostgreSQL.

The tickets are those the actor may see and the filters keep (`queries.ticket_conditions`,
the list filters' SQL, with the report's `filter` through `queue_sql.condition_sql`);
they are grouped in the database (GROUP BY) and only the groups come back.

- Durations are business seconds of the ticket's SLA calendar, as the SLA engine
  stores them with the clocks (`rules.sla_clock.Clock.consumed` of a met clock: the
  business time it ran, pauses left out), so no calendar arithmetic runs at report
  time. First response and resolution (durations and attainment) and the policy are
  read from the columns the SLA engine keeps for reports (`first_response_seconds`,
  `first_response_in_time`, …), covered by the report indexes on PostgreSQL; the
  next-response target from the clocks' JSON. A ticket without an SLA clock for the
  target has no duration.
- Median and p90 interpolate linearly between the two nearest ranks: PostgreSQL's
  ordered-set aggregate `percentile_cont`, one sort per group; SQLite has none, so
  there window functions and integer arithmetic give the same figure: `h = p·(n-1)`,
  the values at ranks ⌊h⌋ and ⌈h⌉ of each group.
- Time buckets are days, ISO weeks (the Monday's date) and months in the report zone
  (the bundle's default calendar's, `reports.report_zone`): on PostgreSQL by its time
  zone rules; SQLite has none, so there the zone's UTC offset at `now` is applied
  (exact for a zone without daylight saving, such as Asia/Shanghai). `age` buckets
  count back from the read's `now`.
- A list measure (`breached`, `lowest_rated`) returns tickets, not groups: key, title
  and the value, ordered and limited in the statement.
- Satisfaction joins the answered surveys (`surveys`, by ticket: on PostgreSQL an
  index carrying the rating, migration 0017, so the join reads no survey rows). Over
  a period of creation from `surveys_since`, only the surveys requested since then
  are joined: a survey is requested by a transition of its ticket, so never before
  the ticket was created, and the surveys of the tickets created since `surveys_since`
  are all among them. The figures are the same; the join reads that range of the
  surveys' index by request time (migration 0021) instead of every survey
  (bench/reports.py: the satisfaction reports of a 30-day dashboard at 1,000,000
  tickets read 11,000 surveys, not 249,000).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy import type_coerce as coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import aliased

from gongdan.bundle.compile_reports import GroupDef, MeasureDef, ReportDef
from gongdan.bundle.report_schema import AGE_BUCKETS
from gongdan.engine.store.models import Survey, Ticket, User

__all__ = ["PERCENTILES", "report_statement"]

# p as a fraction num/den, so ranks are computed with integer division on both databases.
PERCENTILES = {"median": (1, 2), "p90": (9, 10)}

_BUILTIN_COLUMNS: dict[str, Any] = {
    "type": Ticket.ticket_type,
    "state": Ticket.state,
    "state_category": Ticket.state_category,
    "priority": Ticket.priority,
    "team": Ticket.team_id,
}
_SQLITE_BUCKETS = {
    "day": lambda column, shift: func.strftime("%Y-%m-%d", column, shift),
    "week": lambda column, shift: func.date(column, shift, "weekday 0", "-6 days"),
    "month": lambda column, shift: func.strftime("%Y-%m", column, shift),
}
_PG_FORMATS = {"day": "YYYY-MM-DD", "week": "YYYY-MM-DD", "month": "YYYY-MM"}


@dataclass(frozen=True, slots=True)
class _From:
    """What the statement reads: the group expressions and the joins they need."""

    groups: list[ColumnElement[Any]]
    joins: list[tuple[Any, ColumnElement[bool], bool]]  # (target, on, outer)
    zone: tzinfo
    now: datetime
    surveys_since: datetime | None = None

    def surveys(self, survey: Any) -> list[ColumnElement[bool]]:
        """The condition joining `survey` (the table or an alias) to the ticket, with
        the request-time bound (see the module doc)."""
        on = [survey.ticket_id == Ticket.id]
        if self.surveys_since is not None:
            on.append(survey.requested_at >= self.surveys_since)
        return on

    def sqlite_shift(self) -> str:
        """The SQLite date modifier that moves a UTC instant to the zone (its offset now)."""
        offset = self.now.astimezone(self.zone).utcoffset() or timedelta()
        return f"{int(offset.total_seconds() // 60):+d} minutes"


def time_column(report: ReportDef) -> Any:
    """The ticket column the report's period filters on."""
    return Ticket.resolved_at if report.time_column == "resolved_at" else Ticket.created_at


def _clock(target: str, name: str) -> Any:
    return Ticket.sla[("clocks", target, name)]


# What reports read of the clocks, kept as columns by the SLA engine (migration 0017,
# `automation.sla.report_columns`); a target without them is read from the JSON.
_SECONDS = {
    "first_response": Ticket.first_response_seconds,
    "resolution": Ticket.resolution_seconds,
}
_IN_TIME = {
    "first_response": Ticket.first_response_in_time,
    "resolution": Ticket.resolution_in_time,
}


def _duration(target: str, where: list[ColumnElement[bool]]) -> Any:
    """The business seconds a met clock of `target` ran, adding its condition."""
    column = _SECONDS.get(target)
    if column is not None:
        where.append(column.is_not(None))
        return column
    value = _clock(target, "consumed").as_float()
    where += [_clock(target, "met_at").as_string().is_not(None), value.is_not(None)]
    return value


def _age(now: datetime) -> ColumnElement[Any]:
    """How long ago a ticket was created, as the label of its bucket (`AGE_BUCKETS`)."""
    limits = [(days, name) for days, name in AGE_BUCKETS if days is not None]
    oldest = next(name for days, name in AGE_BUCKETS if days is None)
    whens = [(Ticket.created_at > now - timedelta(days=days), name) for days, name in limits]
    return case(*whens, else_=oldest)


def _group_expression(
    group: GroupDef, dialect: str, source: _From, now: datetime
) -> ColumnElement[Any]:
    if group.kind == "time":
        column = Ticket.resolved_at if group.key == "resolved_at" else Ticket.created_at
        bucket = group.bucket or "day"
        if dialect == "postgresql":
            zone_name = str(getattr(source.zone, "key", "UTC"))
            truncated = func.date_trunc(bucket, func.timezone(zone_name, column))
            return func.to_char(truncated, _PG_FORMATS[bucket])
        expression: ColumnElement[Any] = _SQLITE_BUCKETS[bucket](column, source.sqlite_shift())
        return expression
    if group.kind == "builtin":
        if group.key == "assignee":
            person = aliased(User)
            source.joins.append((person, person.id == Ticket.assignee_id, True))
            return person.email  # type: ignore[return-value]
        if group.key == "age":
            return _age(now)
        if group.key == "csat_rating":  # the answered surveys, by rating
            rated = aliased(Survey)
            on = and_(*source.surveys(rated), rated.rating.is_not(None))
            source.joins.append((rated, on, False))
            return rated.rating  # type: ignore[return-value]
        if group.key == "sla_policy":
            policy: Any = Ticket.sla_policy
            return policy  # type: ignore[no-any-return]
        column_: ColumnElement[Any] = _BUILTIN_COLUMNS[group.key]
        return column_
    if group.kind == "list":  # a multiselect: one row per value (none: one row, NULL)
        if dialect == "postgresql":
            values = coerce(Ticket.data, JSONB)[group.key]
            each = func.jsonb_array_elements_text(values).table_valued("value").lateral()
        else:
            each = func.json_each(Ticket.data, f'$."{group.key}"').table_valued("value")
        source.joins.append((each, true(), True))
        item: ColumnElement[Any] = each.c.value
        return item
    text: ColumnElement[Any] = Ticket.data[group.key].as_string()
    return text


def _measure(
    measure: MeasureDef, source: _From, conditions: list[ColumnElement[bool]]
) -> ColumnElement[Any]:
    """The aggregate of `measure`, adding the conditions and joins it needs."""
    if measure.kind == "count":
        return func.count()
    if measure.kind == "csat":
        source.joins.append(
            (Survey, and_(*source.surveys(Survey), Survey.rating.is_not(None)), False)
        )
        return func.avg(Survey.rating)
    if measure.kind == "csat_response_rate":
        source.joins.append((Survey, and_(*source.surveys(Survey)), False))
        return literal(100.0) * func.count(Survey.rating) / func.count()
    if measure.kind == "avg":
        value = Ticket.data[measure.of or ""].as_float()
        conditions.append(value.is_not(None))
        return func.avg(value)
    target = measure.of or ""
    # Attainment: of the clocks with an outcome (met, or breached), those never breached.
    column = _IN_TIME.get(target)
    if column is not None:
        conditions.append(column.is_not(None))
        return literal(100.0) * func.sum(case((column.is_(True), 1), else_=0)) / func.count()
    met, breached = _clock(target, "met_at").as_string(), _clock(target, "breached_at").as_string()
    conditions.append(or_(met.is_not(None), breached.is_not(None)))
    in_time = func.sum(case((breached.is_(None), 1), else_=0))
    return literal(100.0) * in_time / func.count()


def report_statement(
    report: ReportDef,
    dialect: str,
    conditions: Sequence[ColumnElement[bool]],
    now: datetime,
    zone: tzinfo,
    surveys_since: datetime | None = None,
) -> Select[Any]:
    """The statement whose rows are the report's: group values, then the measure.
    `conditions` are the scope and filters (`ticket_conditions`, period, `filter`);
    `zone` is the zone time buckets are counted in; `surveys_since` the start of a
    period of the tickets' creation, if any (the surveys joined: see the module doc)."""
    source = _From([], [], zone, now, surveys_since)
    groups = [_group_expression(g, dialect, source, now) for g in report.group_by]
    where = list(conditions)
    if report.measure.lists_tickets:
        return _tickets(report, source, where)
    if report.measure.kind in PERCENTILES:
        if dialect == "postgresql":
            return _percentile_cont(report, source, groups, where)
        return _percentile(report, source, groups, where)
    aggregate = _measure(report.measure, source, where)
    labelled = [g.label(f"g{i}") for i, g in enumerate(groups)]
    statement = select(*labelled, aggregate.label("value")).select_from(Ticket)
    for target, on, outer in source.joins:
        statement = statement.join(target, on, isouter=outer)
    return statement.where(*where).group_by(*groups)


def _percentile_cont(
    report: ReportDef,
    source: _From,
    groups: list[ColumnElement[Any]],
    where: list[ColumnElement[bool]],
) -> Select[Any]:
    """Median or p90 of a duration per group on PostgreSQL (`percentile_cont`). The
    values are read in a subquery first, so the sort carries (group, number) rows,
    not the tickets' SLA documents."""
    value = _duration(report.measure.of or "", where)
    labelled = [g.label(f"g{i}") for i, g in enumerate(groups)]
    inner = select(*labelled, value.label("v")).select_from(Ticket)
    for join_target, on, outer in source.joins:
        inner = inner.join(join_target, on, isouter=outer)
    values = inner.where(*where).subquery("durations")
    num, den = PERCENTILES[report.measure.kind]
    percentile = func.percentile_cont(num / den).within_group(values.c.v)
    keys = [values.c[f"g{i}"] for i in range(len(groups))]
    return select(*keys, percentile.label("value")).group_by(*keys)


def _percentile(
    report: ReportDef,
    source: _From,
    groups: list[ColumnElement[Any]],
    where: list[ColumnElement[bool]],
) -> Select[Any]:
    """Median or p90 of a duration per group: rank the values in each group (window
    functions), keep the two ranks around `p·(n-1)`, interpolate between them."""
    value = _duration(report.measure.of or "", where)
    partition = groups or None
    ranked_columns = [g.label(f"g{i}") for i, g in enumerate(groups)]
    ranked_query = select(
        *ranked_columns,
        value.label("v"),
        func.row_number().over(partition_by=partition, order_by=value).label("rn"),
        func.count().over(partition_by=partition).label("n"),
    ).select_from(Ticket)
    for join_target, on, outer in source.joins:
        ranked_query = ranked_query.join(join_target, on, isouter=outer)
    ranked = ranked_query.where(*where).subquery("ranked")
    num, den = PERCENTILES[report.measure.kind]
    position = (ranked.c.n - 1) * num  # h·den, an integer
    lower, upper = position // den, (position + den - 1) // den
    fraction = (position % den) * literal(1.0) / den
    outer_groups = [ranked.c[f"g{i}"] for i in range(len(groups))]
    interpolated = func.min(ranked.c.v) + (func.max(ranked.c.v) - func.min(ranked.c.v)) * func.max(
        fraction
    )
    return (
        select(*outer_groups, interpolated.label("value"))
        .where(or_(ranked.c.rn - 1 == lower, ranked.c.rn - 1 == upper))
        .group_by(*outer_groups)
    )


def _tickets(report: ReportDef, source: _From, where: list[ColumnElement[bool]]) -> Select[Any]:
    """The tickets of a list measure: key, title and the value, `report.limit` of them.
    `breached`: the tickets whose clock of the target was breached, newest tickets
    first (for first response and resolution: read backwards along the report index,
    stopping at the limit); `lowest_rated`: the answered surveys' tickets, lowest
    rating first, then latest answered."""
    if report.measure.kind == "breached":
        target = report.measure.of or ""
        breached = _clock(target, "breached_at").as_string()
        in_time = _IN_TIME.get(target)
        found = in_time.is_(False) if in_time is not None else breached.is_not(None)
        return (
            select(Ticket.key, Ticket.title, breached.label("value"))
            .where(*where, found)
            .order_by(Ticket.created_at.desc(), Ticket.id.desc())
            .limit(report.limit)
        )
    rating: Any = Survey.rating
    return (
        select(Ticket.key, Ticket.title, rating.label("value"))
        .join(Survey, and_(*source.surveys(Survey)))
        .where(*where, Survey.rating.is_not(None))
        .order_by(Survey.rating, Survey.answered_at.desc(), Survey.id.desc())
        .limit(report.limit)
    )
