"""The form of a bulk transition on the desk's queue page, as its template needs it.

`rules.bulk_transition.plan_bulk_transition` says which form the selected tickets
share (or that their types' forms differ); this module turns that into views: the
transition's fields as the ticket page shows them (`ui.fields.transition_fields_form`,
every field required), the comment rule, and — when the forms
differ — one line per type saying what it asks for, in the user's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.datastructures import FormData

from gongdan.bundle.compiled import Bundle, TicketTypeDef
from gongdan.rules.bulk_transition import BulkTransitionForm
from gongdan.rules.workflow import TransitionDef
from gongdan.ui.fields import read_form, transition_fields_form
from gongdan.ui.i18n import localise, translate

__all__ = ["NO_BULK_FORM", "bulk_form_view", "read_bulk_values"]

NO_BULK_FORM: Mapping[str, Any] = {"kind": "none"}


def _asks(ticket_type: TicketTypeDef, transition: TransitionDef, language: str) -> str:
    """What one type's transition asks for, as one line: 'IT incident: Resolution code,
    comment (required)'."""
    parts = []
    for field_id in transition.fields:
        definition = ticket_type.field_map.get(field_id)
        label = localise(definition.label, language) if definition else field_id
        parts.append(label or field_id)
    if transition.comment in ("required", "optional"):
        parts.append(translate(language, f"queues.bulk_comment_{transition.comment}"))
    asks = ", ".join(parts) or translate(language, "queues.bulk_asks_nothing")
    return f"{localise(ticket_type.name, language) or ticket_type.id}: {asks}"


def bulk_form_view(
    bundle: Bundle,
    plan: BulkTransitionForm[TicketTypeDef],
    language: str,
    *,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    prompt: bool = False,
) -> dict[str, Any]:
    """The template context of the bulk transition form (`kind`: none, unavailable,
    differ or form). `prompt` adds a line asking to fill the form in first."""
    values, errors = values or {}, errors or {}
    base = {"transition": plan.transition_id, "errors": dict(errors), "prompt": prompt}
    if plan.differing:
        lines = [_asks(t, tr, language) for t, tr in plan.differing]
        label = localise(plan.differing[0][1].label, language) or plan.transition_id
        return {**base, "kind": "differ", "label": label, "differences": lines}
    if plan.shared is None:
        return {**base, "kind": "unavailable" if plan.transition_id else "none"}
    if not plan.asks:
        return {**base, "kind": "none"}
    transition = plan.shared[1]
    return {
        **base,
        "kind": "form",
        "form": transition_fields_form(
            bundle, plan.shared[0], transition, language, values, errors=errors, prefix="bulk"
        ),
        "comment": transition.comment,
        "comment_text": str(values.get("comment") or ""),
        "public": values.get("public", True),
    }


def read_bulk_values(form: FormData, plan: BulkTransitionForm[TicketTypeDef]) -> dict[str, Any]:
    """The posted values of the shared form's fields (empty without a shared form)."""
    if plan.shared is None:
        return {}
    ticket_type, transition = plan.shared
    return read_form(form, ticket_type, transition.fields)
