"""What each editor shows beside its controls, computed from the checked draft: the
ticket type's create form as requesters see it (in both languages, through the
portal's own form code), the lists its selects offer, and the ids already taken."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from starlette.datastructures import FormData

from gongdan.bundle.compiled import Bundle, TicketTypeDef
from gongdan.forms.fields import FIELD_TYPES
from gongdan.ui.fields import FormView
from gongdan.ui.i18n import localise
from gongdan.ui.routes.admin.visual.controls import LOCALES
from gongdan.ui.routes.admin.visual.document import Checked
from gongdan.ui.routes.admin.visual.ticket_type import PARAM_KINDS, params_of
from gongdan.ui.routes.portal.home import create_form, refreshed_fields
from gongdan.vocabulary import BUILTIN_FIELDS, STAFF_ONLY_BUILTINS

__all__ = ["ids_of", "preview_refresh", "requester_preview", "ticket_type_context"]


def ids_of(bundle: Bundle, kind: str) -> Iterable[str]:
    """The ids of the documents of `kind` in the bundle (to number a new one)."""
    found: Mapping[str, Any] | Iterable[Any] = {
        "TicketType": bundle.ticket_types,
        "Workflow": bundle.workflows,
        "Calendar": bundle.calendars,
        "Automation": bundle.automations,
        "Team": bundle.teams,
    }.get(kind, ())
    if kind == "SLAPolicy":
        return [p.id for p in bundle.sla_policies]
    if kind == "RoutingRules":
        return sorted({r.ruleset for r in bundle.routing_rules})
    return list(found)


PREVIEW_CHECK = "/admin/editors/ticket_types/preview/{language}"


def _preview_form(
    bundle: Bundle,
    ticket_type: TicketTypeDef,
    language: str,
    values: Mapping[str, Any],
    errors: Mapping[str, str] | None = None,
) -> FormView:
    """The portal's create form (`portal.home.create_form`), its ids prefixed by the
    language, re-checked at `PREVIEW_CHECK` as the portal's form at its own check."""
    return create_form(
        bundle,
        ticket_type,
        language,
        values,
        errors,
        prefix=f"preview-{language}",
        check_url=PREVIEW_CHECK.format(language=language),
    )


def requester_preview(bundle: Bundle | None, type_id: str) -> dict[str, FormView] | None:
    """The create form of `type_id` exactly as the portal renders it, per language
    (None while the draft does not compile)."""
    if bundle is None or type_id not in bundle.ticket_types:
        return None
    ticket_type = bundle.ticket_types[type_id]
    return {language: _preview_form(bundle, ticket_type, language, {}) for language in LOCALES}


def preview_refresh(
    bundle: Bundle | None,
    type_id: str,
    language: str,
    form: FormData,
    changed: str | None,
) -> dict[str, Any]:
    """After a value changed in the preview: the fields that depend on it (shown,
    hidden, newly required by `visible_if`/`required_if`) and its own error, as the
    portal's check answers (`partials/field_refresh.html`)."""
    if bundle is None or type_id not in bundle.ticket_types or language not in LOCALES:
        return {"refresh": [], "changed": None}
    ticket_type = bundle.ticket_types[type_id]
    return refreshed_fields(
        ticket_type,
        form,
        changed,
        lambda values, errors: _preview_form(bundle, ticket_type, language, values, errors),
    )


def ticket_type_context(
    doc: Mapping[str, Any], checked: Checked, bundle: Bundle, language: str
) -> dict[str, Any]:
    workflow = bundle.workflows.get(str(doc.get("workflow")))
    return {
        "field_types": sorted(FIELD_TYPES),
        "params_of": params_of,
        "PARAM_KINDS": PARAM_KINDS,
        "workflows": sorted(bundle.workflows),
        "sla_ids": sorted(p.id for p in bundle.sla_policies),
        "states": list(workflow.states) if workflow is not None else [],
        "builtins": BUILTIN_FIELDS,
        "requester_settable": STAFF_ONLY_BUILTINS,
        "preview": requester_preview(checked.bundle, str(doc.get("id"))),
        "team_names": {t.id: localise(t.name, language) for t in bundle.teams.values()},
        "section_choices": section_choices,
    }


