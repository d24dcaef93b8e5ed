"""Why a transition was refused, in the reader's language with labels, not ids.

The engine words a refused transition in English with ids (`'resolve' cannot be taken
from state 'new' (only from in_progress)`, `'approve' is for agent only`); a page that
lists such refusals (the queue's bulk outcomes) says them with the transition's,
states' and roles' labels from the workflows of the tickets concerned. Anything else
goes through `translate_message` as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from gongdan.bundle.compiled import Bundle
from gongdan.ui.i18n import localise, translate, translate_message

__all__ = ["refusal_text"]

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"^(?:\S+: )?'(?P<transition>[^']+)' cannot be taken from state "
            r"'(?P<state>[^']+)' \(only from (?P<sources>.+)\)$"
        ),
        "refusal.from_state",
    ),
    (re.compile(r"^(?:\S+: )?'(?P<transition>[^']+)' is for (?P<roles>.+) only$"), "refusal.roles"),
    (
        re.compile(r"^(?:\S+: )?the conditions of '(?P<transition>[^']+)' do not hold$"),
        "refusal.conditions",
    ),
    (
        re.compile(r"^(?:\S+: )?no transition '(?P<transition>[^']+)' in workflow '[^']+'$"),
        "refusal.not_in_workflow",
    ),
    (re.compile(r"^is not asked for by '(?P<transition>[^']+)'$"), "refusal.not_asked"),
)


def refusal_text(bundle: Bundle, type_ids: Iterable[str], message: str, language: str) -> str:
    """`message` (an engine refusal) with labels from the workflows of `type_ids`."""
    workflows = [
        bundle.workflows[bundle.ticket_types[t].workflow]
        for t in dict.fromkeys(type_ids)
        if t in bundle.ticket_types and bundle.ticket_types[t].workflow in bundle.workflows
    ]

    def labels(kind: str) -> Callable[[str], str]:
        def label(name: str) -> str:
            for workflow in workflows:
                if kind == "state" and name in workflow.states:
                    return localise(workflow.states[name].label, language) or name
                for transition in workflow.transitions if kind == "transition" else ():
                    if transition.id == name:
                        return localise(transition.label, language) or name
            return name

        return label

    state, transition = labels("state"), labels("transition")
    for pattern, key in _PATTERNS:
        match = pattern.match(message.strip())
        if match is None:
            continue
        found = match.groupdict()
        params = {"transition": transition(found["transition"])}
        if "state" in found:
            params["state"] = state(found["state"])
            params["sources"] = ", ".join(state(s.strip()) for s in found["sources"].split(","))
        if "roles" in found:
            params["roles"] = ", ".join(
                _role(r.strip(), language) for r in found["roles"].split(",")
            )
        return translate(language, key, **params)
    return translate_message(message, language)


def _role(role: str, language: str) -> str:
    text = translate(language, f"account.role_{role}")
    return role if text == f"account.role_{role}" else text
