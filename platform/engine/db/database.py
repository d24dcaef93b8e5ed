"""Connecting to the database: engine settings per dialect, transactions, migrations.

SQLite (the embedded default) runs in WAL mode with foreign keys on, and every
transaction starts with `BEGIN IMMEDIATE`, so concurrent writers queue on the
database lock (busy timeout) instead of failing on upgrade from a read lock.
PostgreSQL uses psycopg 3 with READ COMMITTED; row locks and optimistic versions do
the rest. Statements are not prepared server-side, except the few hot ones of a
write marked `prepared(...)` (fixed shapes, no JSONB filters, so a generic plan
fits them): those skip the server's parse and plan from their second execution on a
connection.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql.expression import Executable

__all__ = ["DEFAULT_URL", "PREPARED", "Database", "DriverStatement", "database_url", "prepared"]

DEFAULT_URL = "sqlite:///./gongdan.db"
MIGRATIONS = Path(__file__).parent / "migrations"
PREPARED = "gongdan_prepared"
NEVER_PREPARE = 2**62  # executions before psycopg prepares an unmarked statement
_Statement = TypeVar("_Statement", bound=Executable)


def prepared(statement: _Statement) -> _Statement:
    """`statement` marked to be prepared server-side on PostgreSQL (ignored on SQLite).
    Only for statements of fixed shape whose plan does not depend on the values."""
    return statement.execution_options(**{PREPARED: True})


class DriverStatement:
    """A fixed statement run on the SQLite driver itself, compiled once: its rows are
    the driver's tuples, values as stored (no type processing of results; the values
    bound go through their types' bind processors, as SQLAlchemy would store them).
    For the hottest reads and writes of the embedded default, where SQLAlchemy's
    execution costs several times the query (measured: a team's members with their
    open tickets, 160 us through `Connection.execute` and 25 us on `sqlite3`; a
    write's event rows, 117 us for one row). It runs inside the session's
    transaction; statement listeners (`before_cursor_execute`) do not see it."""

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self._compiled: tuple[str, tuple[str, ...], dict[str, int]] | None = None
        self._defaults: dict[str, Any] = {}  # literals SQLAlchemy binds itself
        self._processors: tuple[tuple[int, Any], ...] = ()  # (position, bind processor)

    def _compile(self, dialect: Any) -> tuple[str, tuple[str, ...], dict[str, int]]:
        if self._compiled is None:
            compiled = self.statement.compile(dialect=dialect)
            names = tuple(compiled.positiontup or ())
            self._defaults = dict(compiled.params)
            processors = [
                (n, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
                for n, name in enumerate(names)
            ]
            self._processors = tuple((n, p) for n, p in processors if p is not None)
            columns = {
                c.name: n for n, c in enumerate(getattr(self.statement, "selected_columns", ()))
            }
            self._compiled = (str(compiled), names, columns)
        return self._compiled

    def columns(self, session: Session) -> dict[str, int]:
        """Each result column's position in a row."""
        return self._compile(session.get_bind().dialect)[2]

    def _bound(self, names: tuple[str, ...], row: dict[str, Any]) -> list[Any]:
        values = {**self._defaults, **row}
        bound = [values[name] for name in names]
        for n, process in self._processors:
            if bound[n] is not None:
                bound[n] = process(bound[n])
        return bound

    def _driver(self, session: Session) -> Any:
        driver = session.connection().connection.dbapi_connection
        assert driver is not None  # noqa: S101 - a connection in a transaction
        return driver

    def rows(self, session: Session, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        sql, names, _ = self._compile(session.get_bind().dialect)
        return list(self._driver(session).execute(sql, self._bound(names, params)).fetchall())

    def run_many(self, session: Session, rows: list[dict[str, Any]]) -> None:
        sql, names, _ = self._compile(session.get_bind().dialect)
        self._driver(session).executemany(sql, [self._bound(names, row) for row in rows])

    def insert(self, session: Session, rows: list[dict[str, Any]]) -> list[int]:
        """Run an INSERT once per row; the new rows' ids (rowids), in order. Rows of
        one executemany get consecutive rowids: SQLite has one writer, and a table
        whose key is its rowid gives each new row the highest one so far plus one."""
        sql, names, _ = self._compile(session.get_bind().dialect)
        driver = self._driver(session)
        if len(rows) <= 8:  # a write's few rows: cheaper one by one than in a batch
            return [int(driver.execute(sql, self._bound(names, row)).lastrowid) for row in rows]
        driver.executemany(sql, [self._bound(names, row) for row in rows])
        last = int(driver.execute("SELECT last_insert_rowid()").fetchone()[0])
        return list(range(last - len(rows) + 1, last + 1))


def _prepare_marked(engine: Engine) -> None:
    """psycopg prepares a marked statement once per connection, then only binds and
    executes it (the others never reach `NEVER_PREPARE` executions)."""

    @event.listens_for(engine, "do_execute")
    def _execute(cursor: Any, statement: str, parameters: Any, context: Any) -> bool | None:
        if context.execution_options.get(PREPARED):
            cursor.execute(statement, parameters, prepare=True)
            return True
        return None


def database_url() -> str:
    """`GONGDAN_DATABASE_URL`, or the embedded SQLite file."""
    return os.environ.get("GONGDAN_DATABASE_URL", DEFAULT_URL)


def _sqlite_engine(url: str) -> Engine:
    parsed = make_url(url)
    memory = parsed.database in (None, "", ":memory:")
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 60}}
    if memory:
        kwargs["poolclass"] = StaticPool
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class Database:
    """One database: its engine, its sessions and its migrations."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url or database_url()
        if self.url.startswith("sqlite"):
            self.engine = _sqlite_engine(self.url)
        else:
            self.engine = create_engine(
                self.url,
                pool_size=10,
                max_overflow=20,
                # Recycle instead of pinging before every checkout (a round trip per write).
                pool_recycle=1800,
                # No server-side prepared statements but the marked ones (`prepared`):
                # PostgreSQL's generic plan for a prepared query misjudges JSONB filters
                # (measured 15.6 ms vs 0.4 ms). psycopg's None would refuse even those.
                connect_args={"prepare_threshold": NEVER_PREPARE},
            )
            _prepare_marked(self.engine)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        with self.sessions.begin() as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads (still one transaction, for a consistent view)."""
        with self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def read_once(self) -> Iterator[Connection]:
        """A connection for one quick lookup (a bearer token on every API request). On
        PostgreSQL it runs in autocommit: no BEGIN and COMMIT round trips around one
        SELECT (and a write it makes commits by itself). On SQLite an ordinary
        transaction."""
        if self.dialect == "postgresql":
            with self.engine.connect() as connection:
                yield connection.execution_options(isolation_level="AUTOCOMMIT")
        else:
            with self.engine.begin() as connection:
                yield connection

    def upgrade(self, revision: str = "head") -> None:
        """Bring the schema to `revision` with Alembic (`gongdan db upgrade`)."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)

    def dispose(self) -> None:
        self.engine.dispose()
