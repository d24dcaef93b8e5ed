"""A view's `when` condition as one SQL condition, for PostgreSQL and SQLite.

The loader (`config/compile_views.py`) has already refused every test SQL cannot
express and recorded how the database holds each key (`ViewDef.kinds`), so this
module only translates. Each test translates to a condition that is never NULL (a
missing value makes it false, as in the condition language), so `not` means what it
means in Python: `{not: {team: a}}` holds for a ticket without a team.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, false, func, not_, or_, select, true, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.elements import ColumnElement

from gongdan.bundle.compile_views import ViewDef
from gongdan.engine.store.models import Ticket, User
from gongdan.rules.conditions import AllOf, AnyOf, KeyTest, Negation, Node
from gongdan.rules.conditions import Condition as CompiledCondition
from gongdan.vocabulary import PRIORITIES, STATE_CATEGORIES

__all__ = ["condition_sql", "view_condition"]

Condition = ColumnElement[bool]

_TEXT_COLUMNS: dict[str, Any] = {
    "key": Ticket.key,
    "title": Ticket.title,
    "description": Ticket.description,
    "type": Ticket.ticket_type,
    "state": Ticket.state,
    "state_category": Ticket.state_category,
    "priority": Ticket.priority,
    "team": Ticket.team_id,
}
# Built-in columns that always hold one of a known set of values, and those never NULL.
_CLOSED = {"state_category": STATE_CATEGORIES, "priority": PRIORITIES}
_NOT_NULL = frozenset(_TEXT_COLUMNS) - {"team"}
_PEOPLE: dict[str, Any] = {"assignee": Ticket.assignee_id, "requester": Ticket.requester_id}
_STAMPS: dict[str, Any] = {"created_at": Ticket.created_at, "updated_at": Ticket.updated_at}


class _Translator:
    def __init__(
        self, kinds: Mapping[str, str], dialect: str, now: datetime, me: int | None
    ) -> None:
        self.kinds, self.dialect, self.now, self.me = kinds, dialect, now, me
        self.pg = dialect == "postgresql"

    def node(self, node: Node) -> Condition:
        if isinstance(node, KeyTest):
            return self.test(node)
        if isinstance(node, Negation):
            return not_(self.node(node.child))
        if isinstance(node, AllOf):
            return and_(true(), *(self.node(c) for c in node.children))
        if isinstance(node, AnyOf):
            return or_(false(), *(self.node(c) for c in node.children))
        return false()  # an Invalid node never loads; never match if one did

    def test(self, test: KeyTest) -> Condition:
        translate: Callable[[KeyTest], Condition] = getattr(self, "_" + self.kinds[test.key])
        return translate(test)

    # Kinds ---------------------------------------------------------------------------

    def _text(self, test: KeyTest) -> Condition:
        builtin = test.key in _TEXT_COLUMNS
        column = _TEXT_COLUMNS[test.key] if builtin else Ticket.data[test.key].as_string()
        name, operand = test.operator, test.operand
        if name in ("in", "not_in"):
            texts = [str(v) for v in operand if v is not None]
            closed = _CLOSED.get(test.key)
            if name == "not_in" and closed is not None and None not in operand:
                # The complement, so that indexes on open tickets serve `{not_in: [closed]}`.
                return column.in_([value for value in closed if value not in texts])  # type: ignore[no-any-return]
            parts: list[Condition] = []
            if texts and self.pg and not builtin:
                data = type_coerce(Ticket.data, JSONB)  # GIN-indexed containment
                parts += [data.contains({test.key: text}) for text in texts]
            elif texts and test.key in _NOT_NULL:
                parts.append(column.in_(texts))
            elif texts:
                parts.append(and_(column.is_not(None), column.in_(texts)))
            if None in operand:
                parts.append(column.is_(None))
            return self._negated(name == "not_in", or_(false(), *parts))
        if name == "empty":
            return self._negated(not operand, or_(column.is_(None), column == ""))
        if name == "contains":
            return and_(column.is_not(None), self._substring(column, str(operand), anywhere=True))
        return and_(column.is_not(None), self._substring(column, str(operand), anywhere=False))

    def _substring(self, column: Any, text: str, *, anywhere: bool) -> Condition:
        """Case-sensitive, as in the condition language. PostgreSQL's LIKE is (and the
        trigram indexes serve it); SQLite's LIKE ignores ASCII case, so there `instr`."""
        if self.pg:
            if anywhere:
                found: Condition = column.contains(text, autoescape=True)
                return found
            starts: Condition = column.startswith(text, autoescape=True)
            return starts
        position = func.instr(column, text)
        return position > 0 if anywhere else position == 1

    def _list(self, test: KeyTest) -> Condition:
        name, operand = test.operator, test.operand
        values = list(operand) if name in ("in", "not_in") else [operand]
        wanted = [v for v in values if v is not None]
        if name == "empty":
            return self._negated(not operand, self._list_empty(test.key))
        parts = [self._list_member(test.key, wanted)] if wanted else []
        if None in values:
            parts.append(self._list_missing(test.key))
        return self._negated(name == "not_in", or_(false(), *parts))

    def _list_member(self, key: str, wanted: Sequence[Any]) -> Condition:
        if self.pg:
            if key == "tags":
                return or_(*(type_coerce(Ticket.tags, JSONB).contains([v]) for v in wanted))
            data = type_coerce(Ticket.data, JSONB)
            return or_(*(data.contains({key: [v]}) for v in wanted))
        if key == "tags":
            each = func.json_each(Ticket.tags).table_valued("value")
        else:
            each = func.json_each(Ticket.data, f'$."{key}"').table_valued("value")
        return select(1).select_from(each).where(each.c.value.in_(list(wanted))).exists()

    def _list_missing(self, key: str) -> Condition:
        if key == "tags":
            return false()  # tags are always a list
        missing: Condition = Ticket.data[key].as_string().is_(None)
        return missing

    def _list_empty(self, key: str) -> Condition:
        length = func.jsonb_array_length if self.pg else func.json_array_length
        if key == "tags":
            empty: Condition = length(Ticket.tags) == 0
            return empty
        text = Ticket.data[key].as_string()
        return or_(text.is_(None), text == "[]")

    def _boolean(self, test: KeyTest) -> Condition:
        name, operand = test.operator, test.operand
        missing = self._json_kind(test.key).in_(["null", "none"])
        if name == "empty":
            return self._negated(not operand, missing)
        flags = [bool(v) for v in operand if v is not None]
        if self.pg:  # jsonb_typeof says 'boolean' for both: containment tells them apart
            data = type_coerce(Ticket.data, JSONB)
            parts = [data.contains({test.key: flag}) for flag in flags]
        else:
            parts = [self._json_kind(test.key).in_(["true" if f else "false" for f in flags])]
        if None in operand:
            parts.append(missing)
        return self._negated(name == "not_in", or_(false(), *parts))

    def _json_kind(self, key: str) -> ColumnElement[str]:
        """The JSON type of a custom value ('none' when missing)."""
        if self.pg:
            kind = func.jsonb_typeof(type_coerce(Ticket.data, JSONB)[key])
            return func.coalesce(kind, "none")
        return func.coalesce(func.json_type(Ticket.data, f'$."{key}"'), "none")

    def _number(self, test: KeyTest) -> Condition:
        return self._ordered(test, Ticket.data[test.key].as_float(), float)

    def _date(self, test: KeyTest) -> Condition:
        return self._ordered(test, Ticket.data[test.key].as_string(), _iso)

    def _ordered(self, test: KeyTest, column: Any, cast: Callable[[Any], Any]) -> Condition:
        name, operand = test.operator, test.operand
        present = column.is_not(None)
        if name == "empty":
            return self._negated(not operand, column.is_(None))
        if name in ("in", "not_in"):
            wanted = [cast(v) for v in operand if v is not None]
            parts = [and_(present, column.in_(wanted))] if wanted else []
            if None in operand:
                parts.append(column.is_(None))
            return self._negated(name == "not_in", or_(false(), *parts))
        compare = {"gt": column > cast(operand), "gte": column >= cast(operand)}
        compare |= {"lt": column < cast(operand), "lte": column <= cast(operand)}
        return and_(present, compare[name])

    def _stamp(self, test: KeyTest) -> Condition:
        column, name, operand = _STAMPS[test.key], test.operator, test.operand
        if name in ("older_than", "newer_than"):
            threshold = self.now - operand.as_timedelta()
            return column < threshold if name == "older_than" else column > threshold  # type: ignore[no-any-return]
        if isinstance(operand, datetime):
            moment = operand if operand.utcoffset() is not None else operand.replace(tzinfo=UTC)
            compare = {"gt": column > moment, "gte": column >= moment}
            compare |= {"lt": column < moment, "lte": column <= moment}
            return compare[name]  # type: ignore[no-any-return]
        # A date against a timestamp compares by (UTC) day, as the condition language does.
        start = datetime.combine(operand, time(), tzinfo=UTC)
        after = start + timedelta(days=1)
        by_day = {"gt": column >= after, "gte": column >= start}
        by_day |= {"lt": column < start, "lte": column < after}
        return by_day[name]  # type: ignore[no-any-return]

    def _person(self, test: KeyTest) -> Condition:
        column, name, operand = _PEOPLE[test.key], test.operator, test.operand
        if name == "empty":
            return self._negated(not operand, column.is_(None))
        emails = [str(v).strip().lower() for v in operand if v is not None and v != "me"]
        parts: list[Condition] = []
        if emails:
            ids = select(User.id).where(User.email.in_(emails)).scalar_subquery()
            parts.append(and_(column.is_not(None), column.in_(ids)))
        if "me" in operand:
            parts.append(column == (self.me if self.me is not None else -1))
        if None in operand:
            parts.append(column.is_(None))
        return self._negated(name == "not_in", or_(false(), *parts))

    def _opaque(self, test: KeyTest) -> Condition:  # only `empty` loads
        return self._negated(not test.operand, Ticket.data[test.key].as_string().is_(None))

    @staticmethod
    def _negated(negate: bool, condition: Condition) -> Condition:
        return not_(condition) if negate else condition


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def view_condition(
    view: ViewDef, dialect: str, now: datetime, me: int | None = None
) -> ColumnElement[bool]:
    """The SQL condition of `view.when` (true without one). `now` anchors
    `older_than`/`newer_than`; `me` is the user id an assignee of `me` means."""
    return condition_sql(view.when, view.kinds, dialect, now, me)


def condition_sql(
    condition: CompiledCondition | None,
    kinds: Mapping[str, str],
    dialect: str,
    now: datetime,
    me: int | None = None,
) -> ColumnElement[bool]:
    """The SQL of a condition the loader checked for SQL (`compile_views.sql_kinds`
    gave `kinds`): a view's `when`, a report's `filter`. True without one."""
    if condition is None:
        return true()
    return _Translator(kinds, dialect, now, me).node(condition.tree)
