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

import json
import re
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    BigInteger,
    Select,
    Text,
    and_,
    any_,
    cast,
    false,
    func,
    literal,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ClauseElement, ColumnElement

from gongdan.bundle.compiled import Bundle
from gongdan.engine.reads.paging import LIST_SORTS, check_sort, page_of
from gongdan.engine.store.models import Comment, Event, Ticket, TicketFollower, User
from gongdan.engine.store.reports import without_jit
from gongdan.errors import ValidationFailed
from gongdan.forms.fields import FieldDef
from gongdan.forms.shapes import FilterKind, Many
from gongdan.rules.workflow import Actor
from gongdan.vocabulary import Role

__all__ = [
    "KEY_SHAPE",
    "SEARCH_CANDIDATES",
    "SEARCH_PLANNING_STATEMENTS",
    "FieldFilter",
    "TicketQuery",
    "is_short_search",
    "scope",
    "select_tickets",
    "text_condition",
    "text_search",
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


# A search shorter than this has no trigram to look up (pg_trgm needs three
# characters): it looks at the SHORT_SEARCH_WINDOW newest tickets and comments only,
# unless it is one or two Chinese characters (a common word: 密码, 网络), which the
# CJK pair indexes of migration 0022 find among every ticket on PostgreSQL (SQLite
# scans every ticket for any search).
TRIGRAM = 3
SHORT_SEARCH_WINDOW = 20_000
# What a ticket's key looks like (the desk's search box opens such a ticket directly).
KEY_SHAPE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,15}-[0-9]{1,12}$")
# Characters JSON writes escaped: a search containing one cannot use `data::text`.
_JSON_ESCAPED = re.compile(r'["\\\x00-\x1f\x7f]')
# One or two CJK ideographs: the characters migration 0022 pairs (its CJK_CLASS).
_CJK_WORD = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{1,2}$")
# Whether each PostgreSQL engine has migration 0022's pair functions (asked once).
_PAIRS_KNOWN: weakref.WeakKeyDictionary[Engine, bool] = weakref.WeakKeyDictionary()


def is_short_search(text: str) -> bool:
    """Whether a search for `text` only looks at the newest tickets (too short for the
    trigram indexes, and not one or two Chinese characters)."""
    text = text.strip()
    return len(text) < TRIGRAM and not _CJK_WORD.match(text)


def _has_pairs(session: Session) -> bool:
    """Whether the database has the CJK pair functions and indexes (migration 0022
    makes them where pg_trgm is installed)."""
    engine = session.get_bind()
    assert isinstance(engine, Engine)  # noqa: S101 - sessions are bound to an engine
    if engine not in _PAIRS_KNOWN:
        found = session.scalar(select(func.to_regprocedure("gongdan_cjk_pairs(text)")))
        _PAIRS_KNOWN[engine] = found is not None
    return _PAIRS_KNOWN[engine]


@dataclass(frozen=True)
class _TextSearch:
    """The parts of a search for one text: the key, the words on the ticket's row, the
    tickets of the comments matching and the people matching."""

    key: ColumnElement[bool]
    words: ColumnElement[bool]
    commented: Select[Any]
    people: Select[Any]
    # What the indexes alone decide of `words` (for the planner's estimate of how
    # common the text is: the columns' checks after them make it guess far too low).
    candidates: ColumnElement[bool]

    @classmethod
    def of(
        cls, bundle: Bundle, actor: Actor, text: str, dialect: str, *, pairs: bool = False
    ) -> _TextSearch:
        """The parts; `pairs`: the database has migration 0022's CJK pair indexes (one
        or two Chinese characters are then looked up there, among every ticket)."""
        pattern = f"%{_escape_like(text)}%"
        whole_key = dialect == "postgresql" and KEY_SHAPE.match(text) is not None
        cjk = dialect == "postgresql" and _CJK_WORD.match(text) is not None
        # A pair is a word of its own in the pairs' text: " 卡纸 " whole, "卡" as a start.
        paired = f"% {text} %" if len(text) == 2 else f"% {text}%"

        def like(column: Any) -> ColumnElement[bool]:
            matches: ColumnElement[bool] = column.ilike(pattern, escape="\\")
            if whole_key:  # INC-1 is not INC-12: a key is found as a whole word
                # The ILIKE first: its trigrams find the candidates in the index (a word
                # boundary gives a regular expression's trigrams nothing to hold on to).
                return and_(matches, column.regexp_match(rf"\m{text}\M", flags="i"))
            return matches

        short = is_short_search(text) or (cjk and not pairs)
        commented = select(Comment.ticket_id).where(like(Comment.body))
        if cjk and pairs:
            in_pairs = func.gongdan_cjk_pairs(Comment.body, type_=Text).like(paired)
            commented = commented.where(in_pairs)
        if actor.is_requester:
            commented = commented.where(Comment.public.is_(True))
        if short:
            newest = select(func.max(Comment.id)).scalar_subquery()
            commented = commented.where(Comment.id > newest - SHORT_SEARCH_WINDOW)
        hidden = set().union(*(t.internal_fields for t in bundle.ticket_types.values()))
        names = sorted(
            {f for t in bundle.ticket_types.values() for f in t.searchable_fields}
            - (hidden if actor.is_requester else set())
        )
        fields: list[ColumnElement[bool]] = [like(Ticket.data[n].as_string()) for n in names]
        if dialect == "postgresql" and fields and not short and not _JSON_ESCAPED.search(text):
            # The JSON text's trigram index finds candidates; each field is then checked.
            fields = [and_(like(cast(Ticket.data, Text)), or_(*fields))]
        words = or_(like(Ticket.title), like(Ticket.description), *fields)
        candidates = words
        if cjk and pairs:  # the pairs' index finds candidates; the columns then decide
            ticket_pairs = func.gongdan_ticket_pairs(
                Ticket.title, Ticket.description, Ticket.data, type_=Text
            )
            candidates = ticket_pairs.like(paired)
            words = and_(candidates, words)
        if short:
            newest_ticket = select(func.max(Ticket.id)).scalar_subquery()
            words = and_(Ticket.id > newest_ticket - SHORT_SEARCH_WINDOW, words)
        people = select(User.id).where(or_(like(User.name), like(User.email)))
        return cls(Ticket.key == text.upper(), words, commented, people, candidates)


