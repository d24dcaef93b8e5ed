"""Sorting and cursor pages of ticket lists: the one implementation the REST API's list,
the portal's "my requests" (both `queries.select_tickets`) and the desk's queues
(`queues.QueueService`) share.

A page is keyset-paged: ordered by a sort expression and then the ticket id, the next
page starts after the last row's (value, id), so a page costs one index range whatever
its depth. The expressions are exactly those the indexes were made for (`created_at`,
`updated_at`, `number`; the earliest SLA deadline of migration 0008 and each single
deadline, with a constant in the statement's text on PostgreSQL; the priority's rank,
constants in the text too, migration 0018): change one only with its index.

A cursor is the last row's sort value and id as URL-safe base64 JSON. It carries no
list or sort name, but its value must have the sort's type: a cursor of another sort
(or a forged one) is refused with `ValidationFailed` before it reaches the database,
where PostgreSQL would refuse comparing values of the wrong type.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Integer, Select, and_, case, func, literal_column, or_, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from gongdan.bundle.compile_views import SORT_FIELDS
from gongdan.engine.store.models import Stamp, Ticket
from gongdan.errors import ValidationFailed
from gongdan.vocabulary import PRIORITIES

__all__ = [
    "DUE_COLUMNS",
    "LIST_SORTS",
    "MAX_PAGE",
    "NEVER",
    "QUEUE_SORTS",
    "check_sort",
    "decode_cursor",
    "encode_cursor",
    "in_categories",
    "page_limit",
    "page_of",
    "sort_expression",
    "sort_value",
]

MAX_PAGE = 200
# What the REST API's list (and the portal) sorts by, and what a queue may sort by (a
# view's `sort` is checked against the same names when the bundle loads).
LIST_SORTS = ("created_at", "updated_at", "priority", "key")
QUEUE_SORTS = SORT_FIELDS
DUE_COLUMNS = ("first_response_due", "next_response_due", "resolution_due")
# Far in the future: where a ticket without an SLA deadline sorts (last, ascending).
NEVER = datetime(9999, 12, 31, tzinfo=UTC)
_PG_NEVER = "'9999-12-31 00:00:00+00'::timestamptz"
_STAMPS = ("created_at", "updated_at")
_NUMBERS = ("priority", "key")


def in_categories(categories: Iterable[str]) -> ColumnElement[bool]:
    """`state_category IN (…)` with the categories as constants in the statement's text:
    the partial indexes on open tickets then serve it under any plan (a generic plan
    cannot prove that parameters fall inside an index's predicate)."""
    names = sorted(set(categories))
    assert all(n.isidentifier() for n in names)  # noqa: S101 - the vocabulary's names
    return Ticket.state_category.in_([literal_column(f"'{n}'") for n in names])


def check_sort(sort: str, allowed: tuple[str, ...]) -> None:
    """Refuse a sort that is not one of `allowed`."""
    if sort not in allowed:
        raise ValidationFailed(
            f"cannot sort by '{sort}'", {"sort": f"must be one of: {', '.join(allowed)}"}
        )


def page_limit(limit: int) -> int:
    """A page size between 1 and `MAX_PAGE`."""
    return max(1, min(int(limit), MAX_PAGE))


def sort_expression(sort: str, dialect: str) -> ColumnElement[Any]:
    """The SQL expression a list sorted by `sort` is ordered by (then by ticket id)."""
    if sort == "priority":
        # Constants in the statement's text, not parameters: the expression then matches
        # the index on it (migration 0018) under any plan, as the SLA sort's does.
        ranks = (
            (Ticket.priority == literal_column(f"'{p}'"), literal_column(str(i), Integer))
            for i, p in enumerate(PRIORITIES)
        )
        return case(*ranks, else_=literal_column("-1", Integer))
    if sort == "key":
        return Ticket.number  # type: ignore[return-value]
    if sort in _STAMPS:
        return getattr(Ticket, sort)  # type: ignore[no-any-return]
    columns = DUE_COLUMNS if sort == "sla" else (sort,)
    never: ColumnElement[Any] = type_coerce(NEVER, Stamp)
    if dialect == "postgresql":
        # A constant in the statement's text, not a parameter: the expression then matches
        # the partial index of migration 0008 under any plan (even a generic one).
        never = literal_column(_PG_NEVER, Stamp)
    dues = [func.coalesce(getattr(Ticket, c), never) for c in columns]
    if len(dues) == 1:
        return type_coerce(dues[0], Stamp)
    earliest = func.least(*dues) if dialect == "postgresql" else func.min(*dues)
    return type_coerce(earliest, Stamp)


def sort_value(ticket: Ticket, sort: str) -> Any:
    """`ticket`'s value of `sort_expression(sort)`, computed from the loaded row."""
    if sort == "priority":
        return PRIORITIES.index(ticket.priority) if ticket.priority in PRIORITIES else -1
    if sort == "key":
        return ticket.number
    if sort in _STAMPS:
        return getattr(ticket, sort)
    columns = DUE_COLUMNS if sort == "sla" else (sort,)
    return min((getattr(ticket, c) or NEVER) for c in columns)


def encode_cursor(value: Any, ticket_id: int) -> str:
    """The cursor of the page after a row whose sort value is `value`."""
    raw = json.dumps([value.isoformat() if isinstance(value, datetime) else value, ticket_id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str, *, of: str = "list") -> tuple[Any, int]:
    """(sort value, ticket id) of a cursor of a list sorted by `sort`; `ValidationFailed`
    ("is not a cursor from this `of`") for anything else."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, ticket_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if sort in _NUMBERS:
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError
        else:
            value = datetime.fromisoformat(value)
            if value.utcoffset() is None:  # every stored moment is UTC
                raise TypeError
        if isinstance(ticket_id, bool) or not isinstance(ticket_id, int):
            raise TypeError
        return value, ticket_id
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        raise ValidationFailed(
            "invalid cursor", {"cursor": f"is not a cursor from this {of}"}
        ) from exc


def page_of(
    session: Session,
    conditions: list[ColumnElement[bool]],
    sort: str,
    descending: bool,
    cursor: str | None,
    limit: int,
    *,
    of: str = "list",
) -> tuple[list[Ticket], str | None]:
    """One page of the tickets matching `conditions`, ordered by `sort` then id (in one
    statement), and the cursor of the next page (None on the last). `sort` must have
    been checked (`check_sort`); `limit` is clamped (`page_limit`)."""
    limit = page_limit(limit)
    column = sort_expression(sort, session.get_bind().dialect.name)
    statement: Select[Any] = select(Ticket).where(*conditions)
    if cursor:
        value, last_id = decode_cursor(cursor, sort, of=of)
        after = column < value if descending else column > value
        tie = Ticket.id < last_id if descending else Ticket.id > last_id
        statement = statement.where(or_(after, and_(column == value, tie)))
    order = (column.desc(), Ticket.id.desc()) if descending else (column.asc(), Ticket.id.asc())
    rows = list(session.scalars(statement.order_by(*order).limit(limit + 1)))
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(sort_value(rows[-1], sort), rows[-1].id)
