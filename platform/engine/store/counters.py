"""Each agent's open tickets, as migration 0018's triggers keep them.

`agent_open_tickets` holds, per agent, how many tickets are assigned to them in a
category of `OPEN_CATEGORIES`. Row triggers on `tickets` change it in the transaction
of every insert, delete, reassignment and change of category, so it is exact at every
commit, under concurrent writes, on both databases. Routing reads it
(`store.members`); the desk counts an agent's own queue from it. `ordered_reads` keeps
the other queues' capped counts on their index ranges.

`recount` rebuilds it from the tickets: only for rows written with triggers off (a
bulk load under `session_replication_role = replica`); nothing in the platform needs
it otherwise.
"""

from __future__ import annotations

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session

from gongdan.engine.store.models import AgentOpenTickets, Ticket
from gongdan.vocabulary import OPEN_CATEGORIES

__all__ = ["open_tickets_of", "ordered_reads", "recount"]


def open_tickets_of(session: Session, user_id: int) -> int:
    """How many open tickets are assigned to `user_id` (one primary-key lookup)."""
    found = session.scalar(
        select(AgentOpenTickets.open_tickets).where(AgentOpenTickets.user_id == user_id)
    )
    return int(found or 0)


def ordered_reads(session: Session) -> None:
    """On PostgreSQL, for the rest of this read's transaction, have the planner read
    indexes in order rather than build a bitmap or sort: a capped count
    (`QueueService.counts`) then reads its queue's index range for at most the cap's
    rows, where a bitmap over every open ticket (chosen on an estimate the agent's
    scope makes too small) cannot stop at the LIMIT and grows with the backlog."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL enable_bitmapscan = off"))
        session.execute(text("SET LOCAL enable_sort = off"))


def recount(session: Session) -> int:
    """Rebuild every agent's count from the tickets (one scan of open tickets); returns
    how many agents have a count. Run inside a write transaction."""
    session.execute(delete(AgentOpenTickets))
    counted = (
        select(Ticket.assignee_id, func.count())
        .where(Ticket.assignee_id.is_not(None), Ticket.state_category.in_(OPEN_CATEGORIES))
        .group_by(Ticket.assignee_id)
    )
    session.execute(insert(AgentOpenTickets).from_select(["user_id", "open_tickets"], counted))
    return int(session.scalar(select(func.count()).select_from(AgentOpenTickets)) or 0)
