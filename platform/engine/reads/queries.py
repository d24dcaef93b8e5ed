"""Reading tickets: one ticket, filtered and sorted lists with cursor pages, histories.

Permission scoping is part of every query (requester: own tickets; agent: their teams'
tickets, tickets assigned to them and tickets not yet in any team; admin: all), never
a filter after loading. Custom fields are filtered inside the database: JSONB
containment (GIN-indexed) for equality on PostgreSQL, JSON functions on SQLite. How a
field's values compare (as text, numbers or booleans; one value or a list) and what a
filter value means come from its field type (`FieldType.shape`, `filter_operand`,
`filter_json`), never from its type's name. The sort and the cursor pages are
`paging`'s, shared with the desk's queues.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, false, func, or_, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from gongdan.bundle.compiled import Bundle
from gongdan.engine.reads.paging import LIST_SORTS, check_sort, page_of
from gongdan.engine.store.models import Comment, Event, Ticket, TicketFollower, User
from gongdan.errors import ValidationFailed
from gongdan.forms.fields import FieldDef
from gongdan.forms.shapes import FilterKind, Many
from gongdan.rules.workflow import Actor
from gongdan.vocabulary import Role

__all__ = [
    "FieldFilter",
    "TicketQuery",
    "scope",
    "select_tickets",
    "text_condition",
    "ticket_conditions",
]

FILTER_OPS = ("eq", "ne", "in", "gt", "gte", "lt", "lte", "empty")


@dataclass(frozen=True)
class FieldFilter:
    """One condition on a custom field: `field op value`."""

    field: str
    op: str
    value: Any


@dataclass(frozen=True)
class TicketQuery:
    types: Sequence[str] = ()
    states: Sequence[str] = ()
    state_categories: Sequence[str] = ()
    priorities: Sequence[str] = ()
    teams: Sequence[str] = ()
    assignee: str | None = None  # an email, "me" or "none"
    requester: str | None = None  # an email or "me"
    tags: Sequence[str] = ()  # every tag given must be on the ticket
    text: str | None = None
    fields: Sequence[FieldFilter] = field(default_factory=tuple)
    sort: str = "created_at"
    descending: bool = True
    cursor: str | None = None
    limit: int = 50


def scope(
    actor: Actor, approval_fields: frozenset[str] = frozenset(), dialect: str = "sqlite"
) -> ColumnElement[bool]:
    """Which tickets `actor` may see, as a SQL condition. A requester sees their own
    tickets and those naming them as approver (`approval_fields`)."""
    if actor.sees_everything:
        return and_(True)
    if actor.is_requester:
        email = (actor.email or "").lower()
        if dialect == "postgresql":
            # JSONB containment: served by the GIN index on `data` (values are lower case).
            approving = [
                type_coerce(Ticket.data, JSONB).contains({name: value})
                for name in sorted(approval_fields)
                for value in (email, [email])
            ]
        else:
            approving = [
                func.lower(Ticket.data[name].as_string()) == email
                for name in sorted(approval_fields)
            ]
        # The tickets they are copied in on (a CC sees what the requester sees).
        copied = Ticket.id.in_(
            select(TicketFollower.ticket_id).where(
                TicketFollower.user_id == (actor.user_id or -1), TicketFollower.kind == "cc"
            )
        )
        return or_(Ticket.requester_id == actor.user_id, *approving, copied)
    if actor.role is Role.AGENT:
        return or_(
            Ticket.team_id.is_(None),
            Ticket.team_id.in_(sorted(actor.team_ids)),
            Ticket.assignee_id == actor.user_id,
        )
    return false()


def _field_def(bundle: Bundle, query: TicketQuery, name: str, actor: Actor) -> FieldDef:
    types = query.types or list(bundle.ticket_types)
    for type_id in types:
        ticket_type = bundle.ticket_types.get(type_id)
        if ticket_type is None or name not in ticket_type.field_map:
            continue
        field = ticket_type.field_map[name]
        # Filtering on an internal field would tell a requester its hidden value.
        if field.internal and not actor.is_staff:
            continue
        return field
    raise ValidationFailed(
        f"unknown field '{name}'", {name: "is not a field of these ticket types"}
    )


def _field_condition(
    dialect: str, bundle: Bundle, query: TicketQuery, flt: FieldFilter, actor: Actor
) -> ColumnElement[bool]:
    if flt.op not in FILTER_OPS:
        raise ValidationFailed(
            f"unknown operator '{flt.op}'",
            {flt.field: f"operator must be one of: {', '.join(FILTER_OPS)}"},
        )
    field = _field_def(bundle, query, flt.field, actor)
    field_type, shape = field.field_type, field.field_type.shape
    element = Ticket.data[flt.field]
    column: ColumnElement[Any]
    if shape.compares is FilterKind.NUMBER:
        column = element.as_float()
    elif shape.compares is FilterKind.BOOLEAN:
        # SQLite's JSON functions give 1/0 for true/false, never the text 'true'.
        column = element.as_boolean()
    else:
        column = element.as_string()
    if flt.op == "empty":
        present: ColumnElement[bool] = column.is_not(None)
        return ~present if flt.value in (True, "true", "1") else present
    # Single-valued fields of a type that may hold a list are matched as lists too.
    listing = shape.many is not Many.NEVER

    def parsed(value: Any, parse: Callable[[FieldDef, Any], Any]) -> Any:
        try:
            return parse(field, value)
        except ValueError as exc:
            raise ValidationFailed(
                f"{flt.field} {exc}, not '{value}'", {flt.field: str(exc)}
            ) from exc

    def typed(value: Any) -> Any:
        return parsed(value, field_type.filter_operand)

    if flt.op in ("eq", "in"):
        values = flt.value if isinstance(flt.value, (list, tuple)) else [flt.value]
        if dialect == "postgresql" and shape.stored_as_compared:
            # JSONB containment is served by the GIN index on `data`. The column is
            # typed JSON for both dialects; containment is a JSONB operator.
            data = type_coerce(Ticket.data, JSONB)
            stored = [parsed(v, field_type.filter_json) for v in values]
            options = [data.contains({flt.field: value}) for value in stored]
            if listing:
                options += [data.contains({flt.field: [value]}) for value in stored]
            return or_(*options)
        wanted = [typed(v) for v in values]
        if listing:
            # A list matches when one of its items does (json_each also yields a single
            # value as its only row).
            each = func.json_each(Ticket.data, f'$."{flt.field}"').table_valued("value")
            return select(1).select_from(each).where(each.c.value.in_(wanted)).exists()
        matches: ColumnElement[bool] = column.in_(wanted)
        return matches
    if flt.op != "ne" and shape.compares is FilterKind.BOOLEAN:
        # Yes and no have no order (SQLAlchemy refuses `> true` outright).
        raise ValidationFailed(
            f"'{flt.op}' does not apply to {flt.field}", {flt.field: "is yes or no: use eq or ne"}
        )
    operand = typed(flt.value)
    comparisons: dict[str, Callable[[], ColumnElement[bool]]] = {
        "ne": lambda: or_(column != operand, column.is_(None)),
        "gt": lambda: column > operand,
        "gte": lambda: column >= operand,
        "lt": lambda: column < operand,
        "lte": lambda: column <= operand,
    }
    return comparisons[flt.op]()


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def text_condition(bundle: Bundle, actor: Actor, text: str) -> ColumnElement[bool]:
    """Tickets whose key is `text`, or whose title, description, comments, text fields
    or requester's name or email contain it (any case). A requester's search looks at
    public comments and fields no type keeps internal only.

    Every part is a LIKE of `%text%`: a scan of the tickets in scope (and of comments
    and people for the sub-selects), which PostgreSQL's trigram indexes can serve; an
    exact key is one index lookup."""
    pattern = f"%{_escape_like(text)}%"

    def like(column: Any) -> ColumnElement[bool]:
        matches: ColumnElement[bool] = column.ilike(pattern, escape="\\")
        return matches

    commented = select(Comment.ticket_id).where(like(Comment.body))
    if actor.is_requester:
        commented = commented.where(Comment.public.is_(True))
    hidden = set().union(*(t.internal_fields for t in bundle.ticket_types.values()))
    fields = sorted(
        {f for t in bundle.ticket_types.values() for f in t.searchable_fields}
        - (hidden if actor.is_requester else set())
    )
    people = select(User.id).where(or_(like(User.name), like(User.email)))
    return or_(
        Ticket.key == text.upper(),
        like(Ticket.title),
        like(Ticket.description),
        Ticket.id.in_(commented),
        Ticket.requester_id.in_(people),
        *(like(Ticket.data[name].as_string()) for name in fields),
    )


def ticket_conditions(
    session: Session, bundle: Bundle, actor: Actor, query: TicketQuery
) -> list[ColumnElement[bool]]:
    """The SQL conditions of `query`'s filters, the actor's scope first (its sort,
    cursor and limit are left to the caller)."""
    dialect = session.get_bind().dialect.name
    conditions: list[ColumnElement[bool]] = [scope(actor, bundle.approval_fields, dialect)]
    if query.types:
        conditions.append(Ticket.ticket_type.in_(list(query.types)))
    if query.states:
        conditions.append(Ticket.state.in_(list(query.states)))
    if query.state_categories:
        conditions.append(Ticket.state_category.in_(list(query.state_categories)))
    if query.priorities:
        conditions.append(Ticket.priority.in_(list(query.priorities)))
    if query.teams:
        conditions.append(Ticket.team_id.in_(list(query.teams)))
    conditions += _people(session, actor, query)
    for tag in query.tags:
        if dialect == "postgresql":
            conditions.append(type_coerce(Ticket.tags, JSONB).contains([tag]))
        else:
            each = func.json_each(Ticket.tags).table_valued("value")
            conditions.append(select(1).select_from(each).where(each.c.value == tag).exists())
    if query.text and query.text.strip():
        conditions.append(text_condition(bundle, actor, query.text.strip()))
    for flt in query.fields:
        conditions.append(_field_condition(dialect, bundle, query, flt, actor))
    return conditions


def select_tickets(
    session: Session, bundle: Bundle, actor: Actor, query: TicketQuery
) -> tuple[list[Ticket], str | None]:
    """The first page of tickets matching `query` that `actor` may see, and the cursor
    of the next page (None on the last)."""
    check_sort(query.sort, LIST_SORTS)
    conditions = ticket_conditions(session, bundle, actor, query)
    return page_of(session, conditions, query.sort, query.descending, query.cursor, query.limit)


def _people(session: Session, actor: Actor, query: TicketQuery) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []

    def user_id(email: str) -> int:
        if email == "me":
            return actor.user_id or -1
        found = session.scalar(select(User.id).where(User.email == email.strip().lower()))
        return found if found is not None else -1

    if query.assignee == "none":
        out.append(Ticket.assignee_id.is_(None))
    elif query.assignee:
        out.append(Ticket.assignee_id == user_id(query.assignee))
    if query.requester:
        out.append(Ticket.requester_id == user_id(query.requester))
    return out


def select_comments(session: Session, ticket_ids: Sequence[int], actor: Actor) -> list[Comment]:
    statement = select(Comment).where(Comment.ticket_id.in_(list(ticket_ids)))
    if actor.is_requester:
        statement = statement.where(Comment.public.is_(True))
    return list(session.scalars(statement.order_by(Comment.id)))


def select_events(session: Session, ticket_ids: Sequence[int], actor: Actor) -> list[Event]:
    statement = select(Event).where(Event.ticket_id.in_(list(ticket_ids)))
    if actor.is_requester:
        statement = statement.where(Event.internal.is_(False))
    return list(session.scalars(statement.order_by(Event.id)))
