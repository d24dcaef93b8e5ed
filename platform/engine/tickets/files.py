"""Adding files to a ticket after it was created (a requester: to their own ticket).

Files live in the ticket type's attachment fields (DESIGN.md); uploads are stored first
(`attachments.store_upload`) and then put into a field. Staff change any field through
`update_ticket`; a requester may only add files, to the fields that are not internal
and not read-only in the ticket's current state, of a ticket they requested.
"""

from __future__ import annotations

from typing import Any

from gongdan.engine.automation.automations import run_automations
from gongdan.engine.store.models import Ticket
from gongdan.engine.tickets.changes import update_fields
from gongdan.engine.tickets.tickets import _link_attachments
from gongdan.engine.unit_of_work import UnitOfWork
from gongdan.errors import PermissionDenied, ValidationFailed
from gongdan.forms.data import condition_values
from gongdan.forms.shapes import Holds

__all__ = ["add_files"]

MAX_FILES_PER_FIELD = 50


def add_files(
    ctx: UnitOfWork,
    key: str,
    field_id: str,
    attachment_ids: list[Any],
    *,
    expected_version: int | None = None,
) -> Ticket:
    """Add uploaded files to an attachment field of `key` (after those already there)."""
    ticket = ctx.ticket(key, expected_version=expected_version)
    ticket_type = ctx.ticket_type(ticket)
    field = ticket_type.field_map.get(field_id)
    if field is None or field.holds is not Holds.FILES:
        raise ValidationFailed(
            f"'{field_id}' is not an attachment field of {ticket.ticket_type}",
            {field_id: "is not an attachment field"},
        )
    if not ctx.actor.is_staff:
        if ticket.requester_id != ctx.actor.user_id:
            raise PermissionDenied(f"only the requester of {key} adds files to it")
        if field.internal:
            raise ValidationFailed(
                "requesters cannot set internal fields", {field_id: "is not a field you can set"}
            )
    if ticket.state in field.readonly_in:
        raise ValidationFailed(
            f"read-only in state '{ticket.state}'",
            {field_id: f"is read-only in state '{ticket.state}'"},
        )
    new = [str(i) for i in attachment_ids if str(i).strip()]
    if not new:
        raise ValidationFailed("no file was sent", {field_id: "choose a file to upload"})
    data = dict(ticket.data or {})
    current = data.get(field_id)
    if field.params.get("multiple"):
        old = [str(i) for i in current] if isinstance(current, list) else []
        value: Any = list(dict.fromkeys([*old, *new]))
        if len(value) > MAX_FILES_PER_FIELD:
            raise ValidationFailed(
                "too many files", {field_id: f"at most {MAX_FILES_PER_FIELD} files"}
            )
    else:
        value = new[-1]
    # Only the new files are checked and linked: those already there may be staff's.
    _link_attachments(
        ctx, ticket, ticket_type, {field_id: new if isinstance(value, list) else value}
    )
    previous = condition_values(ticket_type.field_map, ctx.values(ticket))
    if not update_fields(ctx, ticket, data={field_id: value}):
        return ticket  # (the same files again: nothing changed)
    ctx.outbox("ticket.updated", {"ticket": ticket.key, "fields": [field_id]})
    run_automations(ctx, ticket, "ticket.updated", previous=previous)
    return ticket
