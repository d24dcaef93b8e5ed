"""Counting the SQL statements a block of code sends, by kind and by table, so a test
pins what a page or a write costs (an N+1 query fails it) without matching SQL text,
which changes whenever a query is reworded at the same cost.

Through the `statements` fixture (tests/conftest.py)::

    def test_a_page(db: Database, statements: StatementRecorder) -> None:
        with statements.recording(db) as seen:
            service.list_tickets(agent, TicketQuery(limit=50))
        assert seen.kinds() == {"select": 3}, seen
        assert seen.count("select", table="users") == 1, seen
        assert seen.excluding("update", table="api_tokens").count() == 3, seen

`seen` is a `Statements`: each `Statement` has its `kind` (select, insert, update,
delete, other; with `transactions=True` also begin, commit, rollback, savepoint), the
`tables` it mentions anywhere (a subquery's or a CTE's too) and the `writes` it makes
(the tables after INSERT INTO, UPDATE, DELETE FROM). `count`, `kinds`, `only` and
`excluding` filter on kind and table; pass `seen` as the assertion's message: its
repr lists the statements, numbered, so a failure shows what ran.

What is seen, on SQLite and PostgreSQL alike (the rule this module keeps: one
statement sent to the driver is one `Statement`):
- every statement SQLAlchemy sends (ORM, Core, `exec_driver_sql`), through the
  engine's `before_cursor_execute` event; statements PostgreSQL runs prepared
  server-side (`prepared(...)`) pass there too, before psycopg runs them;
- every `DriverStatement` of `engine/store` (run on sqlite3 or psycopg directly): it
  announces each execution to those same listeners;
- an executemany is one statement whose `rows` is its number of parameter sets;
  SQLAlchemy's "insertmanyvalues" (a multi-row INSERT per 1,000 rows) is one
  statement per batch, each with the whole execution's `rows`;
- not seen: `DriverStatement.insert`'s `SELECT last_insert_rowid()` after a batch of
  more than eight rows on SQLite (an in-process call, no round trip).

Transaction control is left out by default: PostgreSQL's BEGIN is implicit in psycopg
and COMMIT is no statement at all, so counting them from SQL would differ by database.
With `recording(db, transactions=True)` they come from the engine's transaction events
instead (the same on both: one BEGIN per transaction, SQLite's `BEGIN IMMEDIATE`
counted once), except on connections in autocommit, where there are none.

Tables are the ones `gongdan.engine.store.models` declares whose names the statement
mentions, outside string literals.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any, Literal, get_args, overload

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from gongdan.engine.store.database import Database
from gongdan.engine.store.models import Base

__all__ = [
    "TRANSACTION_KINDS",
    "Kind",
    "Statement",
    "StatementRecorder",
    "Statements",
    "classify",
    "watching",
]

Kind = Literal[
    "select", "insert", "update", "delete", "other", "begin", "commit", "rollback", "savepoint"
]
KINDS: frozenset[str] = frozenset(get_args(Kind))
TRANSACTION_KINDS: frozenset[Kind] = frozenset({"begin", "commit", "rollback", "savepoint"})
TABLES: frozenset[str] = frozenset(Base.metadata.tables)

_FIRST_WORD: dict[str, Kind] = {
    "SELECT": "select",
    "VALUES": "select",
    "INSERT": "insert",
    "REPLACE": "insert",
    "UPDATE": "update",
    "DELETE": "delete",
    "BEGIN": "begin",
    "START": "begin",
    "COMMIT": "commit",
    "END": "commit",
    "ROLLBACK": "rollback",
    "SAVEPOINT": "savepoint",
    "RELEASE": "savepoint",
}
_LITERAL = re.compile(r"'(?:[^']|'')*'")
_WORD = re.compile(r"[A-Za-z_]+")
# After WITH, the statement's own verb is the first one outside every parenthesis.
_DEPTH_TOKEN = re.compile(r"[()]|\b(?:SELECT|INSERT|UPDATE|DELETE|VALUES)\b", re.IGNORECASE)
_TABLE_NAME = re.compile(r"\b(" + "|".join(sorted(TABLES)) + r")\b")
_SELECT_OR_FROM = re.compile(r"'(?:[^']|'')*'|[()]|\b(?:SELECT|FROM)\b", re.IGNORECASE)
_WRITTEN = re.compile(
    r'\b(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)', re.IGNORECASE
)


@dataclass(frozen=True)
class Statement:
    """One statement sent to the database: its SQL (whitespace collapsed), its kind,
    the tables it mentions and those it writes, and how many parameter sets it was
    sent with (more than one: an executemany)."""

    sql: str
    kind: Kind
    tables: frozenset[str]
    writes: frozenset[str]
    rows: int = 1

    def matches(self, kind: Kind | None = None, table: str | None = None) -> bool:
        """Whether it is of `kind` (any if None) and mentions `table` (any if None)."""
        if kind is not None and kind not in KINDS:
            raise ValueError(f"unknown statement kind {kind!r}: one of {sorted(KINDS)}")
        if table is not None and table not in TABLES:
            raise ValueError(f"unknown table {table!r}: one of {sorted(TABLES)}")
        return (kind is None or self.kind == kind) and (table is None or table in self.tables)

    def __str__(self) -> str:
        kind = f"{self.kind}×{self.rows}" if self.rows > 1 else self.kind
        tables = ",".join(sorted(self.tables)) or "-"
        sql = _abridged(self.sql)
        sql = sql if len(sql) <= 160 else sql[:157] + "..."
        return f"{kind:<9} {tables:<24} {sql}"


def classify(sql: str, rows: int = 1) -> Statement:
    """`sql` as a `Statement`: its kind from its verb (after a WITH, the main
    statement's), its tables from the declared table names it mentions."""
    text = " ".join(sql.split())
    bare = _LITERAL.sub("''", text)  # a table's name inside a string is no table
    first = _WORD.search(bare)
    verb = first.group(0).upper() if first else ""
    kind: Kind = _FIRST_WORD.get(verb, "other")
    if verb == "WITH":
        kind = _main_kind(bare[first.end() :] if first else "")
    elif verb == "ROLLBACK" and re.match(r"ROLLBACK\s+TO\b", bare, re.IGNORECASE):
        kind = "savepoint"
    tables = frozenset(_TABLE_NAME.findall(bare))
    writes = frozenset(name for name in _WRITTEN.findall(bare) if name in TABLES)
    return Statement(text, kind, tables, writes, rows)


def _main_kind(after_with: str) -> Kind:
    depth = 0
    for token in _DEPTH_TOKEN.finditer(after_with):
        word = token.group(0)
        if word == "(":
            depth += 1
        elif word == ")":
            depth -= 1
        elif depth == 0:
            return _FIRST_WORD[word.upper()]
    return "other"


def _abridged(sql: str) -> str:
    """`sql` with the main SELECT's long column list cut: it says little about which
    statement this is, its FROM does."""
    depth, columns = 0, -1
    for token in _SELECT_OR_FROM.finditer(sql):
        word = token.group(0).upper()
        if word == "(":
            depth += 1
        elif word == ")":
            depth -= 1
        elif depth == 0 and word == "SELECT" and columns < 0:
            columns = token.end()
        elif depth == 0 and word == "FROM" and columns >= 0:
            if token.start() - columns > 40:
                return f"{sql[:columns]} … {sql[token.start() :]}"
            break
    return sql


class Statements:
    """The statements a block sent, in order. Filter with `only`/`excluding`, count
    with `count`/`kinds`; the repr lists them (use it as an assertion's message)."""

    def __init__(self, items: Iterable[Statement] = ()) -> None:
        self._items = list(items)

    def append(self, statement: Statement) -> None:
        self._items.append(statement)

    def only(self, kind: Kind | None = None, *, table: str | None = None) -> Statements:
        """Those of `kind` that mention `table` (either left out: any)."""
        return Statements(s for s in self._items if s.matches(kind, table))

    def excluding(self, kind: Kind | None = None, *, table: str | None = None) -> Statements:
        """All but those of `kind` that mention `table` (either left out: any)."""
        return Statements(s for s in self._items if not s.matches(kind, table))

    def count(self, kind: Kind | None = None, *, table: str | None = None) -> int:
        """How many are of `kind` and mention `table` (either left out: any)."""
        return len(self.only(kind, table=table))

    def kinds(self) -> dict[str, int]:
        """How many of each kind, e.g. `{"insert": 1, "select": 3}`."""
        return dict(sorted(Counter(s.kind for s in self._items).items()))

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Statement]:
        return iter(self._items)

    @overload
    def __getitem__(self, index: int) -> Statement: ...
    @overload
    def __getitem__(self, index: slice) -> Statements: ...
    def __getitem__(self, index: int | slice) -> Statement | Statements:
        if isinstance(index, slice):
            return Statements(self._items[index])
        return self._items[index]

    def __repr__(self) -> str:
        counts = ", ".join(f"{kind} {n}" for kind, n in self.kinds().items()) or "none"
        lines = [f"{len(self)} statements ({counts}):"]
        lines += [f"{n:>3}. {statement}" for n, statement in enumerate(self._items, 1)]
        return "\n".join(lines)


