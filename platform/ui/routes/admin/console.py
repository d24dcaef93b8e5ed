"""`/admin`: the config bundle as a tree of kinds and files, each with its validation
status, the active version, and the version history with a diff between any two.

The tree is the folder as it is on disk, checked as `gongdan check` checks it; when it
differs from the version this server runs (an invalid or refused change, or one not
applied in `manual` mode), the page says so and shows why (`LiveConfig.errors`,
`refusal`). The history is the database's activations (`gongdan config log`).
"""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from gongdan.engine import diff_versions, version_log
from gongdan.errors import NotFound, ValidationFailed
from gongdan.ui.deps import DatabaseDep, LiveDep
from gongdan.ui.render import render
from gongdan.ui.routes.admin.access import AdminUser, EditorDep, admin_router
from gongdan.ui.routes.admin.editors import editors_for

__all__ = ["router"]

router = admin_router()
HISTORY = 100


@router.get("/admin")
def console(request: Request, user: AdminUser, editor: EditorDep, live: LiveDep) -> Response:
    status = editor.status()
    return render(
        request,
        "admin/console.html",
        {
            "status": status,
            "tree": status.by_kind(),
            "editors_for": editors_for,
            "live_errors": live.errors if live is not None else (),
            "refusal": live.refusal if live is not None else None,
            "reload_watch": bool(live is not None and live.watch),
        },
    )


@router.get("/admin/versions")
def versions(request: Request, user: AdminUser, database: DatabaseDep) -> Response:
    records = version_log(database, HISTORY)
    return render(request, "admin/versions.html", {"records": records})


@router.get("/admin/versions/diff")
def versions_diff(
    request: Request,
    user: AdminUser,
    database: DatabaseDep,
    old: str = "",
    new: str = "",
) -> Response:
    """The diff of every file between versions `old` and `new` (ids or prefixes; by
    default the active version and the one before it)."""
    if not old or not new:
        recent = [r.version for r in version_log(database, 2)]
        new = new or (recent[0] if recent else "")
        old = old or (recent[1] if len(recent) > 1 else new)
    try:
        old_id, new_id, diffs = diff_versions(database, old, new)
    except (NotFound, ValidationFailed) as error:
        records = version_log(database, HISTORY)
        return render(
            request,
            "admin/versions.html",
            {"records": records, "problem": str(error), "old": old, "new": new},
            status_code=404 if isinstance(error, NotFound) else 422,
        )
    return render(
        request,
        "admin/version_diff.html",
        {"old": old_id, "new": new_id, "diffs": diffs},
    )
