"""The visual config editors of the admin console (`/admin/editors/...`): ticket types,
workflows, SLA policies and calendars, routing rules and automations, each reading and
writing the YAML files through round-trip documents (see `document.py`)."""

from gongdan.ui.routes.admin.visual.pages import router

__all__ = ["router"]
