"""A ticket's row: found by key, and the columns written beside the ORM's changes.

The ORM writes a ticket's own changes (state, fields, team…) and bumps its row
version with each, so a concurrent edit of the same version fails (`Conflict`). Two
writes must not bump it, and are plain UPDATEs of their columns here:

- `touch_ticket`: a comment moves `updated_at` only; a reply must not make someone
  else's concurrent edit of the fields fail.
- `write_sla_columns`: the SLA clocks, their deadlines and the next wake-up follow a
  change that has already counted in the row version; the ticket object then holds
  them as the row's committed values, not as a change of its own.

`load_ticket_by_key` is the lookup of every ticket write and single read (prepared
server-side on PostgreSQL: a fixed shape whose plan never depends on the key).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from gongdan.engine.store.database import prepared
from gongdan.engine.store.models import Ticket

__all__ = ["SLA_COLUMNS", "load_ticket_by_key", "touch_ticket", "write_sla_columns"]

# The columns `write_sla_columns` writes (a ticket's SLA state, as `automation.sla` keeps
# it): the clocks, their deadlines, the next wake-up, and what reports read of them.
SLA_COLUMNS = (
    "sla",
    "first_response_due",
    "next_response_due",
    "resolution_due",
    "sla_wakeup_at",
    "sla_policy",
    "first_response_seconds",
    "resolution_seconds",
    "first_response_in_time",
    "resolution_in_time",
)
_TICKET_BY_KEY = prepared(select(Ticket).where(Ticket.key == bindparam("key")))


def load_ticket_by_key(session: Session, key: str) -> Ticket | None:
    """The ticket `key`, loaded by the ORM into `session`, or None."""
    return session.scalar(_TICKET_BY_KEY, {"key": key})


def touch_ticket(session: Session, ticket: Ticket, now: datetime) -> None:
    """Set the ticket's `updated_at` to `now` without bumping its row version (one
    UPDATE; the ticket object follows it)."""
    session.execute(update(Ticket).where(Ticket.id == ticket.id).values(updated_at=now))


def write_sla_columns(session: Session, ticket: Ticket, values: dict[str, Any]) -> None:
    """Write `values` (the `SLA_COLUMNS`) on a stored ticket with one UPDATE that leaves
    its row version alone, after the session's pending changes; the ticket object then
    holds them as committed values (no change of its own to flush)."""
    session.flush()
    session.execute(
        update(Ticket).where(Ticket.id == ticket.id).values(**values),
        execution_options={"synchronize_session": False},
    )
    for name, value in values.items():
        set_committed_value(ticket, name, value)