def section_choices(doc: Mapping[str, Any], chosen: Any) -> list[tuple[str, bool]]:
    """What a form section may hold, for its checkboxes: its own fields first in their
    order (ticked), then the type's other fields and the built-ins (unticked)."""
    picked = [str(f) for f in chosen] if isinstance(chosen, list) else []
    own = [
        str(f.get("id"))
        for f in doc.get("fields") or ()
        if isinstance(f, Mapping) and isinstance(f.get("id"), str) and f.get("id")
    ]
    rest = [f for f in (*own, *BUILTIN_FIELDS) if f not in picked]
    return [(f, True) for f in picked] + [(f, False) for f in dict.fromkeys(rest)]


def workflow_context(
    doc: Mapping[str, Any], checked: Checked, bundle: Bundle, language: str
) -> dict[str, Any]:
    """The state diagram drawn from the draft (lc18's `workflow_svg`), redrawn after
    every change; while the draft has errors, the last one that compiled is kept."""
    from markupsafe import Markup

    from gongdan.rules.workflow_graph import workflow_svg
    from gongdan.vocabulary import STATE_CATEGORIES

    source = checked.bundle or bundle
    workflow = source.workflows.get(str(doc.get("id")))
    diagram = Markup(workflow_svg(workflow, language)) if workflow is not None else None  # noqa: S704 - our own SVG, every label escaped by workflow_svg
    return {"diagram": diagram, "categories": [str(c) for c in STATE_CATEGORIES]}


def sla_context(
    doc: Mapping[str, Any], checked: Checked, bundle: Bundle, language: str
) -> dict[str, Any]:
    from gongdan.ui.routes.admin.visual.sla import TARGETS
    from gongdan.vocabulary import PRIORITIES, STATE_CATEGORIES

    return {
        "calendars": sorted(bundle.calendars),
        "targets": TARGETS,
        "priorities": PRIORITIES,
        "categories": [str(c) for c in STATE_CATEGORIES],
    }


def calendar_context(
    doc: Mapping[str, Any], checked: Checked, bundle: Bundle, language: str
) -> dict[str, Any]:
    from gongdan.rules.calendar import WEEKDAYS
    from gongdan.ui.routes.admin.visual.sla import hours_by_day

    return {"weekdays": WEEKDAYS, "week": hours_by_day(doc.get("hours"))}


def deadline_of(bundle: Bundle | None, calendar_id: str, start: str, duration: str) -> str:
    """`gongdan sla deadline` on the draft's calendar: the instant, or why not."""
    from datetime import datetime

    from gongdan.rules.business_time import business_deadline
    from gongdan.rules.durations import parse_duration

    if bundle is None or calendar_id not in bundle.calendars:
        return "—"
    calendar = bundle.calendars[calendar_id]
    try:
        instant = datetime.fromisoformat(start.replace("Z", "+00:00"))
        if instant.tzinfo is None:
            return f"'{start}' needs a UTC offset (like +08:00 or Z)"
        return business_deadline(calendar, instant, parse_duration(duration)).isoformat()
    except ValueError as error:
        return str(error)


def routing_context(
    doc: Mapping[str, Any], checked: Checked, bundle: Bundle, language: str
) -> dict[str, Any]:
    from gongdan.rules.assignment import STRATEGIES

    return {
        "teams": [(t.id, localise(t.name, language)) for t in bundle.teams.values()],
        "strategies": STRATEGIES,
    }


def rules_hit(bundle: Bundle | None, values: Mapping[str, Any], language: str) -> dict[str, Any]:
    """Which rules a ticket with `values` would hit on the draft bundle, and where it
    would go (the routing engine's own `route`)."""
    from datetime import UTC, datetime

    from gongdan.rules.routing import route

    if bundle is None:
        return {"matched": (), "team": None, "strategy": None, "ok": False}
    typed = {"priority": "normal", **values}
    decision = route(bundle.routing_rules, typed, None, datetime.now(UTC))
    team = decision.assign.team if decision.assign is not None else None
    return {
        "matched": decision.matched,
        "team": localise(bundle.teams[team].name, language)
        if team is not None and team in bundle.teams
        else team,
        "strategy": decision.assign.strategy if decision.assign is not None else None,
        "ok": True,
    }


def automation_context(
    doc: Mapping[str, Any], checked: Checked, bundle: Bundle, language: str
) -> dict[str, Any]:
    from gongdan.ui.routes.admin.visual.automation import EVENTS

    return {"events": EVENTS}
