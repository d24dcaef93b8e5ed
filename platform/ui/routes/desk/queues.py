"""The desk's queues: the list of queues with live counts (the desk home), one queue's
page (filters, sort by column, cursor pages, SLA badges) and bulk assign/transition.

Thin routes: parse the query string or the form, call `QueueService`, render. The
counts are a fragment htmx polls every 30 seconds; the results table is the block a
filter or a page link swaps.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.datastructures import FormData, QueryParams
from starlette.responses import Response

from gongdan.bundle.compile_views import BUILTIN_COLUMNS
from gongdan.bundle.compiled import Bundle
from gongdan.engine import (
    COUNT_CAP,
    MAX_PAGE,
    SHORT_SEARCH_WINDOW,
    Account,
    BulkOutcome,
    FieldFilter,
    QueuePage,
    QueueQuery,
    QueueService,
    TicketQuery,
    TicketRecord,
    TicketService,
    is_short_search,
)
from gongdan.errors import ValidationFailed
from gongdan.rules.bulk_transition import plan_bulk_transition
from gongdan.rules.workflow import Actor, WorkflowDef
from gongdan.ui.bulk_form import NO_BULK_FORM, bulk_form_view, read_bulk_values
from gongdan.ui.catalogue import CATALOGUE
from gongdan.ui.deps import QueuesDep, ServiceDep, StaffUser
from gongdan.ui.display import shown_text
from gongdan.ui.i18n import language_for, localise, translate
from gongdan.ui.macro_view import agent_of, reply_for_ticket
from gongdan.ui.refusals import refusal_text
from gongdan.ui.render import render, render_fragment
from gongdan.ui.routes.desk.views import SAVED_KEYS
from gongdan.vocabulary import PRIORITIES

__all__ = ["router"]

router = APIRouter()

FILTER_KEYS = ("state", "priority", "team", "type", "assignee", "q", "field", "value")


def _storable(items: Any) -> None:
    """Refuse a NUL character in a parameter: no database stores or compares it."""
    for name, value in items:
        if "\x00" in str(name) or "\x00" in str(value):
            field = str(name).replace("\x00", "")
            raise ValidationFailed(
                f"'{field}' contains a NUL character", {field: "contains a NUL character"}
            )


def _filters(params: QueryParams) -> tuple[TicketQuery, dict[str, str]]:
    """The ticket filters of the query string, and the values to show in the form."""
    _storable(params.multi_items())
    shown = {k: params.get(k, "").strip() for k in FILTER_KEYS}
    fields: tuple[FieldFilter, ...] = ()
    if shown["field"] and shown["value"]:
        fields = (FieldFilter(shown["field"], "eq", shown["value"]),)
    query = TicketQuery(
        states=[shown["state"]] if shown["state"] else [],
        priorities=[shown["priority"]] if shown["priority"] else [],
        teams=[shown["team"]] if shown["team"] else [],
        types=[shown["type"]] if shown["type"] else [],
        assignee=shown["assignee"] or None,
        text=shown["q"] or None,
        fields=fields,
    )
    return query, shown


def _active_filters(shown: dict[str, str]) -> int:
    """How many filters are set (a custom field and its value count as one)."""
    simple = sum(1 for k in ("state", "priority", "team", "type", "assignee", "q") if shown.get(k))
    return simple + (1 if shown.get("field") and shown.get("value") else 0)


Choices = list[tuple[str, str]]


def by_workflow(
    bundle: Bundle, type_ids: Any, language: str, items: Callable[[WorkflowDef], Choices]
) -> list[tuple[str, Choices]]:
    """`items` of the workflows of the ticket types `type_ids`, one group per workflow
    labelled with its types' names (so a state or transition id two workflows share is
    shown under each, never as one mixed list)."""
    groups: dict[str, list[str]] = {}
    for type_id in sorted(type_ids):
        ticket_type = bundle.ticket_types.get(type_id)
        if ticket_type is not None and ticket_type.workflow in bundle.workflows:
            name = localise(ticket_type.name, language)
            groups.setdefault(ticket_type.workflow, []).append(name)
    return [
        (" / ".join(names), items(bundle.workflows[workflow]))
        for workflow, names in sorted(groups.items(), key=lambda g: g[1])
    ]


def _states(workflow: WorkflowDef, language: str) -> Choices:
    return [(s.id, localise(s.label or s.id, language)) for s in workflow.states.values()]


def _transitions(workflow: WorkflowDef, language: str) -> Choices:
    shown = {t.id: localise(t.label or t.id, language) for t in workflow.transitions}
    return sorted(shown.items(), key=lambda t: t[1])


def _choices(bundle: Bundle, language: str) -> dict[str, list[tuple[str, str]]]:
    fields: dict[str, str] = {}
    for ticket_type in bundle.ticket_types.values():
        for f in ticket_type.fields:
            if f.field_type.quick_filter:
                fields.setdefault(f.id, localise(f.label, language))
    return {
        "priority": [(p, p) for p in PRIORITIES],
        "team": [(t.id, localise(t.name, language)) for t in bundle.teams.values()],
        "type": [(t.id, localise(t.name, language)) for t in bundle.ticket_types.values()],
        "field": sorted(fields.items(), key=lambda f: f[1]),
    }


def _column_labels(bundle: Bundle, columns: tuple[str, ...], language: str) -> dict[str, str]:
    out = {}
    for column in columns:
        if f"queues.col.{column}" in CATALOGUE:
            out[column] = translate(language, f"queues.col.{column}")
            continue
        out[column] = column
        for ticket_type in bundle.ticket_types.values():
            if column in ticket_type.field_map:
                out[column] = localise(ticket_type.field_map[column].label, language)
                break
    return out


def sla_badge(ticket: TicketRecord, now: datetime) -> dict[str, Any] | None:
    """The earliest running SLA deadline as a badge: time left (or overdue) and a level."""
    dues = [d for d in (ticket.first_response_due, ticket.next_response_due,
                        ticket.resolution_due) if d is not None]  # fmt: skip
    if not dues:
        return None
    due = min(dues)
    seconds = int((due - now).total_seconds())
    minutes = abs(seconds) // 60
    text = f"{minutes // 1440}d {minutes % 1440 // 60}h" if minutes >= 1440 else ""
    text = text or (f"{minutes // 60}h {minutes % 60}m" if minutes >= 60 else f"{minutes}m")
    level = "breached" if seconds < 0 else "warn" if seconds < 4 * 3600 else "ok"
    return {"due": due, "text": text, "level": level, "overdue": seconds < 0}


def field_text(bundle: Bundle, ticket: TicketRecord, column: str, language: str) -> str:
    """A custom field's value in a queue cell: option labels (not values), yes/no, team
    names, in the reader's language; "—" when empty."""
    value = ticket.data.get(column)
    if value is None or value == [] or value == "":
        return "—"
    ticket_type = bundle.ticket_types.get(ticket.type)
    field = ticket_type.field_map.get(column) if ticket_type else None
    if field is None:
        return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    items = field.field_type.display(field, value)
    return ", ".join(shown_text(item, bundle, language) for item in items) or "—"


