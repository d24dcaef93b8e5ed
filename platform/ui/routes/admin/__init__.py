"""The admin console (`/admin`, issue 19): admins only — anyone else gets a 404.

| module | what it is for |
| --- | --- |
| `access.py` | `AdminUser`, `admin_router()` (every route admin-only), `EditorDep`, `author_of` |
| `saving.py` | the one review/save answer of every config page (`admin/_proposal.html`) |
| `console.py` | `/admin`: the bundle's tree with each file's status; `/admin/versions` and their diff |
| `files.py` | `/admin/files/...`: edit any config file as YAML |
| `people.py` | `/admin/people`: accounts, invitations, roles, away, deactivation, password links, tokens |
| `teams.py` | `/admin/teams`: members, skills, capacity, written to `config/teams/*.yaml` |
| `editors.py` | the registry of the visual editors (`EDITORS`, `EDITOR_ROUTERS`) |

`router` holds them all; the app includes it once.
"""

from __future__ import annotations

from fastapi import APIRouter

# Visual editors: importing `visual` (admineditors) appends them to `editors`.
from gongdan.ui.routes.admin import console, files, people, teams, visual  # noqa: F401
from gongdan.ui.routes.admin.editors import EDITOR_ROUTERS

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
for module in (console, files, people, teams):
    router.include_router(module.router)
for editor_router in EDITOR_ROUTERS:
    router.include_router(editor_router)
