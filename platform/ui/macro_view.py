"""Macros as the desk shows them: the reply filled in for one ticket, and what the
macro will change, in the reader's language (field labels and option labels, the
transition's label, never ids).

Shared by the ticket page (`routes/desk/macros.py`), the queue's bulk action and the
REST API; the reply is rendered in the sandbox by `channels.macro_texts`.
"""

from __future__ import annotations

from gongdan.bundle.compile_macros import ME, NOBODY, MacroDef
from gongdan.bundle.compiled import Bundle
from gongdan.channels.macro_texts import Someone, reply_for_ticket
from gongdan.engine import Account
from gongdan.ui.display import shown_text
from gongdan.ui.i18n import localise, translate

__all__ = ["agent_of", "macro_changes", "reply_for_ticket"]


def agent_of(account: Account) -> Someone:
    """The agent applying a macro, as its reply names them."""
    return Someone(account.name, account.email, account.language)


def macro_changes(bundle: Bundle, macro: MacroDef, type_id: str, language: str) -> list[str]:
    """What applying the macro to a ticket of `type_id` changes, one line each."""
    lines = []
    ticket_type = bundle.ticket_types.get(type_id)
    for name, value in macro.set.items():
        if name == "priority":
            label = translate(language, "queues.col.priority")
            shown = translate(language, f"priority.{value}")
        elif name == "team":
            label = translate(language, "field.team")
            team = bundle.teams.get(str(value))
            shown = localise(team.name, language) if team else str(value)
        elif name == "assignee":
            label = translate(language, "field.assignee")
            shown = {
                ME: translate(language, "macro.assignee_me"),
                NOBODY: translate(language, "field.unassigned"),
            }.get(str(value), str(value))
        else:
            field = ticket_type.field_map.get(name) if ticket_type else None
            label = localise(field.label, language) if field else name
            items = field.field_type.display(field, value) if field else ()
            shown = ", ".join(shown_text(i, bundle, language) for i in items) or str(value)
        lines.append(translate(language, "macro.sets", field=label, value=shown))
    if macro.add_tags:
        lines.append(translate(language, "macro.tags", tags=", ".join(macro.add_tags)))
    if macro.transition:
        workflow = bundle.workflows.get(ticket_type.workflow) if ticket_type else None
        found = [t for t in workflow.transitions if t.id == macro.transition] if workflow else []
        step = localise(found[0].label, language) if found and found[0].label else ""
        lines.append(translate(language, "macro.transition", transition=step or macro.transition))
    return lines
