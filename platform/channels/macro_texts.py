"""The reply texts of macros (`kind: Macro`): admin-written Jinja2, run in the sandbox.

Compiled once per bundle version, like the mail templates (`email.templates`, whose
sandboxed environment they share: no Python internals, no unsafe calls, a cap on what
one render produces); a syntax error is a `ConfigIssue` at the macro's file, line and
column, reported by `gongdan check`, `apply` and at start-up with the templates'
(`email.templates.check_templates`). Autoescaping is off: the reply is Markdown text
that the desk shows in a text box and sanitises like any comment when it shows it.

The placeholders: `ticket` (key, title, state, state_label, priority, type, fields),
`requester` (name, email) and `agent` (name, email, the person applying it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import TemplateSyntaxError
from jinja2.exceptions import SecurityError, TemplateError

from gongdan.bundle.compile_macros import MacroDef
from gongdan.bundle.compiled import Bundle
from gongdan.bundle.derived import PerBundle
from gongdan.channels.email.templates import MAX_RENDERED, sandbox
from gongdan.engine import TicketRecord, TicketService, find_people
from gongdan.errors import ConfigIssue, ValidationFailed

__all__ = ["MacroTexts", "Someone", "macro_issues", "render_reply", "reply_for_ticket"]


@dataclass(frozen=True, slots=True)
class Someone:
    """A person a reply names: its requester or the agent applying the macro."""

    name: str
    email: str
    language: str = "en"


class MacroTexts:
    """The compiled reply texts of one bundle's macros."""

    def __init__(self, bundle: Bundle) -> None:
        self.issues: list[ConfigIssue] = []
        self._env = sandbox()
        self._compiled: dict[tuple[str, str], Any] = {}
        for macro in bundle.macros.values():
            for locale, text in macro.reply.items():
                try:
                    self._compiled[macro.id, locale] = self._env.from_string(text)
                except TemplateSyntaxError as error:
                    self.issues.append(_issue(macro, locale, error))

    def render(self, macro: MacroDef, locale: str, context: Mapping[str, Any]) -> str:
        used, _ = macro.reply_text(locale)
        compiled = self._compiled.get((macro.id, used))
        if compiled is None:
            return ""
        try:
            return str(compiled.render(dict(context)))[:MAX_RENDERED]
        except (SecurityError, TemplateError) as error:
            raise ValidationFailed(
                f"the reply of macro '{macro.id}' cannot be filled in: {error}",
                {"macro": "its reply text fails; tell an administrator"},
            ) from error


def _issue(macro: MacroDef, locale: str, error: TemplateSyntaxError) -> ConfigIssue:
    message = f"template syntax error at line {error.lineno} of the text: {error.message}"
    if macro.doc is None:
        return ConfigIssue(f"macro {macro.id}", 1, 1, f"reply.{locale}", message)
    texts = macro.doc.data.get("reply")
    return macro.doc.issue(("reply", locale) if isinstance(texts, dict) else ("reply",), message)


_compiled: PerBundle[MacroTexts] = PerBundle(MacroTexts)


def macro_issues(bundle: Bundle) -> list[ConfigIssue]:
    """Every syntax error of the bundle's macro replies."""
    return sorted(MacroTexts(bundle).issues)


def render_reply(
    bundle: Bundle,
    macro: MacroDef,
    ticket: TicketRecord,
    requester: Someone,
    agent: Someone,
    *,
    state_label: str = "",
) -> str:
    """The macro's reply for `ticket` (a `TicketRecord`), in its requester's language
    (English, or the first given, when the macro lacks it); "" without a reply."""
    if not macro.reply:
        return ""
    context = {
        "ticket": {
            "key": ticket.key,
            "title": ticket.title,
            "state": ticket.state,
            "state_label": state_label or ticket.state,
            "priority": ticket.priority,
            "type": ticket.type,
            "fields": dict(ticket.data),
        },
        "requester": {"name": requester.name, "email": requester.email},
        "agent": {"name": agent.name, "email": agent.email},
    }
    return _compiled(bundle).render(macro, requester.language, context).strip() + "\n"


def _label(value: Any, language: str) -> str:
    """A config label (text or {locale: text}) in `language`, else English, else any."""
    if not isinstance(value, Mapping):
        return str(value or "")
    for candidate in (language, language.split("-")[0], "en"):
        if value.get(candidate):
            return str(value[candidate])
    return str(next(iter(value.values()), ""))


def reply_for_ticket(
    service: TicketService, bundle: Bundle, macro: MacroDef, ticket: TicketRecord, agent: Someone
) -> str:
    """The macro's reply for `ticket` (as the acting agent may read it), in the language
    of its requester (read from their account)."""
    if not macro.reply:
        return ""
    found = find_people(service.db, [ticket.requester])
    person = found[0] if found else None
    requester = Someone(
        person.name if person else ticket.requester.split("@")[0],
        ticket.requester,
        person.language if person else "en",
    )
    ticket_type = bundle.ticket_types.get(ticket.type)
    workflow = bundle.workflows.get(ticket_type.workflow) if ticket_type else None
    state = workflow.states.get(ticket.state) if workflow else None
    label = _label(state.label, requester.language) if state is not None and state.label else ""
    return render_reply(bundle, macro, ticket, requester, agent, state_label=label)
