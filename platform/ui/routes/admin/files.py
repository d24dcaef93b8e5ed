"""The generic "edit this file as YAML" page of the console, on the save pipeline.

`GET /admin/files/{path}` shows the file's text in a text area with the hash of what
was read (`base`); "Review" posts it to `/admin/files/review` and the page shows the
proposal (errors at file:line, the diff, the plan summary, whether `apply` would refuse
it); "Save" posts it with the admin's message to `/admin/files/save`. A conflict (the
file changed on disk since the page was opened), an invalid or a refused change is
shown with the text as typed, nothing written. `GET /admin/files-new` starts a new
file; the delete button saves the file's removal through the same pipeline.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from starlette.responses import Response

from gongdan.bundle.edits import FileChange, check_config_path
from gongdan.errors import NotFound, ValidationFailed
from gongdan.ui.render import render
from gongdan.ui.routes.admin import saving
from gongdan.ui.routes.admin.access import AdminUser, EditorDep, admin_router

__all__ = ["router"]

router = admin_router()
PAGE = "admin/file.html"
MAX_TEXT = 1_000_000  # characters of one config file edited in the browser


def _page_context(
    path: str, text: str, base: str, *, new: bool, exists: bool = True, **extra: Any
) -> dict[str, Any]:
    return {
        "path": path,
        "text": text,
        "base": base,
        "new": new,
        "exists": exists,
        **saving.outcome_context(action="/admin/files/save"),
        **extra,
    }


@router.get("/admin/files-new")
def new_file(request: Request, user: AdminUser, path: str = "") -> Response:
    return render(request, PAGE, _page_context(path, "", "", new=True, exists=False))


@router.get("/admin/files/{path:path}")
def edit_file(
    request: Request,
    path: str,
    user: AdminUser,
    editor: EditorDep,
    saved: str = "",
    commit: str = "",
) -> Response:
    try:
        opened = editor.read(path)
    except ValidationFailed as error:
        raise NotFound(str(error)) from None
    return render(
        request,
        PAGE,
        _page_context(
            opened.path,
            opened.text,
            opened.base or "",
            new=False,
            saved_version=saving.hex_only(saved),
            commit=saving.hex_only(commit),
        ),
    )


def _change(path: str, text: str, base: str, delete: str) -> FileChange:
    clean = check_config_path(path)
    return FileChange(clean, None if delete else saving.typed_text(text), base or None)


Path = Annotated[str, Form(max_length=1000)]
Text = Annotated[str, Form(max_length=MAX_TEXT)]
Base = Annotated[str, Form(max_length=128)]
Message = Annotated[str, Form(max_length=5000)]


@router.post("/admin/files/review")
@router.post("/admin/files/save")
def post_file(
    request: Request,
    user: AdminUser,
    editor: EditorDep,
    path: Path = "",
    text: Text = "",
    base: Base = "",
    message: Message = "",
    delete: Annotated[str, Form(max_length=10)] = "",
    new: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """The review of a file's change (diff and plan), or its save: one form, posted to
    either path."""
    page = (PAGE, _page_context(path, text, base, new=bool(new), delete=delete))
    try:
        change = _change(path, text, base, delete)
    except ValidationFailed as error:
        return _invalid_path(request, page, error)
    if not request.url.path.endswith("/save"):
        return saving.review(
            request, editor, [change], action="/admin/files/save", message=message, page=page
        )
    done = "/admin" if delete else f"/admin/files/{change.path}"
    return saving.save(
        request, editor, [change], user, message, action="/admin/files/save", page=page, done=done
    )


def _invalid_path(
    request: Request, page: tuple[str, dict[str, Any]], error: ValidationFailed
) -> Response:
    outcome = saving.outcome_context(problem=str(error), action="/admin/files/save")
    template, context = page
    return saving.answer(request, outcome, (template, {**context, "path_error": str(error)}), 422)
