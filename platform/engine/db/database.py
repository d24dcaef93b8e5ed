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

__all__ = ["DEFAULT_URL", "PREPARED", "Database", "database_url", "prepared"]

DEFAULT_URL = "sqlite:///./gongdan.db"
MIGRATIONS = Path(__file__).parent / "migrations"
PREPARED = "gongdan_prepared"
NEVER_PREPARE = 2**62  # executions before psycopg prepares an unmarked statement
_Statement = TypeVar("_Statement", bound=Executable)


def prepared(statement: _Statement) -> _Statement:
    """`statement` marked to be prepared server-side on PostgreSQL (ignored on SQLite).
    Only for statements of fixed shape whose plan does not depend on the values."""
    return statement.execution_options(**{PREPARED: True})


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