@contextmanager
def watching(
    target: Database | Engine,
    callback: Callable[[Statement], None],
    *,
    transactions: bool = False,
) -> Iterator[None]:
    """Call `callback` with each statement sent to `target`'s engine in the block, on
    whatever thread sends it (see the module docstring for what is seen)."""
    engine = target.engine if isinstance(target, Database) else target

    def on_statement(
        _conn: Any, _cursor: Any, sql: str, parameters: Any, context: Any, many: bool
    ) -> None:
        statement = classify(sql, _rows(parameters, context) if many else 1)
        # BEGIN IMMEDIATE (SQLite) and SAVEPOINTs: the transaction events report them.
        if statement.kind not in TRANSACTION_KINDS:
            callback(statement)

    def on_transaction(sql: str) -> Callable[..., None]:
        def record(connection: Connection, *_: Any) -> None:
            # In autocommit SQLAlchemy still reports a begin and an end: no statements.
            if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
                callback(classify(sql))

        return record

    listeners: list[tuple[str, Callable[..., None]]] = [("before_cursor_execute", on_statement)]
    if transactions:
        listeners += [
            ("begin", on_transaction("BEGIN")),
            ("commit", on_transaction("COMMIT")),
            ("rollback", on_transaction("ROLLBACK")),
            ("savepoint", on_transaction("SAVEPOINT")),
            ("release_savepoint", on_transaction("RELEASE SAVEPOINT")),
            ("rollback_savepoint", on_transaction("ROLLBACK TO SAVEPOINT")),
        ]
    with ExitStack() as stack:
        for name, listener in listeners:
            event.listen(engine, name, listener)
            stack.callback(event.remove, engine, name, listener)
        yield


def _rows(parameters: Any, context: Any) -> int:
    """The parameter sets of an executemany: a list of them, or (a batch of
    SQLAlchemy's "insertmanyvalues", one multi-row INSERT) the execution's."""
    if isinstance(parameters, list | tuple) and isinstance(
        parameters[0] if parameters else None, dict | list | tuple
    ):
        return len(parameters)
    return len(getattr(context, "parameters", None) or ()) or 1


class StatementRecorder:
    """What the `statements` fixture yields: `recording(db)` records the statements
    sent to `db` (a `Database` or an `Engine`) in a `with` block."""

    @contextmanager
    def recording(
        self, target: Database | Engine, *, transactions: bool = False
    ) -> Iterator[Statements]:
        """The statements sent in the block, filled in as they run; with
        `transactions`, BEGIN, COMMIT, ROLLBACK and SAVEPOINTs too."""
        seen = Statements()
        with watching(target, seen.append, transactions=transactions):
            yield seen
