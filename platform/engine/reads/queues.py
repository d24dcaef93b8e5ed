"""Agent queues: the built-in ones (my tickets, my teams, unassigned, breaching soon)
and the views declared in YAML, with filters, sorts, cursor pages, counts and bulk
actions.

Every queue is one SQL condition added to the actor's scope and the filters of
`queries.ticket_conditions` (permission scoping stays in SQL), sorted and paged by
`paging` as the ticket list is. A page is three statements whatever its length
(tickets, their people, merge targets: `ReadContext.preload`). The counts cost the same
however many tickets are kept: the agent's own queue exactly from the maintained
open-ticket counter, every other queue capped at `COUNT_CAP` + 1 rows read in the
queue's order (`store.counters.ordered_reads`). Bulk actions go through `TicketService`, one transaction per
ticket, so one refusal does not stop the others.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, true, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from gongdan.bundle.compile_views import SLA_SORTS, ViewDef
from gongdan.bundle.compiled import Bundle
from gongdan.engine.reads.paging import (
    MAX_PAGE,
    QUEUE_SORTS,
    check_sort,
    in_categories,
    page_of,
    sort_expression,
)
from gongdan.engine.reads.queries import TicketQuery, ticket_conditions
from gongdan.engine.reads.queue_sql import view_condition
from gongdan.engine.reads.ticket_page import assignable_people
from gongdan.engine.records import TicketRecord
from gongdan.engine.service import TicketService, utc_now
from gongdan.engine.store.counters import open_tickets_of, ordered_reads
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import Stamp, Ticket
from gongdan.engine.unit_of_work import ReadContext
from gongdan.errors import GongdanError, NotFound, PermissionDenied, ValidationFailed
from gongdan.rules.workflow import Actor
from gongdan.vocabulary import OPEN_CATEGORIES, STAFF_ROLES, Role

__all__ = [
    "BUILTIN_QUEUES",
    "COUNT_CAP",
    "SEARCH_QUEUE",
    "BulkOutcome",
    "QueueDef",
    "QueuePage",
    "QueueQuery",
    "QueueService",
]


@dataclass(frozen=True, slots=True)
class QueueDef:
    """One queue an actor may open: a built-in or a view."""

    id: str
    name: Any  # a label: text or {locale: text}
    columns: tuple[str, ...]
    sort: str
    descending: bool
    view: ViewDef | None = None


# Queue counts above this show as "99+" (`QueueService.counts`): a count reads at most
# this many rows + 1 of its queue's index range.
COUNT_CAP = 99
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

# Every ticket the agent may see, in any state: where the desk's search shows its
# results (with the queue's filters, sorts, pages and bulk actions). Not listed with
# the queues and not counted.
SEARCH_QUEUE = QueueDef(
    "search",
    {"en": "Search results", "zh-CN": "搜索结果"},
    ("key", "title", "type", "state", "requester", "assignee", "team", "updated_at"),
    "updated_at",
    True,
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
        if queue_id == SEARCH_QUEUE.id:
            _require_staff(actor)
            return SEARCH_QUEUE
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
        check_sort(sort, QUEUE_SORTS)
        open_only = self._open_only(queue, sort, query.filters)
        descending = queue.descending if query.descending is None else query.descending
        now = self.clock()
        with self.db.reading() as session:
            if queue.id != SEARCH_QUEUE.id and _unfiltered(query.filters):
                # A queue's own page (what every agent opens and reloads): read in the
                # order of its sort's index and stop at the page, never a bitmap of
                # every ticket of the queue sorted, which the planner picks when its
                # estimate is low (waiting_on_customer at 1M: 15,362 rows estimated
                # 1,109, 306 ms) and which grows with the backlog.
                ordered_reads(session)
            conditions = self._conditions(session, actor, queue, query.filters, now)
            if open_only:
                conditions.append(in_categories(open_only))
            rows, cursor = page_of(
                session, conditions, sort, descending, query.cursor, query.limit, of="queue"
            )
            ctx = ReadContext(session, self.bundle, actor, now)
            ctx.preload(rows)
            items = tuple(ctx.record(row) for row in rows)
        return QueuePage(queue, items, cursor, sort, descending)

    def sorts_for(self, queue: QueueDef, filters: TicketQuery) -> tuple[str, ...]:
        """The sorts `queue` offers with `filters`: every queue sort, except the SLA
        deadlines on a search that may hold closed tickets (`_open_only` refuses them)."""
        try:
            self._open_only(queue, "sla", filters)
        except ValidationFailed:
            return tuple(s for s in QUEUE_SORTS if s not in SLA_SORTS)
        return QUEUE_SORTS

    def _open_only(self, queue: QueueDef, sort: str, filters: TicketQuery) -> frozenset[str]:
        """The open categories a search sorted by an SLA deadline is limited to (its
        filters' states say which), so that the partial indexes on open tickets' deadlines
        serve it; empty for any other queue or sort. A search so sorted that may hold
        closed tickets is refused: no index orders closed tickets by deadline, so its page
        would sort every ticket the agent may see."""
        if queue.id != SEARCH_QUEUE.id or sort not in SLA_SORTS:
            return frozenset()
        categories = set(filters.state_categories)
        if filters.states:
            named = {
                state.category
                for workflow in self.bundle.workflows.values()
                for state in workflow.states.values()
                if state.id in filters.states
            }
            categories = named if not categories else categories & named
        if not filters.states and not filters.state_categories:
            categories = {"closed"}
        if not categories <= set(OPEN_CATEGORIES):
            raise ValidationFailed(
                f"cannot sort search results by '{sort}' over closed tickets",
                {"sort": "an SLA deadline sorts open tickets only: filter by an open state"},
            )
        return frozenset(categories)

    def counts(self, actor: Actor) -> dict[str, int]:
        """How many tickets each queue holds now, at a cost that does not grow with the
        backlog: the agent's own queue ("mine") exactly, from the open-ticket count the
        triggers keep (`store.counters`); every other queue counted up to `COUNT_CAP`
        + 1 rows (one capped COUNT each: a value above `COUNT_CAP` means "more than
        `COUNT_CAP`", shown as "99+")."""
        now = self.clock()
        out: dict[str, int] = {}
        with self.db.reading() as session:
            dialect = session.get_bind().dialect.name
            ordered_reads(session)
            for queue in self.queues_for(actor):
                if queue.id == "mine" and actor.user_id is not None:
                    out[queue.id] = open_tickets_of(session, actor.user_id)
                    continue
                conditions = self._conditions(session, actor, queue, TicketQuery(), now)
                # In the queue's own order: the plan is then the page's (an ordered
                # range of the index its sort has) read for up to COUNT_CAP + 1 rows,
                # never a bitmap of every open ticket that the LIMIT cannot stop.
                order = sort_expression(queue.sort, dialect)
                capped = (
                    select(Ticket.id)
                    .where(*conditions)
                    .order_by(order.desc() if queue.descending else order, Ticket.id)
                    .limit(COUNT_CAP + 1)
                    .subquery()
                )
                statement = select(func.count()).select_from(capped)
                out[queue.id] = int(session.scalar(statement) or 0)
        return out

    def _conditions(
        self, session: Session, actor: Actor, queue: QueueDef, filters: TicketQuery, now: datetime
    ) -> list[ColumnElement[bool]]:
        conditions = ticket_conditions(session, self.bundle, actor, filters)
        dialect = session.get_bind().dialect.name
        if queue.view is not None:
            conditions.append(view_condition(queue.view, dialect, now, actor.user_id))
            categories = queue.view.categories
            if categories and categories <= set(OPEN_CATEGORIES):
                # What `when` implies, said so that the open tickets' indexes serve it.
                conditions.append(in_categories(categories))
            return conditions
        if queue.id == SEARCH_QUEUE.id:
            return conditions
        is_open = in_categories(OPEN_CATEGORIES)
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
            conditions += [is_open, sort_expression("sla", dialect) < soon]
        return conditions

    def assignable(self, actor: Actor) -> list[tuple[str, str]]:
        """(email, name) of the agents and admins a ticket may be assigned to (one
        statement), for the queue's assignee boxes."""
        _require_staff(actor)
        with self.db.reading() as session:
            return assignable_people(session)

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

    def bulk_apply_macro(
        self,
        actor: Actor,
        keys: Sequence[str],
        macro_id: str,
        reply_for: Callable[[TicketService, str], str | None],
    ) -> list[BulkOutcome]:
        """Apply one macro to each ticket, each in its own transaction (one refusal
        does not stop the others). `reply_for` gives a ticket's reply (the layer above
        renders the macro's text for that ticket: the engine runs no templates)."""
        _require_staff(actor)
        service = TicketService(self.db, self.bundle, self.clock)

        def apply(key: str) -> Any:
            return service.apply_macro(actor, key, macro_id, reply=reply_for(service, key))

        return [_attempt(key, apply) for key in dict.fromkeys(keys)]


def _unfiltered(filters: TicketQuery) -> bool:
    """Whether `filters` choose nothing (a queue's own page): with a filter, the
    planner's choice stands (a rare value is found faster through its own index)."""
    chosen = (
        filters.types, filters.states, filters.state_categories, filters.priorities,
        filters.teams, filters.assignee, filters.requester, filters.tags, filters.text,
        filters.fields,
    )  # fmt: skip
    return not any(chosen)


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
