"""Each agent's open tickets, as migration 0016's triggers keep them.

`agent_open_tickets` holds, per agent, how many tickets are assigned to them in a
category of `OPEN_CATEGORIES`. Row triggers on `tickets` change it in the transaction
of every insert, delete, reassignment and change of category, so it is exact at every
commit, under concurrent writes, on both databases. Routing reads it
(`store.members`); the desk counts an agent's own queue from it.

`recount` rebuilds it from the tickets: only for rows written with triggers off (a
bulk load under `session_replication_role = replica`); nothing in the platform needs
it otherwise.
"""

from __future__ import annotations

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from gongdan.engine.store.models import AgentOpenTickets, Ticket
from gongdan.vocabulary import OPEN_CATEGORIES

__all__ = ["open_tickets_of", "recount"]


def open_tickets_of(session: Session, user_id: int) -> int:
    """How many open tickets are assigned to `user_id` (one primary-key lookup)."""
    found = session.scalar(
        select(AgentOpenTickets.open_tickets).where(AgentOpenTickets.user_id == user_id)
    )
    return int(found or 0)


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
