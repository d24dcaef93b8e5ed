"""`/api/v1/reports`: the dashboard's reports as data (DESIGN.md, "Reports").

`GET /reports` lists the reports the caller may read (staff; a requester gets 403);
`GET /reports/{id}` returns `{id, title, columns: [{id, label}], rows}` (group values
first, the measure last) narrowed by the query (`ui.report_query`), or with
`format=csv` the same rows as CSV (UTF-8 with a BOM, a header row, labels in `lang`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel

from gongdan.engine import ReportTable
from gongdan.ui.api.deps import ApiActor, ApiBundle
from gongdan.ui.api.errors import DYNAMIC_QUERY, ApiRoute, error_responses
from gongdan.ui.api.models import Label, label
from gongdan.ui.deps import ReportsDep
from gongdan.ui.report_query import report_csv, report_filters

__all__ = ["router"]

router = APIRouter(route_class=ApiRoute, tags=["reports"])

ReportId = Annotated[
    str, Path(max_length=64, description="A report id.", examples=["backlog_by_team"])
]


class ColumnOut(BaseModel):
    id: str
    label: Label


class ReportOut(BaseModel):
    id: str
    title: Label
    chart: str
    measure: str
    columns: list[ColumnOut]


class ReportRows(BaseModel):
    id: str
    title: Label
    columns: list[ColumnOut]
    rows: list[list[Any]]


@router.get(
    "/reports",
    response_model=list[ReportOut],
    responses=error_responses(401, 403),
    summary="Reports the caller may read",
)
def list_reports(actor: ApiActor, reports: ReportsDep) -> list[ReportOut]:
    return [
        ReportOut(
            id=r.id,
            title=label(r.title),
            chart=r.chart,
            measure=r.measure.kind,
            columns=[
                *(ColumnOut(id=g.id, label=label(g.label)) for g in r.group_by),
                ColumnOut(id=r.measure.id, label=label(r.measure.label)),
            ],
        )
        for r in reports.reports_for(actor)
    ]


REPORT_HELP = """A report's rows, scoped as the caller's queues are, narrowed by:
`from`/`to` (a date, `to` inclusive, or an ISO 8601 instant), `period` (7d, 30d, 90d,
month, all), `type`, `team`, `priority` (comma-separated) and `fields.<id>=value`.
`format=csv` gives CSV (UTF-8 with BOM, a header row in `lang`: en or zh-CN)."""


@router.get(
    "/reports/{report_id}",
    response_model=ReportRows,
    responses={
        **error_responses(401, 403, 404, 422),
        200: {"content": {"text/csv": {}}},
    },
    summary="One report's rows",
    description=REPORT_HELP,
    openapi_extra={DYNAMIC_QUERY: "fields."},
)
def get_report(
    request: Request,
    report_id: ReportId,
    actor: ApiActor,
    reports: ReportsDep,
    bundle: ApiBundle,
    from_: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    to: Annotated[str | None, Query(max_length=40)] = None,
    period: Annotated[str | None, Query(max_length=10)] = None,
    type: Annotated[str | None, Query(max_length=2000)] = None,
    team: Annotated[str | None, Query(max_length=2000)] = None,
    priority: Annotated[str | None, Query(max_length=200)] = None,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
    lang: Annotated[str, Query(pattern="^(en|zh-CN)$")] = "en",
) -> Response | ReportRows:
    filters = report_filters(request.query_params, reports.clock(), reports.zone)
    table: ReportTable = reports.run_report(actor, report_id, filters)
    if format == "csv":
        return Response(
            report_csv(bundle, table, lang),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{table.id}.csv"'},
        )
    return ReportRows(
        id=table.id,
        title=label(table.title),
        columns=[ColumnOut(id=c.id, label=label(c.label)) for c in table.columns],
        rows=[list(row) for row in table.rows],
    )
