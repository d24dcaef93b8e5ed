"""Agent queues: the built-in ones (my tickets, my teams, unassigned, breaching soon)
and the views declared in YAML, with filters, sorts, cursor pages, counts and bulk
actions.

Every queue is one SQL condition added to the actor's scope and the filters of
`queries.ticket_conditions` (permission scoping stays in SQL). A page is three
statements whatever its length (tickets, their people, merge targets); the counts are
one COUNT per queue. Bulk actions go through `TicketService`, one transaction per
ticket, so one refusal does not stop the others.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, func, literal_column, or_, select, true, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from gongdan.bundle.compile_views import SORT_FIELDS, ViewDef
from gongdan.bundle.compiled import Bundle
from gongdan.engine.reads.queries import MAX_PAGE, TicketQuery, ticket_conditions
from gongdan.engine.reads.queue_sql import view_condition
from gongdan.engine.records import TicketRecord
from gongdan.engine.service import TicketService, utc_now
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import Stamp, Ticket, User
from gongdan.errors import GongdanError, NotFound, PermissionDenied, ValidationFailed
from gongdan.rules.workflow import Actor
from gongdan.vocabulary import OPEN_CATEGORIES, PRIORITIES, STAFF_ROLES, Role

__all__ = [
    "BUILTIN_QUEUES",
    "BulkOutcome",
    "QueueDef",
    "QueuePage",
    "QueueQuery",
    "QueueService",
]

# Far in the future: where a ticket without an SLA deadline sorts (last, ascending).
NEVER = datetime(9999, 12, 31, tzinfo=UTC)
PG_NEVER = "'9999-12-31 00:00:00+00'::timestamptz"
DUE_COLUMNS = ("first_response_due", "next_response_due", "resolution_due")


@dataclass(frozen=True, slots=True)
class QueueDef:
    """One queue an actor may open: a built-in or a view."""

    id: str
    name: Any  # a label: text or {locale: text}
    columns: tuple[str, ...]
    sort: str
    descending: bool
    view: ViewDef | None = None


_DEFAULT_COLUMNS = ("key", "title", "priority", "state", "assignee", "team", "sla", "updated_at")
BUILTIN_QUEUES = (
    QueueDef("mine", {"en": "My tickets", "zh-CN": "我的工单"}, _DEFAULT_COLUMNS, "sla", False),
    QueueDef(
        "my_teams", {"en": "My teams", "zh-CN": "我的团队"}, _DEFAULT_COLUMNS, "created_at", True
    ),
    QueueDef(
        "unassigned", {"en": "Unassigned", "zh-CN": "未分配"}, _DEFAULT_COLUMNS, "created_at", False
    ),
    QueueDef(
        "breaching", {"en": "Breaching soon", "zh-CN": "即将超时"}, _DEFAULT_COLUMNS, "sla", False
    ),
)


@dataclass(frozen=True)
class QueueQuery:
    """What to show of a queue: the filters of a ticket list (its sort is ignored), a
    sort of the queue's (None: the queue's own), a cursor and a page size."""

    filters: TicketQuery = field(default_factory=TicketQuery)
    sort: str | None = None
    descending: bool | None = None
    cursor: str | None = None
    limit: int = 50


@dataclass(frozen=True, slots=True)
class QueuePage:
    queue: QueueDef
    items: tuple[TicketRecord, ...]
    next_cursor: str | None
    sort: str
    descending: bool


@dataclass(frozen=True, slots=True)
class BulkOutcome:
    """What a bulk action did to one ticket: ok, or why not."""

    key: str
    ok: bool
    message: str
    fields: dict[str, str] = field(default_factory=dict)


class QueueService:
    """Queues on one database under one compiled bundle."""

    def __init__(
        self,
        db: Database,
        bundle: Bundle,
        clock: Callable[[], datetime] = utc_now,
        *,
        breaching_within: timedelta = timedelta(hours=4),
    ) -> None:
        self.db, self.bundle, self.clock = db, bundle, clock
        self.breaching_within = breaching_within

    # Which queues ----------------------------------------------------------------------

    def queues_for(self, actor: Actor) -> list[QueueDef]:
        """The built-in queues and the views `actor` may open (staff only)."""
        _require_staff(actor)
        views = [
            QueueDef(v.id, v.name, v.columns, v.sort, v.descending, v)
            for v in self.bundle.views.values()
            if v.visible_to(actor.role, actor.team_ids)
        ]
        return [*BUILTIN_QUEUES, *views]

    def queue(self, actor: Actor, queue_id: str) -> QueueDef:
        for queue in self.queues_for(actor):
            if queue.id == queue_id:
                return queue
        raise NotFound(f"no queue '{queue_id}'")

    # Reading ---------------------------------------------------------------------------

    def list_queue(self, actor: Actor, queue_id: str, query: QueueQuery | None = None) -> QueuePage:
        """One page of a queue: tickets, then the cursor of the next page."""
        query = query or QueueQuery()
        queue = self.queue(actor, queue_id)
        sort = query.sort or queue.sort
        if sort not in SORT_FIELDS:
            raise ValidationFailed(
                f"cannot sort by '{sort}'", {"sort": f"must be one of: {', '.join(SORT_FIELDS)}"}
            )
        descending = queue.descending if query.descending is None else query.descending
        limit = max(1, min(int(query.limit), MAX_PAGE))
        now = self.clock()
        with self.db.reading() as session:
            conditions = self._conditions(session, actor, queue, query.filters, now)
            column = _sort_expression(sort, session.get_bind().dialect.name)
            statement: Select[Any] = select(Ticket).where(*conditions)
            if query.cursor:
                value, last_id = _decode_cursor(query.cursor, sort)
                after = column < value if descending else column > value
                tie = Ticket.id < last_id if descending else Ticket.id > last_id
                statement = statement.where(or_(after, and_(column == value, tie)))
            order = (column.desc(), Ticket.id.desc()) if descending else (column, Ticket.id)
            rows = list(session.scalars(statement.order_by(*order).limit(limit + 1)))
            cursor = None
            if len(rows) > limit:
                rows = rows[:limit]
                cursor = _encode_cursor(_sort_value(rows[-1], sort), rows[-1].id)
            items = _records(session, self.bundle, rows)
        return QueuePage(queue, items, cursor, sort, descending)

    def counts(self, actor: Actor) -> dict[str, int]:
        """How many tickets each queue holds now: one COUNT statement per queue."""
        now = self.clock()
        out: dict[str, int] = {}
        with self.db.reading() as session:
            for queue in self.queues_for(actor):
                conditions = self._conditions(session, actor, queue, TicketQuery(), now)
                statement = select(func.count()).select_from(Ticket).where(*conditions)
                out[queue.id] = int(session.scalar(statement) or 0)
        return out

    def _conditions(
        self, session: Session, actor: Actor, queue: QueueDef, filters: TicketQuery, now: datetime
    ) -> list[ColumnElement[bool]]:
        conditions = ticket_conditions(session, self.bundle, actor, filters)
        dialect = session.get_bind().dialect.name
        if queue.view is not None:
            conditions.append(view_condition(queue.view, dialect, now, actor.user_id))
            return conditions
        is_open = Ticket.state_category.in_(OPEN_CATEGORIES)
        teams = sorted(actor.team_ids)
        in_my_teams = Ticket.team_id.in_(teams)
        everything = actor.role is Role.ADMIN and not teams
        if queue.id == "mine":
            conditions += [Ticket.assignee_id == (actor.user_id or -1), is_open]
        elif queue.id == "my_teams":
            conditions += [is_open, true() if everything else in_my_teams]
        elif queue.id == "unassigned":
            # Tickets no team has yet are everybody's to triage.
            mine = true() if everything else or_(in_my_teams, Ticket.team_id.is_(None))
            conditions += [Ticket.assignee_id.is_(None), is_open, mine]
        elif queue.id == "breaching":
            # The earliest deadline, as the queue sorts by it: on PostgreSQL one range of
            # the partial index on open tickets' earliest deadline (migration 0008).
            soon = type_coerce(now + self.breaching_within, Stamp)
            conditions += [is_open, _sort_expression("sla", dialect) < soon]
        return conditions

    # Bulk actions ------------------------------------------------------------------------

    def ticket_types_of(self, actor: Actor, keys: Sequence[str]) -> set[str]:
        """The ticket types of those of `keys` the actor may see (one statement)."""
        _require_staff(actor)
        wanted = sorted({k for k in keys if k})[:MAX_PAGE]
        if not wanted:
            return set()
        with self.db.reading() as session:
            conditions = ticket_conditions(session, self.bundle, actor, TicketQuery())
            statement = select(Ticket.ticket_type).where(Ticket.key.in_(wanted), *conditions)
            return set(session.scalars(statement.distinct()))

    def bulk_assign(
        self,
        actor: Actor,
        keys: Sequence[str],
        *,
        team: str | None = None,
        assignee: str | None = None,
    ) -> list[BulkOutcome]:
        """Assign each ticket in its own transaction; one outcome per key, in order."""
        _require_staff(actor)
        service = TicketService(self.db, self.bundle, self.clock)
        return [
            _attempt(key, lambda k: service.assign(actor, k, team=team, assignee=assignee))
            for key in dict.fromkeys(keys)
        ]

    def bulk_transition(
        self,
        actor: Actor,
        keys: Sequence[str],
        transition_id: str,
        *,
        fields: dict[str, Any] | None = None,
        comment: str | None = None,
        public: bool = True,
    ) -> list[BulkOutcome]:
        """Take one transition on each ticket in its own transaction."""
        _require_staff(actor)
        service = TicketService(self.db, self.bundle, self.clock)

        def take(key: str) -> Any:
            return service.take_transition(
                actor, key, transition_id, fields=fields, comment=comment, public=public
            )

        return [_attempt(key, take) for key in dict.fromkeys(keys)]


def _require_staff(actor: Actor) -> None:
    if actor.role not in STAFF_ROLES:
        raise PermissionDenied("only agents may open the desk's queues")


def _attempt(key: str, action: Callable[[str], Any]) -> BulkOutcome:
    try:
        action(key)
    except ValidationFailed as error:
        return BulkOutcome(key, False, str(error), dict(error.fields))
    except GongdanError as error:
        return BulkOutcome(key, False, str(error))
    return BulkOutcome(key, True, "done")


# Sorting and cursors ---------------------------------------------------------------------


def _sort_expression(sort: str, dialect: str) -> ColumnElement[Any]:
    if sort == "priority":
        return case({p: i for i, p in enumerate(PRIORITIES)}, value=Ticket.priority, else_=-1)
    if sort == "key":
        return Ticket.number  # type: ignore[return-value]
    if sort in ("created_at", "updated_at"):
        return getattr(Ticket, sort)  # type: ignore[no-any-return]
    columns = DUE_COLUMNS if sort == "sla" else (sort,)
    never: ColumnElement[Any] = type_coerce(NEVER, Stamp)
    if dialect == "postgresql":
        # A constant in the statement's text, not a parameter: the expression then matches
        # the partial index of migration 0008 under any plan (even a generic one).
        never = literal_column(PG_NEVER, Stamp)
    dues = [func.coalesce(getattr(Ticket, c), never) for c in columns]
    if len(dues) == 1:
        return type_coerce(dues[0], Stamp)
    earliest = func.least(*dues) if dialect == "postgresql" else func.min(*dues)
    return type_coerce(earliest, Stamp)


def _sort_value(ticket: Ticket, sort: str) -> Any:
    if sort == "priority":
        return PRIORITIES.index(ticket.priority) if ticket.priority in PRIORITIES else -1
    if sort == "key":
        return ticket.number
    if sort in ("created_at", "updated_at"):
        return getattr(ticket, sort)
    columns = DUE_COLUMNS if sort == "sla" else (sort,)
    return min((getattr(ticket, c) or NEVER) for c in columns)


def _encode_cursor(value: Any, ticket_id: int) -> str:
    raw = json.dumps([value.isoformat() if isinstance(value, datetime) else value, ticket_id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str) -> tuple[Any, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, ticket_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if sort in ("priority", "key"):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError
        else:
            value = datetime.fromisoformat(value)
            if value.utcoffset() is None:
                raise TypeError
        if isinstance(ticket_id, bool) or not isinstance(ticket_id, int):
            raise TypeError
        return value, ticket_id
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        raise ValidationFailed(
            "invalid cursor", {"cursor": "is not a cursor from this queue"}
        ) from exc


# Records -----------------------------------------------------------------------------------


def _records(session: Session, bundle: Bundle, rows: list[Ticket]) -> tuple[TicketRecord, ...]:
    """Records of a page: its people and merge targets in one statement each (no N+1)."""
    if not rows:
        return ()
    ids = {r.requester_id for r in rows} | {r.assignee_id for r in rows if r.assignee_id}
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(sorted(ids))))}
    targets = sorted({r.merged_into_id for r in rows if r.merged_into_id})
    merged: dict[int, str] = {}
    if targets:
        found = session.execute(select(Ticket.id, Ticket.key).where(Ticket.id.in_(targets)))
        merged = {row.id: row.key for row in found}
    return tuple(
        TicketRecord.build(
            row,
            bundle,
            requester=users[row.requester_id],
            assignee=users.get(row.assignee_id) if row.assignee_id else None,
            for_requester=False,
            merged_into=merged.get(row.merged_into_id) if row.merged_into_id else None,
        )
        for row in rows
    )
