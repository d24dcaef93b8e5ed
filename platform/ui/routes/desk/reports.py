"""The reports dashboard (`/reports`): one panel per report of the bundle, in the order
declared, each a chart drawn as SVG on the server and the table of its values, with a
CSV export (`/reports/{id}.csv`, the same file the API gives).

Thin routes: the filters come from the query string (`ui.report_query`, as the API's),
`ReportService` runs every report in one read, `ui.charts` draws. The filter form
swaps the `dashboard` block with htmx and pushes its query into the URL, so a view can
be bookmarked and shared; without JavaScript the form is an ordinary GET.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import QueryParams
from starlette.responses import Response

from gongdan.bundle.compiled import Bundle
from gongdan.engine import ReportTable
from gongdan.errors import ValidationFailed
from gongdan.ui.charts import draw_chart
from gongdan.ui.deps import BundleDep, ReportsDep, StaffUser
from gongdan.ui.i18n import language_for, localise, translate
from gongdan.ui.render import render
from gongdan.ui.report_query import PERIODS, report_csv, report_filters, row_words
from gongdan.vocabulary import PRIORITIES

__all__ = ["router"]

router = APIRouter()

DEFAULT_PERIOD = "30d"


@router.get("/reports")
def dashboard(
    request: Request, user: StaffUser, reports: ReportsDep, bundle: BundleDep
) -> Response:
    lang = language_for(request)
    params = _own_fields(request.query_params, bundle)
    if not any(name in params for name in ("period", "from", "to")):
        params = type(params)([*params.multi_items(), ("period", DEFAULT_PERIOD)])
    problem: ValidationFailed | None = None
    tables: list[ReportTable] = []
    try:
        filters = report_filters(params, reports.clock(), reports.zone)
        tables = reports.run_dashboard(user.actor, filters)
    except ValidationFailed as error:
        problem = error
    query = str(params)
    context = {
        "panels": [_panel(bundle, table, lang, query) for table in tables],
        "problem": problem,
        "form": _form(bundle, params, lang),
        "periods": PERIODS,
    }
    return render(request, "desk/reports.html", context, block="dashboard")


@router.get("/reports/{report_id}.csv")
def report_file(
    request: Request, report_id: str, user: StaffUser, reports: ReportsDep, bundle: BundleDep
) -> Response:
    """One report as CSV, with the dashboard's filters (the API's file)."""
    lang = language_for(request)
    filters = report_filters(request.query_params, reports.clock(), reports.zone)
    table = reports.run_report(user.actor, report_id, filters)
    return Response(
        report_csv(bundle, table, lang),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{table.id}.csv"'},
    )


def _own_fields(params: QueryParams, bundle: Bundle) -> QueryParams:
    """The query without `fields.<id>` filters the chosen type has no select for: the
    form offers the chosen type's fields, so a filter left from another type (or from
    no type) is dropped rather than refused."""
    kind = bundle.ticket_types.get((params.get("type") or "").strip())
    offered = {f"fields.{f.id}" for f in kind.fields if f.options} if kind is not None else set()
    kept = [
        (name, value)
        for name, value in params.multi_items()
        if not name.startswith("fields.") or name in offered
    ]
    return QueryParams(kept)


def _panel(bundle: Bundle, table: ReportTable, lang: str, query: str) -> dict[str, Any]:
    report = bundle.reports[table.id]
    rows = [row_words(bundle, report, row, lang) for row in table.rows]
    return {
        "id": table.id,
        "title": localise(table.title, lang),
        "columns": [localise(c.label, lang) for c in table.columns],
        "rows": rows,
        # A list of tickets: its first cell (the key) links to the ticket.
        "links": report.measure.lists_tickets,
        "chart": None if report.measure.lists_tickets else draw_chart(table.chart, rows),
        "csv": f"/reports/{table.id}.csv?{query}",
    }


def _form(bundle: Bundle, params: Any, lang: str) -> dict[str, Any]:
    """What the filter form shows: the values given, and the choices (the select
    fields of the chosen type among them)."""
    chosen = (params.get("type") or "").strip()
    fields = []
    kind = bundle.ticket_types.get(chosen)
    for field in kind.fields if kind is not None else ():
        if field.options and not field.internal:
            fields.append(
                {
                    "name": f"fields.{field.id}",
                    "label": localise(field.label, lang),
                    "value": params.get(f"fields.{field.id}", ""),
                    "options": [(o.value, localise(o.label, lang)) for o in field.options],
                }
            )
    return {
        "shown": {
            k: (params.get(k) or "").strip()
            for k in ("period", "from", "to", "type", "team", "priority")
        },
        "types": [(t.id, localise(t.name, lang)) for t in bundle.ticket_types.values()],
        "teams": [(t.id, localise(t.name, lang)) for t in bundle.teams.values()],
        "priorities": [(str(p), translate(lang, f"priority.{p}")) for p in PRIORITIES],
        "fields": fields,
    }
