"""Compile `kind: View` documents: saved agent queues declared in YAML.

A view names a condition (`when`, the ordinary condition language), the columns its
queue page shows, how it sorts, and who may open it (`roles`, `teams`). Queues are
filtered inside the database, so every test of `when` must be expressible in SQL; a
test that is not (history operators, dotted paths, ordering on stored text) is refused
here, at load, with its place in the file, rather than filtered after loading.

Pure: no SQLAlchemy. `gongdan.engine.reads.queues` translates the checked condition to SQL
with the same `column_kind`/`sql_refusal` rules, so what loads always translates. How a
custom field is held comes from its field type's `ValueShape`, never from its name.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from gongdan.bundle.context import Catalog, Entry, Reporter
from gongdan.bundle.yamlio import Document, Path
from gongdan.errors import did_you_mean
from gongdan.forms.fields import FIELD_TYPES
from gongdan.forms.shapes import FilterKind, Many
from gongdan.rules.conditions import AllOf, AnyOf, Condition, Invalid, KeyTest, Negation, Node
from gongdan.vocabulary import OPEN_CATEGORIES, STAFF_ROLES, STATE_CATEGORIES, Role

__all__ = [
    "BUILTIN_COLUMNS",
    "COLUMN_KINDS",
    "SLA_SORTS",
    "SORT_FIELDS",
    "ViewDef",
    "column_kind",
    "compile_views",
    "implied_categories",
    "sql_kinds",
    "sql_refusal",
]

# Columns every ticket has, as a queue shows them. `sla` is the earliest running SLA
# deadline (a badge with the time left).
BUILTIN_COLUMNS = (
    "assignee", "created_at", "first_response_due", "key", "next_response_due", "priority",
    "requester", "resolution_due", "sla", "state", "tags", "team", "title", "type", "updated_at",
)  # fmt: skip
# What a queue can sort by: indexed or computed columns whose cursor values are plain.
SORT_FIELDS = (
    "created_at", "first_response_due", "key", "next_response_due", "priority",
    "resolution_due", "sla", "updated_at",
)  # fmt: skip

# How the database holds each built-in key a condition may name.
_BUILTIN_KINDS = {
    "key": "text",
    "title": "text",
    "description": "text",
    "type": "text",
    "state": "text",
    "state_category": "text",
    "priority": "text",
    "team": "text",
    "tags": "list",
    "created_at": "stamp",
    "updated_at": "stamp",
    "assignee": "person",
    "requester": "person",
}
COLUMN_KINDS = frozenset({*_BUILTIN_KINDS.values(), "list", *(kind.value for kind in FilterKind)})
# The operators each kind supports in SQL.
_OPERATORS: dict[str, frozenset[str]] = {
    "text": frozenset({"in", "not_in", "empty", "contains", "starts_with"}),
    "list": frozenset({"in", "not_in", "empty", "contains"}),
    "boolean": frozenset({"in", "not_in", "empty"}),
    "number": frozenset({"in", "not_in", "empty", "gt", "gte", "lt", "lte"}),
    "date": frozenset({"in", "not_in", "empty", "gt", "gte", "lt", "lte"}),
    "stamp": frozenset({"gt", "gte", "lt", "lte", "older_than", "newer_than"}),
    "person": frozenset({"in", "not_in", "empty"}),
    "opaque": frozenset({"empty"}),
}
_NAMES = {"in": "equals", "not_in": "ne/not_in"}


@dataclass(frozen=True, slots=True)
class ViewDef:
    """One compiled view: a saved queue."""

    id: str
    name: Any
    when: Condition | None
    columns: tuple[str, ...]
    sort: str
    descending: bool
    roles: frozenset[str]
    teams: frozenset[str]
    # How the database holds each key `when` names (see `column_kind`).
    kinds: Mapping[str, str]
    # The state categories its tickets can be in, as `when` says by `state` or
    # `state_category` tests all of it requires (None: any). Queues add it to their SQL
    # so that the indexes on open tickets serve a view of open states (`implied_categories`).
    categories: frozenset[str] | None = None

    def visible_to(self, role: str, team_ids: Collection[str]) -> bool:
        """Whether a staff member of `role` in `team_ids` may open this view."""
        if role not in STAFF_ROLES:
            return False
        if self.roles and role not in self.roles:
            return False
        return role == Role.ADMIN or not self.teams or bool(self.teams & set(team_ids))


def column_kind(key: str, field_types: Mapping[str, Collection[str]]) -> str | None:
    """How the database holds `key` (a built-in or a custom field id), or None when it
    cannot be read in SQL (a dotted path, or a field whose types disagree)."""
    if key in _BUILTIN_KINDS:
        return _BUILTIN_KINDS[key]
    kinds = {_field_kind(type_name) for type_name in field_types.get(key, ())}
    return kinds.pop() if len(kinds) == 1 else None


def _field_kind(type_name: str) -> str:
    """How the database holds a custom field of this type (in the `data` JSON)."""
    shape = FIELD_TYPES[type_name].shape
    if not shape.stored_as_compared:
        # Stored unlike it compares (decimals: text read as numbers): only `empty`.
        return FilterKind.OPAQUE.value
    if shape.many is Many.ALWAYS:
        return "list"
    return shape.compares.value


def sql_refusal(test: KeyTest, kind: str | None) -> str | None:
    """Why `test` cannot run in the database, or None when it can."""
    if "." in test.key:
        return f"'{test.key}': a path into a person cannot be tested in a queue"
    if kind is None:
        return f"'{test.key}' holds different kinds of values in different ticket types"
    if test.operator in ("changed", "changed_to"):
        return f"'{test.operator}' needs a change being made; a queue only sees tickets as they are"
    if test.operator not in _OPERATORS[kind]:
        allowed = ", ".join(sorted(_NAMES.get(o, o) for o in _OPERATORS[kind]))
        shown = _NAMES.get(test.operator, test.operator)
        return f"'{shown}' on '{test.key}' cannot be tested in a queue (here: {allowed})"
    return None


# Sorts by an SLA deadline: indexed for open tickets only (a closed ticket's deadlines
# no longer matter), so a view in one of them should keep to open tickets.
SLA_SORTS = frozenset({"sla", "first_response_due", "next_response_due", "resolution_due"})


def implied_categories(
    when: Condition | None, state_categories: Mapping[str, Collection[str]]
) -> frozenset[str] | None:
    """The state categories a ticket matching `when` can be in, from the `state` and
    `state_category` tests `when` requires (at its top or in a top-level `all`), with
    each state's categories in any workflow (`state_categories`); None when `when`
    does not restrict them."""
    if when is None:
        return None
    tree = when.tree
    tests = tree.children if isinstance(tree, AllOf) else (tree,)
    found: set[str] | None = None
    for test in tests:
        if not isinstance(test, KeyTest) or test.operator not in ("in", "not_in"):
            continue
        named = {str(v) for v in test.operand if v is not None}
        if test.key == "state_category":
            cats = named if test.operator == "in" else {str(c) for c in STATE_CATEGORIES} - named
        elif test.key == "state" and test.operator == "in":
            cats = {c for state in named for c in state_categories.get(state, ())}
        else:
            continue
        found = cats if found is None else found & cats
    return None if found is None else frozenset(found)


def compile_views(
    entries: list[Entry],
    catalog: Catalog,
    field_types: Mapping[str, Collection[str]],
    teams: Collection[str],
    report: Reporter,
    state_categories: Mapping[str, Collection[str]] | None = None,
) -> dict[str, ViewDef]:
    """Compile every schema-valid View; problems go to `report` with their place.
    `state_categories` (each state's categories in the workflows) lets a view know
    which categories its tickets can be in; a view sorted by an SLA deadline that may
    hold tickets that are not open gets a warning: that sort is indexed for open
    tickets only, so its pages would cost more as closed tickets pile up."""
    views: dict[str, ViewDef] = {}
    for entry in entries:
        view = _compile_view(entry, catalog, field_types, teams, report, state_categories or {})
        if view is not None:
            views[entry.id] = view
    return views


def _compile_view(
    entry: Entry,
    catalog: Catalog,
    field_types: Mapping[str, Collection[str]],
    teams: Collection[str],
    report: Reporter,
    state_categories: Mapping[str, Collection[str]],
) -> ViewDef | None:
    doc, data = entry.doc, entry.data
    errors = len([i for i in report.issues if i.severity == "error"])
    when = report.condition(doc, ("when",), data.get("when"), catalog)
    kinds: dict[str, str] = {}
    if when is not None:
        _check_sql(doc, ("when",), data["when"], when.tree, field_types, report, kinds)
    known_columns = sorted({*BUILTIN_COLUMNS, *field_types})
    for index, column in enumerate(data["columns"]):
        # Lenient: a document that could not be read may declare it (`Reporter`).
        if column not in known_columns and not report.lenient:
            report.unknown(doc, ("columns", index), "column", column, known_columns)
    sort = data.get("sort", {"field": "created_at"})
    if sort["field"] not in SORT_FIELDS:
        report.error(
            doc,
            ("sort", "field"),
            f"cannot sort by '{sort['field']}'{did_you_mean(sort['field'], SORT_FIELDS)} "
            f"(sortable: {', '.join(SORT_FIELDS)})",
        )
    categories = implied_categories(when, state_categories) if when is not None else None
    if sort["field"] in SLA_SORTS and not (categories or {"closed"}) <= set(OPEN_CATEGORIES):
        report.warning(
            doc,
            ("sort", "field"),
            f"sorting by '{sort['field']}' is indexed for open tickets only: add "
            "`state_category: [new, open, pending]` (or fewer) to `when`, or each page "
            "of this view costs more as closed tickets pile up",
        )
    for index, team in enumerate(data.get("teams", ())):
        if team not in teams:
            report.unknown(doc, ("teams", index), "team", team, teams)
    if len([i for i in report.issues if i.severity == "error"]) > errors:
        return None
    return ViewDef(
        id=entry.id,
        name=data["name"],
        when=when,
        columns=tuple(data["columns"]),
        sort=sort["field"],
        descending=sort.get("direction", "desc") == "desc",
        roles=frozenset(data.get("roles", ())),
        teams=frozenset(data.get("teams", ())),
        kinds=MappingProxyType(kinds),
        categories=categories,
    )


def sql_kinds(
    doc: Document,
    path: Path,
    source: Any,
    condition: Condition,
    field_types: Mapping[str, Collection[str]],
    report: Reporter,
) -> dict[str, str]:
    """How the database holds each key of `condition`, reporting (at its place in the
    file) every test SQL cannot express: shared by views and reports."""
    kinds: dict[str, str] = {}
    _check_sql(doc, path, source, condition.tree, field_types, report, kinds)
    return kinds


def _check_sql(
    doc: Document,
    path: Path,
    source: Any,
    node: Node,
    field_types: Mapping[str, Collection[str]],
    report: Reporter,
    kinds: dict[str, str],
) -> None:
    """Report every test of the tree that SQL cannot express, located by its key."""
    if isinstance(node, KeyTest):
        unknown = node.key not in field_types and node.key not in _BUILTIN_KINDS
        if (node.key in field_types and not field_types[node.key]) or (
            unknown and report.lenient and "." not in node.key
        ):
            return  # a field in error elsewhere: reported there, not again here
        kind = column_kind(node.key, field_types)
        refusal = sql_refusal(node, kind)
        if refusal is not None:
            report.error(doc, _locate(path, source, node), refusal)
        elif kind is not None:
            kinds[node.key] = kind
    elif isinstance(node, Negation):
        _check_sql(doc, path, source, node.child, field_types, report, kinds)
    elif isinstance(node, (AllOf, AnyOf)):
        for child in node.children:
            _check_sql(doc, path, source, child, field_types, report, kinds)
    elif isinstance(node, Invalid):  # pragma: no cover - a condition with errors is None
        return


def _locate(path: Path, source: Any, test: KeyTest) -> Path:
    """The place of `test`'s key in the condition's source (depth-first, first found)."""
    found = _find_key(source, test.key)
    if found is None:
        return path
    value = source
    for step in found:
        value = value[step]
    if isinstance(value, Mapping):  # point at the operator: `{amount: {changed: true}}`
        for name in (test.operator, "ne"):
            if name in value:
                return (*path, *found, name)
    return (*path, *found)


def _find_key(source: Any, key: str) -> tuple[str | int, ...] | None:
    if isinstance(source, Mapping):
        if key in source:
            return (key,)
        for name, value in source.items():
            if name in ("any", "all") and isinstance(value, list):
                for index, item in enumerate(value):
                    inner = _find_key(item, key)
                    if inner is not None:
                        return (name, index, *inner)
            elif name == "not":
                inner = _find_key(value, key)
                if inner is not None:
                    return (name, *inner)
    return None