def text_condition(
    bundle: Bundle, actor: Actor, text: str, dialect: str = "sqlite", *, pairs: bool = False
) -> ColumnElement[bool]:
    """Tickets whose key is `text`, or whose title, description, comments, text fields
    or requester's name or email contain it (any case), as one condition to check row by
    row. A requester's search looks at public comments and fields no type keeps internal
    only. Each part is an `ILIKE '%text%'`; text shorter than `TRIGRAM` looks at the
    `SHORT_SEARCH_WINDOW` newest tickets and comments (and every person), except one
    or two Chinese characters with `pairs` (migration 0022's indexes)."""
    parts = _TextSearch.of(bundle, actor, text, dialect, pairs=pairs)
    commented: ColumnElement[bool]
    if dialect == "postgresql":  # a comment looked up by its ticket, row by row
        commented = parts.commented.where(Comment.ticket_id == Ticket.id).exists()
    else:
        commented = Ticket.id.in_(parts.commented)
    return or_(parts.key, parts.words, commented, Ticket.requester_id.in_(parts.people))


# How many matches a search collects by the trigram indexes before deciding the text is
# common (PostgreSQL): below, the page is read among them; at or above, by the sort's
# index, checking each row (a common word fills a page within a few rows).
SEARCH_CANDIDATES = 5_000
# The statements a search runs before its page on PostgreSQL: JIT off, one EXPLAIN,
# and the matching tickets, comments and people (each capped).
SEARCH_PLANNING_STATEMENTS = 5


def text_search(
    session: Session,
    bundle: Bundle,
    actor: Actor,
    text: str,
    conditions: Sequence[ColumnElement[bool]],
) -> ColumnElement[bool]:
    """The condition of a search for `text` among the tickets matching `conditions`.

    SQLite: `text_condition`, a scan. PostgreSQL: first the matches themselves, each
    part on its own trigram index (migration 0019), at most `SEARCH_CANDIDATES` each;
    if none reaches it (a rare word: the usual case), the search is those ids, and the
    page one index lookup each; otherwise `text_condition`, checked along the sort's
    index. Two plans a planner cannot choose between by itself: PostgreSQL estimates
    any `ILIKE '%…%'` at 1 row in 10,000 at least, so a rare word looks common to it."""
    dialect = session.get_bind().dialect.name
    if dialect != "postgresql":
        return text_condition(bundle, actor, text, dialect)
    without_jit(session)  # compiling took longer than these statements run (EXPLAIN)
    pairs = _CJK_WORD.match(text) is not None and _has_pairs(session)
    parts = _TextSearch.of(bundle, actor, text, dialect, pairs=pairs)
    cap = SEARCH_CANDIDATES
    on_row = select(Ticket.id).where(*conditions, or_(parts.key, parts.words)).limit(cap)
    indexed = select(Ticket.id).where(*conditions, or_(parts.key, parts.candidates))
    if _estimated_rows(session, indexed) >= cap:  # a common word, by the stats
        return text_condition(bundle, actor, text, dialect, pairs=pairs)
    found = [list(session.scalars(q)) for q in (on_row, parts.commented.limit(cap))]
    people = list(session.scalars(parts.people.limit(cap)))
    if max(len(found[0]), len(found[1]), len(people)) >= cap:
        return text_condition(bundle, actor, text, dialect, pairs=pairs)
    ids = sorted(set(found[0]) | set(found[1]))
    hits: list[ColumnElement[bool]] = []
    if ids:
        hits.append(Ticket.id == any_(literal(ids, ARRAY(BigInteger))))
    if people:
        hits.append(Ticket.requester_id == any_(literal(people, ARRAY(BigInteger))))
    return or_(false(), *hits)


class _Explain(Executable, ClauseElement):
    """`EXPLAIN (FORMAT JSON) statement` (PostgreSQL), its parameters bound as usual."""

    inherit_cache = False

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement


@compiles(_Explain, "postgresql")
def _compile_explain(element: _Explain, compiler: Any, **kw: Any) -> str:
    return f"EXPLAIN (FORMAT JSON) {compiler.process(element.statement, **kw)}"


def _estimated_rows(session: Session, statement: Select[Any]) -> float:
    """How many rows PostgreSQL's planner expects `statement` to return."""
    found: Any = session.execute(_Explain(statement)).scalar()
    document = json.loads(found) if isinstance(found, str) else found
    return float(document[0]["Plan"]["Plan Rows"])


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
    for flt in query.fields:
        conditions.append(_field_condition(dialect, bundle, query, flt, actor))
    if query.text and query.text.strip():
        conditions.append(text_search(session, bundle, actor, query.text.strip(), conditions))
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
