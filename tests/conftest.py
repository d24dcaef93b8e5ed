"""Shared fixtures: real databases (a fresh SQLite file per test and the real
PostgreSQL), the example bundle, a TicketService over them, and `statements`, which
counts the SQL statements a block sends by kind and table (tests/sql.py).

PostgreSQL tests skip with a reason when the server is unreachable, except when
`GONGDAN_REQUIRE_SERVICES=1` (CI), where they fail instead.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from gongdan.bundle.compiled import Bundle
from gongdan.bundle.loader import load_bundle
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import Base
from tests.bundles import EXAMPLE
from tests.sql import StatementRecorder

PG_ADMIN_URL = os.environ.get(
    "GONGDAN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PG_TEST_DB = os.environ.get("GONGDAN_TEST_POSTGRES_DB", "gongdan_test")
REQUIRE_SERVICES = os.environ.get("GONGDAN_REQUIRE_SERVICES") == "1"

# Files the platform keeps (attachments, the session key) go to a throw-away folder, never
# into the checkout's ./data, unless a test points them elsewhere itself.
os.environ.setdefault("GONGDAN_DATA_DIR", tempfile.mkdtemp(prefix="gongdan-test-data-"))


def service_unavailable(reason: str) -> None:
    """Skip (on a laptop) or fail (in CI) a test whose service is down."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (GONGDAN_REQUIRE_SERVICES=1: services must be up in CI)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A freshly created, migrated PostgreSQL database for this test session."""
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS {PG_TEST_DB} WITH (FORCE)"))
            connection.execute(sa.text(f"CREATE DATABASE {PG_TEST_DB}"))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        service_unavailable(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc.orig}")
    url = sa.make_url(PG_ADMIN_URL).set(database=PG_TEST_DB).render_as_string(hide_password=False)
    database = Database(url)
    database.upgrade()
    database.dispose()
    yield url
    with admin.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {PG_TEST_DB} WITH (FORCE)"))
    admin.dispose()


def _truncate(database: Database) -> None:
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with database.engine.begin() as connection:
        connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A fresh, migrated database: SQLite file or the real PostgreSQL (same tests)."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'gongdan.db'}")
        database.upgrade()
    else:
        database = Database(request.getfixturevalue("postgres_url"))
        _truncate(database)
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def example_bundle(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    """The example types, workflows, SLAs and teams without its routing rules and
    automations, so engine tests see tickets exactly as they wrote them. Routing is
    tested with the whole example bundle (`routed_bundle`)."""
    root = tmp_path_factory.mktemp("example") / "config"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("routing"))
    return load_bundle(root)


@pytest.fixture(scope="session")
def routed_bundle() -> Bundle:
    """The example bundle exactly as shipped, routing rules included."""
    return load_bundle(EXAMPLE)


@pytest.fixture
def service(db: Database, example_bundle: Bundle) -> TicketService:
    return TicketService(db, example_bundle)


@pytest.fixture
def statements() -> StatementRecorder:
    """Records the SQL statements a block sends to a database, by kind and table::

        with statements.recording(db) as seen:  # db: a Database (web.db) or an Engine
            ...
        assert seen.kinds() == {"select": 3}, seen  # seen's repr lists the statements
        assert seen.count("select", table="users") == 1, seen

    `recording(db, transactions=True)` adds BEGIN/COMMIT/ROLLBACK/SAVEPOINT. What is
    seen and how (executemany batches, `DriverStatement`s): tests/sql.py."""
    return StatementRecorder()
