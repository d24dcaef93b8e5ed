"""The visual config editors of the admin console (`/admin/editors/...`): ticket types,
workflows, SLA policies and calendars, routing rules, each reading and writing the YAML
files through round-trip documents (see `document.py`). Importing this package
registers the editors in the console (`admin/editors.py`)."""

from gongdan.ui.routes.admin.editors import EDITOR_ROUTERS, EDITORS, EditorEntry
from gongdan.ui.routes.admin.visual.pages import router
from gongdan.ui.routes.admin.visual.registry import EDITORS as VISUAL

__all__ = ["router"]

for _editor in VISUAL.values():
    EDITORS.append(
        EditorEntry(
            _editor.kind,
            f"ed.title.{_editor.name}",
            href=f"/admin/editors/{_editor.name}/{{id}}",
            new_href=f"/admin/editors/{_editor.name}/new",
        )
    )
EDITOR_ROUTERS.append(router)
