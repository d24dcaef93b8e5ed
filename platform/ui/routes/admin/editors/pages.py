"""The visual editors' routes: open a config document in its editor, re-check it after
every change (htmx posts the whole editor, the server answers it re-rendered with the
problems at their controls and the previews), and save it.

One set of routes serves every editor; what differs (the kind, the folder a new file
goes in, the form → document mapping and the template) is an `Editor` in `EDITORS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import FormData
from starlette.responses import Response

from gongdan.bundle.compiled import Bundle
from gongdan.bundle.loader import config_files
from gongdan.bundle.yamlio import parse_documents
from gongdan.errors import ConfigError, NotFound, PermissionDenied
from gongdan.rules.conditions import FieldInfo
from gongdan.ui.deps import BundleDep, CurrentUser, LiveDep
from gongdan.ui.i18n import language_for
from gongdan.ui.render import render
from gongdan.ui.routes.admin.editors import previews
from gongdan.ui.routes.admin.editors.conditions import GROUPS, operators_of, tree_of
from gongdan.ui.routes.admin.editors.controls import LOCALES, Posted, dom_id, label_parts
from gongdan.ui.routes.admin.editors.document import Checked, Draft, check_draft, read_draft
from gongdan.ui.routes.admin.editors.registry import EDITORS, Editor
from gongdan.ui.routes.admin.editors.saving import save_draft
from gongdan.vocabulary import Role

__all__ = ["router"]

router = APIRouter()


def _admin(user: Any) -> None:
    if user.role != Role.ADMIN:
        raise PermissionDenied("only admins may edit the configuration")


def _directory(live: Any) -> Path:
    if live is None or live.directory is None:
        raise NotFound("this server has no config folder to edit")
    return Path(live.directory)


def _editor(name: str) -> Editor:
    editor = EDITORS.get(name)
    if editor is None:
        raise NotFound(f"no editor '{name}'")
    return editor


def _find(directory: Path, editor: Editor, doc_id: str) -> str:
    """The file (inside the config folder) holding the document of this editor's kind."""
    for path in config_files(directory):
        name = path.relative_to(directory).as_posix()
        if name.split("/", 1)[0] == "tests":
            continue
        try:
            documents = parse_documents(path.read_bytes(), name)
        except ConfigError:
            continue
        for doc in documents:
            data = doc.data
            if isinstance(data, dict) and data.get("kind") == editor.kind:
                if str(data.get("id", path.stem)) == doc_id:
                    return name
    raise NotFound(f"no {editor.kind} '{doc_id}' in the config folder")


@dataclass(frozen=True)
class Page:
    """Everything an editor template shows."""

    editor: Editor
    draft: Draft
    checked: Checked
    bundle: Bundle
    infos: Mapping[str, FieldInfo]
    extra: Mapping[str, Any]
    saved: str | None = None
    conflict: bool = False
    diff: str | None = None
    message: str = ""

    @property
    def doc(self) -> Any:
        return self.draft.document


def _page(
    request: Request, editor: Editor, draft: Draft, directory: Path, active: Bundle, **more: Any
) -> Page:
    checked = check_draft(directory, draft)
    bundle = checked.bundle or active
    infos = editor.catalog(draft.document, bundle)
    extra = editor.context(draft.document, checked, bundle, language_for(request))
    return Page(editor, draft, checked, bundle, infos, extra, **more)


def _show(request: Request, page: Page, *, status_code: int = 200) -> Response:
    context = {
        "page": page,
        "doc": page.doc,
        "checked": page.checked,
        "LOCALES": LOCALES,
        "GROUPS": GROUPS,
        "dom_id": dom_id,
        "label_parts": label_parts,
        "tree_of": tree_of,
        "operators_of": operators_of,
        "previews": previews,
        **page.extra,
    }
    return render(request, page.editor.template, context, block="editor", status_code=status_code)


@router.get("/admin/editors/{name}/new")
def new_document(
    request: Request, name: str, user: CurrentUser, live: LiveDep, bundle: BundleDep
) -> Response:
    _admin(user)
    editor = _editor(name)
    directory = _directory(live)
    doc_id = editor.fresh_id(bundle)
    draft = Draft(f"{editor.folder}/{doc_id}.yaml", editor.new_text(doc_id, bundle))
    return _show(request, _page(request, editor, draft, directory, bundle))


@router.get("/admin/editors/{name}/{doc_id}")
def open_document(
    request: Request, name: str, doc_id: str, user: CurrentUser, live: LiveDep, bundle: BundleDep
) -> Response:
    _admin(user)
    editor = _editor(name)
    directory = _directory(live)
    draft = read_draft(directory, _find(directory, editor, doc_id), editor.kind, doc_id)
    return _show(request, _page(request, editor, draft, directory, bundle))


def _posted_draft(form: FormData, editor: Editor) -> Draft:
    def text(name: str) -> str:
        value = form.get(name)
        return value if isinstance(value, str) else ""

    index = text("_index")
    return Draft(
        text("_path") or f"{editor.folder}/new.yaml",
        text("_draft"),
        int(index) if index.isdigit() else 0,
        text("_base"),
    )


async def _changed(request: Request, editor: Editor, bundle: Bundle, directory: Path) -> Draft:
    """The draft with the posted controls and button applied."""
    form = await request.form()
    draft = _posted_draft(form, editor)
    doc = draft.document
    posted = Posted(form)
    op = form.get("_op")
    infos = editor.catalog(doc, bundle)
    editor.apply(doc, posted, op if isinstance(op, str) else "", infos)
    text = draft.dumped()
    path = draft.path
    if not draft.base and isinstance(doc.get("id"), str) and doc["id"]:
        path = f"{editor.folder}/{doc['id']}.yaml"  # a new file is named after its id
    return Draft(path, text, draft.index, draft.base)


@router.post("/admin/editors/{name}/change")
async def change_document(
    request: Request, name: str, user: CurrentUser, live: LiveDep, bundle: BundleDep
) -> Response:
    """After any change: the editor re-rendered with its problems and previews."""
    _admin(user)
    editor = _editor(name)
    directory = _directory(live)
    draft = await _changed(request, editor, bundle, directory)
    page = _page(request, editor, draft, directory, bundle)
    return _show(request, page, status_code=200 if page.checked.ok else 422)


@router.post("/admin/editors/{name}/save")
async def save_document(
    request: Request, name: str, user: CurrentUser, live: LiveDep, bundle: BundleDep
) -> Response:
    """Save: refused with the errors when the draft does not check, or with the
    conflict when the file changed on disk since the editor read it."""
    _admin(user)
    editor = _editor(name)
    directory = _directory(live)
    form = await request.form()
    draft = _posted_draft(form, editor)
    page = _page(request, editor, draft, directory, bundle)
    if not page.checked.ok:
        return _show(request, page, status_code=422)
    message = form.get("_message")
    outcome = save_draft(
        directory,
        draft,
        message=message if isinstance(message, str) else "",
        author=(user.name or user.email, user.email),
        live=live,
        confirm=form.get("_confirm") == "1",
    )
    typed = message if isinstance(message, str) else ""
    if outcome.conflict:
        return _show(request, _with(page, conflict=True, message=typed), status_code=409)
    if outcome.diff is not None:
        return _show(request, _with(page, diff=outcome.diff, message=typed))
    saved = Draft(draft.path, draft.text, draft.index, outcome.base)
    return _show(request, _page(request, editor, saved, directory, bundle, saved=outcome.summary))


def _with(page: Page, **changes: Any) -> Page:
    from dataclasses import replace

    return replace(page, **changes)


Hook = Callable[..., Any]
