"""Who hears of a notification, and with which template.

`notify` and `survey` actions name their recipients (resolved by the engine). The
ticket events pick theirs here:

| event | template | to |
|---|---|---|
| ticket.created | created | the requester |
| comment.added by staff | replied | the requester (unless they wrote it) |
| comment.added by the requester | requester_replied | the assignee, or the team's members |
| ticket.transitioned into a resolved state | resolved | the requester |
| sla.warning | sla_warning | the assignee, or the team's members |
| comment.added, ticket.transitioned (any state), comment.note (internal) | follower_update | the ticket's followers |

The colleagues a requester copied in (CCs) get what the requester gets (the created,
replied and resolved mails), never an internal note. Followers (agents) get every
comment, internal or public, and every state change, with `follower_update`, unless
the mail already goes to them in another role. Nobody gets a mail about their own
comment. Last, each recipient's notification preferences (`engine.muted_people`: mail
off, or this kind of news off) drop the mails they do not want.

An event mail goes out only when the bundle has its template (remove
`templates/created.yaml` and nobody gets "we received your request"), and the
resolved and SLA mails only when the workflow or the SLA policy does not already
`notify` the same people for the same moment, so nobody gets two mails.
"""

from __future__ import annotations

from collections.abc import Iterable

from gongdan.bundle.compiled import Bundle
from gongdan.channels.email.templates import MailTemplates
from gongdan.engine import MailReads, Notification, Person, news_kind
from gongdan.rules.actions import Action
from gongdan.rules.workflow import WorkflowDef
from gongdan.vocabulary import StateCategory

__all__ = ["audience"]


def audience(
    notification: Notification, bundle: Bundle, templates: MailTemplates, reads: MailReads
) -> list[tuple[str | None, Person]]:
    """(template id, recipient) of every mail a notification sends (`reads`: the
    batch's people and tickets, `engine.read_mail_batch`)."""
    key = str((notification.ticket or {}).get("key") or "")
    topic = notification.topic
    out: list[tuple[str | None, Person]]
    if topic in ("notify", "survey"):
        template = notification.template
        if topic == "survey" and (template is None or template.startswith("survey:")):
            template = "survey"
        out = [(template, p) for p in reads.find_people(notification.recipients)]
    else:
        template, people = _event(notification, bundle, reads, key)
        out = [(template, p) for p in people] if template and templates.has(template) else []
        if templates.has(FOLLOWER_TEMPLATE) and topic in _FOLLOWED:
            told = {p.email for _, p in out} | {str(notification.payload.get("by") or "")}
            out += [
                (FOLLOWER_TEMPLATE, p)
                for p in reads.people_of_ticket(key, "followers")
                if p.email not in told
            ]
    muted = reads.muted([p.email for _, p in out], news_kind(topic, notification.payload))
    return [(t, p) for t, p in out if p.email not in muted]


FOLLOWER_TEMPLATE = "follower_update"
# What followers hear of (besides the mails they get as assignee or team member).
_FOLLOWED = frozenset({"comment.added", "comment.note", "ticket.transitioned"})


def _requester_and_cc(reads: MailReads, key: str) -> list[Person]:
    """The requester and the colleagues copied in: they hear the same public news."""
    return reads.people_of_ticket(key, "requester") + reads.people_of_ticket(key, "cc")


def _event(
    notification: Notification, bundle: Bundle, reads: MailReads, key: str
) -> tuple[str | None, list[Person]]:
    topic, payload, ticket = notification.topic, notification.payload, notification.ticket or {}
    if topic == "ticket.created":
        return "created", _requester_and_cc(reads, key)
    if topic == "comment.added":
        author = str(payload.get("by") or "")
        if payload.get("by_staff"):
            return "replied", [p for p in _requester_and_cc(reads, key) if p.email != author]
        requester = {p.email for p in reads.people_of_ticket(key, "requester")}
        agents = [p for p in reads.people_of_ticket(key, "agents") if p.email not in requester]
        return "requester_replied", agents
    if topic == "ticket.transitioned":
        workflow = _workflow(bundle, str(ticket.get("type") or ""))
        state = workflow.states.get(str(payload.get("to"))) if workflow else None
        if workflow is None or state is None or state.category != StateCategory.RESOLVED:
            return None, []
        if _notifies(workflow.on_enter.get(state.id, ()), ("requester",)):
            return None, []
        return "resolved", _requester_and_cc(reads, key)
    if topic == "sla.warning":
        if _sla_notifies(bundle, str(payload.get("target") or "")):
            return None, []
        return "sla_warning", reads.people_of_ticket(key, "agents")
    return None, []


def _workflow(bundle: Bundle, type_id: str) -> WorkflowDef | None:
    ticket_type = bundle.ticket_types.get(type_id)
    return bundle.workflows.get(ticket_type.workflow) if ticket_type else None


def _notifies(actions: Iterable[Action], targets: tuple[str, ...] | None = None) -> bool:
    return any(a.kind == "notify" and (targets is None or str(a.value) in targets) for a in actions)


def _sla_notifies(bundle: Bundle, target: str) -> bool:
    """Whether a warning of `target` already notifies someone: a percentage escalation
    of an SLA policy for that target, or an automation on sla.warning."""
    for policy in bundle.sla_policies:
        for escalation in policy.escalations:
            if (
                escalation.at_percent is not None
                and escalation.target == target
                and _notifies(escalation.actions)
            ):
                return True
    return any(a.on == "sla.warning" and _notifies(a.actions) for a in bundle.automations.values())
