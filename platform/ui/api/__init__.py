"""The REST API under `/api/v1` (DESIGN.md, "REST API"): bearer tokens, JSON bodies
described exactly in `/openapi.json`, errors as `{error, detail, fields}`.

Split by resource: `tickets` (create, list, read, change), `activity` (transitions,
comments, events, SLA explanation), `relations` (merge, links, split), `attachments`,
`config`. `errors` maps every
error to its status; `deps` resolves the bearer token to an actor.
"""

from __future__ import annotations

from fastapi import APIRouter

from gongdan.ui.api import activity, attachments, config, relations, reports, tickets, workday
from gongdan.ui.api.errors import MAX_JSON_BODY

__all__ = ["MAX_JSON_BODY", "api_router"]

api_router = APIRouter(prefix="/api/v1")
for _module in (tickets, activity, relations, attachments, config, reports, workday):
    api_router.include_router(_module.router)
