"""Statements of the reports written by hand: the JIT setting of a report read, and the
claim of a mailed report's due instant (an insert that does nothing when it exists)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from gongdan.engine.store.models import ReportMailing

__all__ = ["claim_report_mailing", "without_jit"]


def without_jit(session: Session) -> None:
    """On PostgreSQL, no JIT compilation for the rest of this transaction (`SET LOCAL`):
    a report's statement runs in tens of milliseconds, and compiling it took 100 ms
    more (EXPLAIN ANALYZE at 1,000,000 tickets, bench/reports.py). Nothing on SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))


def claim_report_mailing(
    session: Session, report_id: str, due: datetime, now: datetime, recipients: int
) -> bool:
    """Insert the claim of (report, due instant) unless one exists, in the caller's
    transaction: True if this call inserted it. `INSERT … ON CONFLICT DO NOTHING
    RETURNING` on both databases: of concurrent claims, one returns a row (the others
    wait for its commit on PostgreSQL, then insert nothing). The ORM has no
    insert-if-absent."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(ReportMailing)
        .values(report_id=report_id, due_at=due, claimed_at=now, recipients=recipients)
        .on_conflict_do_nothing(index_elements=["report_id", "due_at"])
        .returning(ReportMailing.report_id)
    )
    return session.execute(statement).first() is not None
