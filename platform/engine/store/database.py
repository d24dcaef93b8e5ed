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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import JSON, create_engine, event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql.expression import Executable

__all__ = [
    "DATABASE_ERRORS",
    "DEFAULT_URL",
    "PREPARED",
    "Database",
    "DriverStatement",
    "database_unavailable",
    "database_url",
    "prepared",
]

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
    """A fixed statement run on the database driver itself (sqlite3 or psycopg),
    compiled once per dialect: its rows are the driver's tuples (no result processing:
    values as sqlite3 stores them, as psycopg converts them); the values bound go
    through their types' bind processors, as SQLAlchemy would send them.

    Only for the few statements every write runs (a routed create's members read, the
    batch of events and outbox rows), where SQLAlchemy's own work per execution costs
    more than the statement itself (bench/engine.py and bench/NOTES.md have the
    figures). What it must keep true: it runs inside the session's transaction, on
    PostgreSQL prepared server-side (so fixed shapes only), and statement listeners
    (`before_cursor_execute`) are told of it as of any other statement, so the tests
    that count statements see it."""

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self._compiled: dict[str, _DriverForm] = {}
        self.columns = {  # each result column's position in a row
            c.name: n
            for n, c in enumerate(getattr(statement, "selected_columns", ()))
            if isinstance(getattr(c, "name", None), str)  # (not an unnamed literal)
        }

    def _form(self, session: Session) -> tuple[_DriverForm, Connection]:
        connection = session.connection()
        dialect = connection.dialect
        form = self._compiled.get(dialect.name)
        if form is None:
            form = self._compiled[dialect.name] = _DriverForm(self.statement, dialect)
        return form, connection

    def rows(self, session: Session, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        form, connection = self._form(session)
        rows: list[tuple[Any, ...]] = form.execute(connection, form.bound(params)).fetchall()
        return rows  # (a list on both drivers)

    def run_many(self, session: Session, rows: list[dict[str, Any]]) -> None:
        form, connection = self._form(session)
        values = [form.bound(row) for row in rows]
        if len(values) == 1:
            form.execute(connection, values[0])
        else:
            form.announce(connection, values, many=True)
            _driver(connection).executemany(form.sql, values)

    def insert(self, session: Session, rows: list[dict[str, Any]]) -> list[int]:
        """SQLite: run an INSERT once per row; the new rows' ids (rowids), in order.
        Rows of one executemany get consecutive rowids: SQLite has one writer, and a
        table whose key is its rowid gives each new row the highest one so far plus
        one."""
        form, connection = self._form(session)
        if len(rows) <= 8:  # a write's few rows: cheaper one by one than in a batch
            return [int(form.execute(connection, form.bound(row)).lastrowid) for row in rows]
        values = [form.bound(row) for row in rows]
        form.announce(connection, values, many=True)
        driver = _driver(connection)
        driver.executemany(form.sql, values)
        last = int(driver.execute("SELECT last_insert_rowid()").fetchone()[0])
        return list(range(last - len(rows) + 1, last + 1))


class _DriverForm:
    """A statement compiled for one dialect: its SQL, its parameters' names and bind
    processors, its result columns' positions."""

    def __init__(self, statement: Any, dialect: Any) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        self.positional = bool(compiled.positional)
        if self.positional:
            names = tuple(compiled.positiontup or ())
            binds = [compiled.binds[name] for name in names]
        else:
            names = tuple(compiled.bind_names.values())
            binds = list(compiled.bind_names)
        self.names = names
        self.defaults = dict(compiled.params)  # literals SQLAlchemy binds itself
        self.literals = {k: v for k, v in self.defaults.items() if v is not None}
        processors = [b.type.dialect_impl(dialect).bind_processor(dialect) for b in binds]
        self.processors = tuple((n, p) for n, p in enumerate(processors) if p is not None)
        # Parameters stored as JSON text (SQLite): `{}` needs no serialiser.
        self.json = frozenset(
            n for n, b in enumerate(binds) if isinstance(b.type, JSON) and dialect.name == "sqlite"
        )
        self.prepare = dialect.name == "postgresql"

    def bound(self, row: dict[str, Any]) -> Any:
        # The statement's own literals (a constant in a subquery) merged up front, so a
        # statement with some raises and catches no KeyError at every execution.
        values = {**self.literals, **row} if self.literals else row
        try:
            bound = [values[name] for name in self.names]
        except KeyError:  # a value the caller leaves out: None, as SQLAlchemy binds it
            values = {**self.defaults, **row}
            bound = [values[name] for name in self.names]
        for n, process in self.processors:
            value = bound[n]
            if value is not None:
                # (an empty JSON object, the most common value of an event's parts)
                bound[n] = "{}" if value == {} and n in self.json else process(value)
        return bound if self.positional else dict(zip(self.names, bound, strict=True))

    def announce(self, connection: Connection, params: Any, *, many: bool = False) -> None:
        """Tell the statement listeners, if any (tests count statements with them)."""
        if connection.dispatch.before_cursor_execute:
            connection.dispatch.before_cursor_execute(
                connection, None, self.sql, params, None, many
            )

    def execute(self, connection: Connection, params: Any) -> Any:
        self.announce(connection, params)
        if self.prepare:
            return _driver(connection).execute(self.sql, params, prepare=True)
        return _driver(connection).execute(self.sql, params)


def _driver(connection: Connection) -> Any:
    driver = connection.connection.dbapi_connection
    assert driver is not None  # noqa: S101 - a connection in a transaction
    return driver


def _prepare_marked(engine: Engine) -> None:
    """psycopg prepares a marked statement once per connection, then only binds and
    executes it (the others never reach `NEVER_PREPARE` executions)."""

    @event.listens_for(engine, "do_execute")
    def _execute(cursor: Any, statement: str, parameters: Any, context: Any) -> bool | None:
        if context.execution_options.get(PREPARED):
            cursor.execute(statement, parameters, prepare=True)
            return True
        return None


# What the driver or the pool raises; `database_unavailable` tells an outage apart.
DATABASE_ERRORS: tuple[type[Exception], ...] = (sa_exc.DBAPIError, sa_exc.TimeoutError)


def database_unavailable(error: BaseException) -> bool:
    """Whether `error` says the database cannot be reached or answered (down, refusing
    connections, a connection cut, no connection free in the pool, SQLite locked),
    rather than that it refused a statement (a constraint, a bug): the first is worth
    retrying later, the second is not."""
    if isinstance(error, sa_exc.TimeoutError):
        return True
    if isinstance(error, sa_exc.DBAPIError):
        return bool(error.connection_invalidated) or isinstance(
            error, sa_exc.OperationalError | sa_exc.InterfaceError
        )
    return False


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
                # (a list filtered on custom fields would run far slower than with a
                # plan for its values). psycopg's None would refuse even the marked.
                # A server that does not answer fails a connection in seconds, not minutes.
                connect_args={"prepare_threshold": NEVER_PREPARE, "connect_timeout": 5},
            )
            _prepare_marked(self.engine)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Called after a write of this process that added outbox rows has committed
        # (`unit_of_work.begin_write`): the in-process relay starts at once.
        self._outbox_hooks: list[Callable[[], None]] = []

    def on_outbox_written(self, hook: Callable[[], None]) -> None:
        """Call `hook` (quick, never raising) after each write through this object
        that added outbox rows has committed."""
        self._outbox_hooks.append(hook)

    def outbox_written(self) -> None:
        for hook in list(self._outbox_hooks):
            hook()

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

    def ping(self) -> None:
        """Ask the database a trivial question (`/healthz`): raises if it cannot answer."""
        with self.read_once() as connection:
            connection.execute(text("SELECT 1"))

    def upgrade(self, revision: str = "head") -> None:
        """Bring the schema to `revision` with Alembic (`gongdan db upgrade`)."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)

    def dispose(self) -> None:
        self.engine.dispose()
