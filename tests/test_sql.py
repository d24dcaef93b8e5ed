"""The statement counter of tests/sql.py: how it classifies SQL, and that it sees what
reaches the driver on SQLite and PostgreSQL alike (ORM and Core statements,
executemany batches, the engine's own `DriverStatement`s, transaction control on
request), so a count in another test means the same thing on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, insert, select

from gongdan.engine.store.database import Database, DriverStatement
from gongdan.engine.store.models import Outbox, User
from tests.factories import make_user
from tests.sql import Kind, StatementRecorder, Statements, classify

CLASSIFIED: list[tuple[str, Kind, set[str], set[str]]] = [
    (
        "SELECT users.id FROM users JOIN memberships ON memberships.user_id = users.id",
        "select",
        {"users", "memberships"},
        set(),
    ),
    ("SELECT users_1.id FROM users AS users_1", "select", {"users"}, set()),
    ("(SELECT 1) UNION ALL (SELECT 2)", "select", set(), set()),
    ("SELECT ticket_links.id FROM ticket_links", "select", {"ticket_links"}, set()),
    ("SELECT events.id FROM events WHERE events.kind = 'tickets (x)'", "select", {"events"}, set()),
    (
        "SELECT tickets.id FROM tickets WHERE tickets.id = ? FOR UPDATE",
        "select",
        {"tickets"},
        set(),
    ),
    (
        "WITH n AS (SELECT nextval(CAST('number_inc' AS REGCLASS)) AS v) "
        "SELECT n.v, users.id FROM n, memberships JOIN users ON users.id = memberships.user_id",
        "select",
        {"memberships", "users"},
        set(),
    ),
    (
        "WITH t AS (INSERT INTO tickets (id) VALUES (%(t0_id)s)), "
        "o AS (INSERT INTO outbox (topic) SELECT %(o0_topic)s UNION ALL SELECT %(o1_topic)s) "
        "INSERT INTO events (kind) VALUES (%(e0_kind)s) RETURNING events.id",
        "insert",
        {"tickets", "outbox", "events"},
        {"tickets", "outbox", "events"},
    ),
    (
        "UPDATE tickets SET title=?, version=? WHERE tickets.id = ? AND tickets.version = ?",
        "update",
        {"tickets"},
        {"tickets"},
    ),
    (
        "UPDATE ticket_counters SET next = next + 1 WHERE ticket_type = "
        "(SELECT tickets.ticket_type FROM tickets WHERE tickets.id = ?)",
        "update",
        {"ticket_counters", "tickets"},
        {"ticket_counters"},
    ),
    (
        "DELETE FROM memberships WHERE memberships.team_id = ?",
        "delete",
        {"memberships"},
        {"memberships"},
    ),
    (
        "INSERT INTO routing_pointers (team_id, turns) VALUES (?, ?) "
        "ON CONFLICT (team_id) DO UPDATE SET turns = excluded.turns",
        "insert",
        {"routing_pointers"},
        {"routing_pointers"},
    ),
    (
        "WITH x AS (SELECT 1) DELETE FROM outbox WHERE id IN (SELECT * FROM x)",
        "delete",
        {"outbox"},
        {"outbox"},
    ),
    ("BEGIN IMMEDIATE", "begin", set(), set()),
    ("SAVEPOINT sa_savepoint_1", "savepoint", set(), set()),
    ("RELEASE SAVEPOINT sa_savepoint_1", "savepoint", set(), set()),
    ("ROLLBACK TO SAVEPOINT sa_savepoint_1", "savepoint", set(), set()),
    ("ROLLBACK", "rollback", set(), set()),
    ("COMMIT", "commit", set(), set()),
    ("PRAGMA foreign_keys=ON", "other", set(), set()),
    ("TRUNCATE tickets, users RESTART IDENTITY", "other", {"tickets", "users"}, set()),
]


@pytest.mark.parametrize(("sql", "kind", "tables", "writes"), CLASSIFIED)
def test_a_statement_is_classified_by_its_verb_and_tables(
    sql: str, kind: Kind, tables: set[str], writes: set[str]
) -> None:
    statement = classify(f"\n  {sql}\n")
    assert (statement.kind, set(statement.tables), set(statement.writes)) == (kind, tables, writes)
    assert statement.sql == sql  # whitespace collapsed, nothing else changed


def test_a_typo_in_a_kind_or_table_is_an_error_not_a_count_of_zero() -> None:
    seen = Statements([classify("SELECT users.id FROM users")])
    assert seen.count("select", table="users") == 1
    with pytest.raises(ValueError, match="unknown table 'user'"):
        seen.count("select", table="user")
    with pytest.raises(ValueError, match="unknown statement kind 'selects'"):
        seen.count("selects")  # type: ignore[arg-type]


def test_the_listing_names_each_statement_for_a_failure_message() -> None:
    seen = Statements(
        [
            classify("SELECT users.id FROM users"),
            classify("INSERT INTO outbox (topic) VALUES (?)", 3),
        ]
    )
    assert seen.kinds() == {"insert": 1, "select": 1}
    assert repr(seen).splitlines() == [
        "2 statements (insert 1, select 1):",
        "  1. select    users                    SELECT users.id FROM users",
        "  2. insert×3  outbox                   INSERT INTO outbox (topic) VALUES (?)",
    ]
    assert len(seen.excluding("insert")) == 1 and seen.only("insert")[0].rows == 3


def outbox_row(n: int) -> dict[str, object]:
    at = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    return {"topic": f"t{n}", "payload": {}, "created_at": at, "status": "pending",
            "attempts": 0, "next_attempt_at": at}  # fmt: skip


def test_orm_core_and_executemany_statements_are_each_seen_once(
    db: Database, statements: StatementRecorder
) -> None:
    make_user(db, "li.wei@example.com")
    with statements.recording(db) as seen, db.transaction() as session:
        session.scalars(select(User)).all()
        session.execute(insert(Outbox), [outbox_row(n) for n in range(3)])
        session.execute(insert(Outbox).returning(Outbox.id), [outbox_row(n) for n in range(4)])
    assert seen.kinds() == {"insert": 2, "select": 1}, seen
    assert [s.rows for s in seen.only("insert", table="outbox")] == [3, 4], seen
    assert seen.count(table="users") == 1 and seen[0].writes == frozenset(), seen


def test_the_engine_s_driver_statements_are_seen(
    db: Database, statements: StatementRecorder
) -> None:
    """`DriverStatement`s run on sqlite3 or psycopg directly, not through SQLAlchemy's
    execution: they announce themselves to the same listeners."""
    make_user(db, "li.wei@example.com")
    by_email = DriverStatement(select(User.id).where(User.email == bindparam("email")))
    outbox = DriverStatement(insert(Outbox).values({c: bindparam(c) for c in outbox_row(0)}))
    with statements.recording(db) as seen, db.transaction() as session:
        assert len(by_email.rows(session, {"email": "li.wei@example.com"})) == 1
        outbox.run_many(session, [outbox_row(0)])
        if db.dialect == "sqlite":  # (batches of raw rows are SQLite's)
            outbox.run_many(session, [outbox_row(n) for n in range(3)])
            assert len(outbox.insert(session, [outbox_row(n) for n in range(10)])) == 10
    expected = [("select", 1), ("insert", 1)]
    if db.dialect == "sqlite":
        expected += [("insert", 3), ("insert", 10)]
    assert [(s.kind, s.rows) for s in seen] == expected, seen
    assert seen.count("select", table="users") == 1, seen
    assert seen.count(table="outbox") == len(expected) - 1, seen


def test_transaction_control_is_counted_only_when_asked_for(
    db: Database, statements: StatementRecorder
) -> None:
    with statements.recording(db, transactions=True) as seen:
        with db.transaction() as session:
            session.execute(select(User.id))
            with session.begin_nested():
                session.execute(select(User.id))
        with db.read_once() as connection:  # autocommit on PostgreSQL
            connection.execute(select(User.id))
    once = ["select"] if db.dialect == "postgresql" else ["begin", "select", "commit"]
    assert [s.kind for s in seen] == [
        "begin", "select", "savepoint", "select", "savepoint", "commit", *once
    ], seen  # fmt: skip
    with statements.recording(db) as seen, db.transaction() as session:
        session.execute(select(User.id))
        with session.begin_nested():
            session.execute(select(User.id))
    assert seen.kinds() == {"select": 2}, seen
