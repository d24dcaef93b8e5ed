"""What a notification template sees, built for ONE recipient.

Everything is read as that recipient (or, for an address without an account or a
user who may not see the ticket, as the ticket's requester) from the batch's reads
(`engine.read_mail_batch`), with the same permission scoping as the web and the API,
so a requester's mail never holds an internal field or an internal note.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from gongdan.bundle.compiled import Bundle
from gongdan.bundle.zones import format_when, reader_zone
from gongdan.engine import CommentRecord, MailReads, Person, TicketRecord
from gongdan.rules.workflow import Actor
from gongdan.vocabulary import Role

__all__ = ["PRIORITY_LABELS", "TARGET_LABELS", "localised", "reader_for", "template_context"]

PRIORITY_LABELS = {
    "low": {"en": "low", "zh-CN": "低"},
    "normal": {"en": "normal", "zh-CN": "普通"},
    "high": {"en": "high", "zh-CN": "高"},
    "urgent": {"en": "urgent", "zh-CN": "紧急"},
}
TARGET_LABELS = {
    "first_response": {"en": "first response", "zh-CN": "首次响应"},
    "next_response": {"en": "next response", "zh-CN": "后续响应"},
    "resolution": {"en": "resolution", "zh-CN": "解决"},
}


def localised(label: Any, language: str) -> str:
    """A label (text or {locale: text}) in `language`, falling back to English."""
    if label is None or isinstance(label, str):
        return label or ""
    if isinstance(label, Mapping):
        return str(label.get(language) or label.get("en") or next(iter(label.values()), ""))
    return str(label)


def reader_for(
    reads: MailReads, person: Person, key: str, requester: Actor
) -> tuple[Actor, TicketRecord] | None:
    """The actor whose view of `key` the mail to `person` shows, and that view: the
    person's own, else the requester's (public) view. None if the ticket is gone."""
    return reads.view(key, (person.actor, requester))


def _comment(
    reads: MailReads,
    actor: Actor,
    record: TicketRecord,
    comment_id: int | None,
    changed_at: datetime | None,
) -> CommentRecord | None:
    """The comment the mail is about: the one named (a reply), or the one written
    with the change that sent the mail. Only among those `actor` may read."""
    comments = reads.comments(actor, record.key)
    if comment_id is not None:
        return next((c for c in comments if c.id == comment_id), None)
    if changed_at is None:
        return None
    same = [c for c in comments if c.created_at == changed_at]
    return same[-1] if same else None


def template_context(
    *,
    bundle: Bundle,
    reads: MailReads,
    person: Person,
    actor: Actor,
    record: TicketRecord,
    payload: Mapping[str, Any],
    base_url: str,
) -> dict[str, Any]:
    """The variables of a notification template for `person`, who reads as `actor`."""
    language = person.language
    ticket_type = bundle.ticket_types.get(record.type)
    workflow = bundle.workflows.get(ticket_type.workflow) if ticket_type else None
    state = workflow.states.get(record.state) if workflow else None
    names = {p.email: p.name for p in reads.find_people([record.requester])}
    assignee = reads.find_people([record.assignee]) if record.assignee else []
    staff = actor.is_staff and actor.role is not Role.SYSTEM
    url = f"{base_url}/tickets/{record.key}" if staff else f"{base_url}/portal/tickets/{record.key}"
    comment_id = payload.get("comment")
    comment = _comment(
        reads,
        actor,
        record,
        int(str(comment_id)) if str(comment_id or "").isdigit() else None,
        record.updated_at,
    )
    author = reads.find_people([comment.author]) if comment and comment.author else []
    fields = {
        (f.id): localised(f.label, language) or f.id
        for f in (ticket_type.fields if ticket_type else ())
        if f.id in record.data
    }
    target = (
        str(payload.get("target") or "") if str(payload.get("target", "")) in TARGET_LABELS else ""
    )
    due = getattr(record, f"{target}_due", None) if target else None
    return {
        "recipient": {"name": person.name, "email": person.email, "language": language},
        "ticket": {
            "key": record.key,
            "title": record.title,
            "description": record.description,
            "state": record.state,
            "state_label": localised(state.label, language)
            if state and state.label
            else record.state,
            "priority": record.priority,
            "priority_label": localised(PRIORITY_LABELS.get(record.priority), language)
            or record.priority,
            "type": record.type,
            "type_name": localised(ticket_type.name, language) if ticket_type else record.type,
            "requester": record.requester,
            "requester_name": names.get(record.requester, record.requester),
            "assignee": record.assignee,
            "assignee_name": assignee[0].name if assignee else None,
            "team": record.team,
            "fields": dict(record.data),
            "field_labels": fields,
            "url": url,
        },
        "comment": {
            "body": comment.body,
            "author": author[0].name if author else (comment.author or ""),
            "public": comment.public,
            # Its files as links (sign-in needed), never attached to the mail.
            "files": [
                {
                    "name": f.filename,
                    "url": f"{base_url}/{'desk' if staff else 'portal'}/attachments/{f.id}",
                }
                for f in comment.files
            ],
        }
        if comment
        else None,
        "sla": {
            "target": target,
            "target_label": localised(TARGET_LABELS.get(target), language),
            # In the recipient's zone, named: "2026-11-02 17:00 UTC+8".
            "due": format_when(due, reader_zone(person.timezone, bundle)) if due else None,
        },
        "survey_url": base_url
        + str(payload.get("answer_path") or f"/portal/tickets/{record.key}/survey"),
    }
