"""The one sort and cursor implementation of the ticket list and the queues: the value a
cursor carries is the value the database sorts by (else a page would skip or repeat
tickets), and a cursor of another sort or a forged one is refused clearly.
"""

from __future__ import annotations

import base64
import json

import pytest
from sqlalchemy import select

from gongdan.engine.reads.paging import (
    LIST_SORTS,
    NEVER,
    QUEUE_SORTS,
    decode_cursor,
    encode_cursor,
    sort_expression,
    sort_value,
)
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import Ticket
from gongdan.errors import ValidationFailed
from tests.factories import NOW, incident, maintenance, make_user


def test_every_sort_of_the_list_is_a_sort_of_the_queues() -> None:
    assert set(LIST_SORTS) <= set(QUEUE_SORTS)


def test_the_cursor_value_is_the_value_the_database_sorts_by(
    db: Database, service: TicketService
) -> None:
    agent = make_user(db, "li.wei@example.com", teams=("service_desk",))
    requester = make_user(db, "zhang.san@example.com", "requester")
    for priority in ("low", "urgent", "normal"):
        key = incident(service, agent, requester=requester.email).ticket.key
        service.update_ticket(agent, key, {"priority": priority})
    maintenance(service, agent)  # another type, another SLA policy (or none)
    service.take_transition(agent, "INC-1", "start")  # first response due no more
    seen = set()
    with db.reading() as session:
        tickets = {t.id: t for t in session.scalars(select(Ticket))}
        for sort in QUEUE_SORTS:
            column = sort_expression(sort, db.dialect)
            in_sql = dict(session.execute(select(Ticket.id, column)).all())
            in_python = {i: sort_value(t, sort) for i, t in tickets.items()}
            assert in_sql == in_python, sort
            seen |= set(in_python.values())
    assert NEVER in seen  # a ticket without a deadline sorts last (ascending)


@pytest.mark.parametrize(
    ("sort", "value"),
    [("key", 7), ("priority", 3), ("created_at", NOW), ("sla", NEVER)],
)
def test_a_cursor_reads_back_what_it_was_made_of(sort: str, value: object) -> None:
    assert decode_cursor(encode_cursor(value, 42), sort) == (value, 42)


def _raw(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("cursor", "sort"),
    [
        (encode_cursor(NOW, 1), "key"),  # a cursor of a sort by time, sorting by key
        (encode_cursor(3, 1), "created_at"),  # and the other way round
        (encode_cursor(True, 1), "priority"),  # a boolean is no rank
        (_raw(["2026-11-02T09:00:00", 1]), "updated_at"),  # a moment without its offset
        (_raw([1, "1"]), "key"),  # an id that is no number
        (_raw([1]), "key"),
        ("not a cursor", "key"),
    ],
)
def test_a_cursor_of_another_sort_or_a_forged_one_is_refused(cursor: str, sort: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        decode_cursor(cursor, sort, of="queue")
    assert refused.value.fields == {"cursor": "is not a cursor from this queue"}
