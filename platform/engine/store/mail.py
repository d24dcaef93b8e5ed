"""The mail log's one hand-written statement: the row of a mail sent or received."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session

from gongdan.engine.store.database import DriverStatement
from gongdan.engine.store.models import MailMessage, Ticket

__all__ = ["insert_mail_row"]

_COLUMNS = (
    "message_id", "direction", "comment_id", "sender", "recipients", "subject", "status",
    "reason", "at",
)  # fmt: skip

# The ticket's id is read inside the INSERT (NULL for no key or an unknown one).
_INSERT = DriverStatement(
    insert(MailMessage)
    .values(
        ticket_id=select(Ticket.id).where(Ticket.key == bindparam("ticket_key")).scalar_subquery(),
        **{name: bindparam(name) for name in _COLUMNS},
    )
    .returning(MailMessage.id)
)


def insert_mail_row(
    session: Session, ticket_key: str | None, values: dict[str, Any], *, flush_wait: bool = True
) -> int:
    """Insert one `mail_messages` row (`values`: its columns but the ticket's id, found
    from `ticket_key`); returns its id. One statement run on the driver, on both
    databases: the notifier logs every mail it sends as soon as it is sent, each in a
    transaction of its own (what makes a killed batch resend nothing already sent), so
    the ORM's flush, and the SELECT of the ticket's id before it, cost more than the
    mail's other bookkeeping together (bench/mail.py).

    Without `flush_wait` (PostgreSQL), the transaction's commit does not wait for the
    WAL to reach the disk (`synchronous_commit` off for it alone): the row is safe from
    any crash of ours the moment the commit returns, and lost only if PostgreSQL itself
    crashes in the next fraction of a second (then a mail is sent again, with the same
    Message-ID: at least once, as promised). The wait was the mail relay's bottleneck
    under load: one disk flush per mail."""
    if not flush_wait and session.get_bind().dialect.name == "postgresql":
        session.connection().exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
    (row,) = _INSERT.rows(session, {"ticket_key": ticket_key, **values})
    return int(row[0])