def _page_context(
    request: Request,
    queues: QueueService,
    page: QueuePage,
    shown: dict[str, str],
    outcomes: list[BulkOutcome] | None = None,
    *,
    people: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    language = language_for(request)
    bundle = queues.bundle
    # The states of the type filtered on (else of every type), and the transitions of
    # the types on the page: grouped by workflow.
    state_types = (
        [shown["type"]] if shown.get("type") in bundle.ticket_types else bundle.ticket_types
    )
    page_types = {t.type for t in page.items} or set(bundle.ticket_types)
    sorts = queues.sorts_for(page.queue, _filters(request.query_params)[0])
    return {
        "page": page,
        "queue": page.queue,
        "shown": shown,
        "filter_query": urlencode(
            {k: v for k, v in shown.items() if v}
            | (
                {"cols": ",".join(page.queue.columns)}
                if "col" in request.query_params or "cols" in request.query_params
                else {}
            )
        ),
        "active_filters": _active_filters(shown),
        "choices": _choices(bundle, language),
        "columns": page.queue.columns,
        "column_labels": _column_labels(bundle, page.queue.columns, language),
        "sortable": frozenset(sorts),
        "sort_choices": sorts,
        "sort_labels": _column_labels(bundle, sorts, language),
        "now": queues.clock(),
        "sla_badge": sla_badge,
        "field_text": lambda ticket, column: field_text(bundle, ticket, column, language),
        # A refused ticket's field in the bulk outcomes, by its label (never its id).
        "field_label": lambda name: (
            translate(language, "queues.comment")
            if name == "comment"
            else translate(language, f"macro.part.{name}")
            if name in ("macro", "transition")
            else _column_labels(bundle, (name,), language)[name]
        ),
        "state_groups": by_workflow(bundle, state_types, language, lambda w: _states(w, language)),
        "transition_groups": by_workflow(
            bundle, page_types, language, lambda w: _transitions(w, language)
        ),
        "outcomes": outcomes,
        # Text too short for the search's indexes looks at the newest tickets only.
        "short_search": bool(shown.get("q")) and is_short_search(shown.get("q", "")),
        "short_window": f"{SHORT_SEARCH_WINDOW:,}",
        "people": people or [],
        # Saving the current filter as a view (`routes/desk/views.py`), choosing columns
        # and applying a macro to the selection.
        "saved_query": urlencode(
            [(k, v) for k, v in request.query_params.multi_items() if k in SAVED_KEYS]
            + [("cols", ",".join(page.queue.columns))]
        ),
        "column_choices": _column_labels(
            bundle, tuple(dict.fromkeys((*page.queue.columns, *BUILTIN_COLUMNS))), language
        ),
        "macros": [
            (m.id, localise(m.name, language))
            for m in bundle.macros.values()
            if not m.types or m.types & page_types
        ],
        "saved_view": None,
        "bulk": NO_BULK_FORM,
        "selected": [],
        "chosen_transition": "",
    }


@router.get("/desk/queues")
def queue_list(
    request: Request, user: StaffUser, queues: QueuesDep, service: ServiceDep
) -> Response:
    context = {
        "queues": queues.queues_for(user.actor),
        "counts": queues.counts(user.actor),
        "count_cap": COUNT_CAP,
        "current": "",
        "saved_views": service.accounts.list_saved_views(user.actor),
    }
    return render(request, "desk/queues.html", context)


@router.get("/desk/queues/counts")
def queue_counts(
    request: Request, user: StaffUser, queues: QueuesDep, service: ServiceDep
) -> Response:
    view = request.query_params.get("view", "")
    context = {
        "queues": queues.queues_for(user.actor),
        "counts": queues.counts(user.actor),
        "count_cap": COUNT_CAP,
        "current": "" if view else request.query_params.get("current", ""),
        "current_view": int(view) if view.isdigit() and len(view) < 19 else None,
        "saved_views": service.accounts.list_saved_views(user.actor),
    }
    return render_fragment(request, "desk/queue_counts.html", context)


@router.get("/desk/queues/{queue_id}")
def queue_page(
    request: Request, queue_id: str, user: StaffUser, queues: QueuesDep, service: ServiceDep
) -> Response:
    filters, shown = _filters(request.query_params)
    sort = request.query_params.get("sort") or None
    direction = request.query_params.get("dir")
    query = QueueQuery(
        filters=filters,
        sort=sort,
        descending=None if direction not in ("asc", "desc") else direction == "desc",
        cursor=request.query_params.get("cursor") or None,
    )
    page = queues.list_queue(user.actor, queue_id, query)
    params = request.query_params
    columns = _columns(queues.bundle, ",".join(params.getlist("col")) or params.get("cols", ""))
    if columns:
        page = replace(page, queue=replace(page.queue, columns=columns))
    context = _page_context(request, queues, page, shown, people=queues.assignable(user.actor))
    saved = request.query_params.get("view", "")
    if saved:  # (only a saved view's page reads the views: one statement)
        context["saved_view"] = next(
            (v for v in service.accounts.list_saved_views(user.actor) if str(v.id) == saved), None
        )
    return render(request, "desk/queue.html", context, block="results")


def _columns(bundle: Bundle, text: str) -> tuple[str, ...]:
    """The columns asked for (`cols=key,title,…`), those a queue can show, in order."""
    known = {*BUILTIN_COLUMNS, *(f.id for t in bundle.ticket_types.values() for f in t.fields)}
    return tuple(dict.fromkeys(c for c in text.split(",") if c in known))[:30]


@router.get("/desk/queues/{queue_id}/bulk/transition")
def bulk_transition_form(
    request: Request, queue_id: str, user: StaffUser, queues: QueuesDep
) -> Response:
    """The fragment of the bulk form that asks for what the chosen transition needs."""
    params = request.query_params
    _storable(params.multi_items())
    queue = queues.queue(user.actor, queue_id)
    transition_id = params.get("transition", "").strip()
    keys = [k.strip() for k in params.getlist("keys") if k.strip()]
    types = queues.ticket_types_of(user.actor, keys) if keys else set(queues.bundle.ticket_types)
    plan = plan_bulk_transition(queues.bundle, types, transition_id)
    posted: list[tuple[str, Any]] = list(params.multi_items())
    values = read_bulk_values(FormData(posted), plan)
    values |= {
        "comment": params.get("comment", ""),
        "public": params.get("visibility") != "internal",
    }
    bulk = bulk_form_view(queues.bundle, plan, language_for(request), values=values)
    return render_fragment(request, "desk/queue_bulk.html", {"queue": queue, "bulk": bulk})


@router.post("/desk/queues/{queue_id}/bulk")
async def queue_bulk(
    request: Request, queue_id: str, user: StaffUser, queues: QueuesDep
) -> Response:
    """Assign, transition or apply a macro to the selected tickets, each ticket in its
    own transaction; the answer lists every ticket's outcome."""
    form = await request.form()
    _storable(form.multi_items())
    keys = list(dict.fromkeys(str(k).strip() for k in form.getlist("keys") if str(k).strip()))
    action = str(form.get("action", ""))
    queues.queue(user.actor, queue_id)  # an unknown queue is a 404 before anything changes
    if len(keys) > MAX_PAGE:
        raise ValidationFailed(
            f"{len(keys)} tickets selected", {"keys": f"select at most {MAX_PAGE} tickets"}
        )
    outcomes: list[BulkOutcome] | None
    bulk: Mapping[str, Any] = NO_BULK_FORM
    status = 200
    if not keys:
        outcomes, status = [], 422
    elif action == "transition":
        outcomes, bulk, status = _transition_step(request, queues, user.actor, keys, form)
    elif action == "macro":
        outcomes = _macro_step(queues, user, keys, str(form.get("macro", "")).strip())
    else:
        assignee = str(form.get("assignee", "")).strip()
        assignee = user.actor.email or "" if assignee == "me" else assignee
        outcomes = queues.bulk_assign(
            user.actor,
            keys,
            team=str(form.get("team", "")).strip() or None,
            # Empty leaves the assignee as it is; "none" clears it.
            assignee=None if not assignee else "" if assignee == "none" else assignee,
        )
    # Tickets that were not done stay selected, so the agent can fix and submit again.
    done = {o.key for o in outcomes or () if o.ok}
    selected = [k for k in keys if k not in done]
    page = queues.list_queue(user.actor, queue_id)
    context = _page_context(
        request, queues, page, dict.fromkeys(FILTER_KEYS, ""), outcomes,
        people=queues.assignable(user.actor),
    )  # fmt: skip
    context |= {"bulk": bulk, "selected": selected}
    if any(not o.ok for o in outcomes or ()):  # refusals said with labels, not ids
        types = queues.ticket_types_of(user.actor, keys)
        language = language_for(request)
        context["refusal"] = lambda message: refusal_text(queues.bundle, types, message, language)
    # The counts changed with the tickets: sent along, swapped in out-of-band.
    context |= {
        "queues": queues.queues_for(user.actor),
        "counts": queues.counts(user.actor),
        "count_cap": COUNT_CAP,
    }
    if bulk.get("kind") not in (None, "none"):
        context["chosen_transition"] = bulk["transition"]
    return render(request, "desk/queue.html", context, block="results", status_code=status)


def _transition_step(
    request: Request, queues: QueueService, actor: Actor, keys: list[str], form: FormData
) -> tuple[list[BulkOutcome] | None, Mapping[str, Any], int]:
    """Take the chosen transition on every ticket, or first show the form it asks for
    (nothing changes then); when the tickets' types ask for different things, say so."""
    language = language_for(request)
    transition_id = str(form.get("transition", "")).strip()
    if not transition_id:
        raise ValidationFailed("choose a transition", {"transition": "choose a transition"})
    plan = plan_bulk_transition(queues.bundle, queues.ticket_types_of(actor, keys), transition_id)
    if plan.differing:
        return None, bulk_form_view(queues.bundle, plan, language), 422
    if plan.asks and form.get("bulk_form") != transition_id:
        return None, bulk_form_view(queues.bundle, plan, language, prompt=True), 200
    values = read_bulk_values(form, plan)
    comment = str(form.get("comment", "")).strip() or None
    public = form.get("visibility") != "internal"
    outcomes = queues.bulk_transition(
        actor, keys, transition_id, fields=values or None, comment=comment, public=public
    )
    failed = [o for o in outcomes if not o.ok]
    if not (plan.asks and failed):
        return outcomes, NO_BULK_FORM, 200
    # Show the form again with what was typed and the errors about its own fields.
    asked = {*values, "comment"}
    errors = {k: v for o in failed for k, v in o.fields.items() if k in asked}
    kept = {**values, "comment": comment or "", "public": public}
    return outcomes, bulk_form_view(queues.bundle, plan, language, values=kept, errors=errors), 200


def _macro_step(
    queues: QueueService, user: Account, keys: list[str], macro_id: str
) -> list[BulkOutcome]:
    """Apply a macro to every ticket, its reply filled in for each (`macro_view`)."""
    if not macro_id:
        raise ValidationFailed("choose a macro", {"macro": "choose a macro"})
    macro = queues.bundle.macros.get(macro_id)
    if macro is None:
        raise ValidationFailed(f"no macro '{macro_id}'", {"macro": "no such macro"})

    def reply_for(service: TicketService, key: str) -> str | None:
        ticket = service.get_ticket(user.actor, key)
        return reply_for_ticket(service, queues.bundle, macro, ticket, agent_of(user)) or None

    return queues.bulk_apply_macro(user.actor, keys, macro_id, reply_for)
