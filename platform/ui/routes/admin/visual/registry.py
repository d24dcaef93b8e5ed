"""The visual editors, one `Editor` each: the kind it edits, the folder a new file goes
in, its form → document mapping, what a condition in it may name, and its template."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gongdan.bundle.compiled import Bundle
from gongdan.rules.conditions import FieldInfo
from gongdan.ui.routes.admin.visual import previews
from gongdan.ui.routes.admin.visual.automation import apply_automation, new_automation
from gongdan.ui.routes.admin.visual.routing import apply_routing, new_routing, routing_catalog
from gongdan.ui.routes.admin.visual.sla import (
    apply_calendar,
    apply_sla_policy,
    new_calendar,
    new_sla_policy,
)
from gongdan.ui.routes.admin.visual.ticket_type import (
    apply_ticket_type,
    field_catalog,
    new_ticket_type,
)
from gongdan.ui.routes.admin.visual.workflow import apply_workflow, new_workflow, workflow_catalog

__all__ = ["EDITORS", "Editor"]


@dataclass(frozen=True)
class Editor:
    name: str  # in the URL: /admin/editors/<name>/...
    kind: str
    folder: str
    template: str
    new_text: Callable[[str, Bundle], str]
    apply: Callable[..., None]
    catalog: Callable[[Mapping[str, Any], Bundle | None], Mapping[str, FieldInfo]]
    context: Callable[..., Mapping[str, Any]]
    stem: str  # the id of a new document, numbered when taken

    def fresh_id(self, bundle: Bundle) -> str:
        taken = set(previews.ids_of(bundle, self.kind))
        number = 1
        while (candidate := f"{self.stem}_{number}") in taken:
            number += 1
        return candidate


EDITORS: dict[str, Editor] = {
    "ticket_types": Editor(
        name="ticket_types",
        kind="TicketType",
        folder="ticket_types",
        template="admin/editors/ticket_type.html",
        new_text=lambda doc_id, bundle: new_ticket_type(doc_id, next(iter(bundle.workflows), "")),
        apply=apply_ticket_type,
        catalog=field_catalog,
        context=previews.ticket_type_context,
        stem="new_type",
    ),
    "workflows": Editor(
        name="workflows",
        kind="Workflow",
        folder="workflows",
        template="admin/editors/workflow.html",
        new_text=lambda doc_id, bundle: new_workflow(doc_id),
        apply=apply_workflow,
        catalog=workflow_catalog,
        context=previews.workflow_context,
        stem="new_workflow",
    ),
    "sla": Editor(
        name="sla",
        kind="SLAPolicy",
        folder="sla",
        template="admin/editors/sla.html",
        new_text=lambda doc_id, bundle: new_sla_policy(doc_id, next(iter(bundle.calendars), "")),
        apply=apply_sla_policy,
        catalog=lambda doc, bundle: field_catalog({"id": "", "workflow": ""}, bundle),
        context=previews.sla_context,
        stem="new_policy",
    ),
    "calendars": Editor(
        name="calendars",
        kind="Calendar",
        folder="sla",
        template="admin/editors/calendar.html",
        new_text=lambda doc_id, bundle: new_calendar(doc_id),
        apply=apply_calendar,
        catalog=lambda doc, bundle: {},
        context=previews.calendar_context,
        stem="new_calendar",
    ),
    "routing": Editor(
        name="routing",
        kind="RoutingRules",
        folder="routing",
        template="admin/editors/routing.html",
        new_text=lambda doc_id, bundle: new_routing(doc_id),
        apply=apply_routing,
        catalog=routing_catalog,
        context=previews.routing_context,
        stem="new_rules",
    ),
    "automations": Editor(
        name="automations",
        kind="Automation",
        folder="routing",
        template="admin/editors/automation.html",
        new_text=lambda doc_id, bundle: new_automation(doc_id),
        apply=apply_automation,
        catalog=routing_catalog,
        context=previews.automation_context,
        stem="new_automation",
    ),
}
