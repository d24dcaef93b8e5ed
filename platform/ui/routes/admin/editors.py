"""The registry of the visual config editors (issue 19, admineditors' part).

The console's tree (`/admin`) lists the config files by kind; for a kind that has a
visual editor, each file shows a link to it beside the generic "edit as YAML" page,
and the kind a "new" link. An editor module under `ui/routes/admin/` adds itself here:

```python
EDITORS.append(EditorEntry("TicketType", "admin.editor_ticket_type",
                           href="/admin/ticket-types/{id}", new_href="/admin/ticket-types/new"))
EDITOR_ROUTERS.append(ticket_type.router)   # built on access.admin_router()
```

`href` may use `{id}` (the document's id) and `{path}` (the file inside the config
folder). The admin package includes every router of `EDITOR_ROUTERS` in its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter

__all__ = ["EDITORS", "EDITOR_ROUTERS", "EditorEntry", "editors_for"]


@dataclass(frozen=True, slots=True)
class EditorEntry:
    """A visual editor of one kind: its label (catalogue key) and links."""

    kind: str
    label_key: str
    href: str
    new_href: str | None = None

    def link(self, path: str, doc_id: str) -> str:
        return self.href.format(id=doc_id, path=path)


EDITORS: list[EditorEntry] = []
EDITOR_ROUTERS: list[APIRouter] = []


def editors_for(kind: str) -> list[EditorEntry]:
    """The visual editors of `kind`, in the order they were registered."""
    return [e for e in EDITORS if e.kind == kind]
