"""The visual editors' routes: open a config document in its editor, re-check it after
every change (htmx posts the whole editor, the server answers it re-rendered with the
problems at their controls and the previews), and save it.

One set of routes serves every editor; what differs (the kind, the folder a new file
goes in, the form → document mapping and the template) is an `Editor` in `EDITORS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from starlette.datastructures import FormData
from starlette.responses import Response

from gongdan.bundle.compiled import Bundle
from gongdan.engine import ConfigEditor, EditConflict, Proposal, SaveRefused
from gongdan.errors import NotFound
from gongdan.rules.conditions import FieldInfo
from gongdan.ui.deps import BundleDep, LiveDep
from gongdan.ui.i18n import language_for
from gongdan.ui.render import render, render_fragment
from gongdan.ui.routes.admin.access import AdminUser as CurrentUser
from gongdan.ui.routes.admin.access import admin_router, author_of
from gongdan.ui.routes.admin.visual import previews
from gongdan.ui.routes.admin.visual.actions import (
    action_hints,
    action_kinds,
    action_rows,
    edit_actions,
    inputs_of,
    pairs_of,
)
from gongdan.ui.routes.admin.visual.conditions import GROUPS, operators_of, tree_of
from gongdan.ui.routes.admin.visual.controls import LOCALES, Posted, dom_id, label_parts
from gongdan.ui.routes.admin.visual.document import Checked, Draft, check_draft, read_draft
from gongdan.ui.routes.admin.visual.registry import EDITORS, Editor

__all__ = ["router"]

router = admin_router()  # every route admin-only: anyone else gets a 404
EDITOR_FRAME = "admin/editors/_editor.html"  # includes the editor's own template


def _admin(user: Any) -> None:
    """(The router's dependency already refused anyone but an admin.)"""


def _directory(live: Any) -> ConfigEditor:
    if live is None or live.directory is None:
        raise NotFound("this server has no config folder to edit")
    return ConfigEditor(live)


def _editor(name: str) -> Editor:
    editor = EDITORS.get(name)
    if editor is None:
        raise NotFound(f"no editor '{name}'")
    return editor


def _find(config: ConfigEditor, editor: Editor, doc_id: str) -> str:
    """The file (inside the config folder) holding the document of this editor's kind."""
    return config.locate(editor.kind, doc_id)[0]


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
    # The review before saving (or a refused save): the console's shared fragment
    # (`admin/_proposal.html`: the YAML diff, the plan's summary, errors, refusal).
    proposal: Proposal | None = None
    message: str = ""

    @property
    def doc(self) -> Any:
        return self.draft.document


def _page(
    request: Request,
    editor: Editor,
    draft: Draft,
    directory: ConfigEditor,
    active: Bundle,
    **more: Any,
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
        "action_rows": action_rows,
        "action_kinds": action_kinds,
        "action_hints": action_hints,
        "inputs_of": inputs_of,
        "pairs_of": pairs_of,
        **page.extra,
    }
    return render(request, EDITOR_FRAME, context, block="editor", status_code=status_code)


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


async def _changed(
    request: Request, editor: Editor, bundle: Bundle, directory: ConfigEditor
) -> Draft:
    """The draft with the posted controls and button applied."""
    form = await request.form()
    draft = _posted_draft(form, editor)
    doc = draft.document
    posted = Posted(form)
    posted_op = form.get("_op")
    op = posted_op if isinstance(posted_op, str) else ""
    infos = editor.catalog(doc, bundle)
    if op.startswith("act|"):  # an action-row button, the same in every editor
        editor.apply(doc, posted, "", infos)
        edit_actions(doc, op, form, infos)
    else:
        editor.apply(doc, posted, op, infos)
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
    typed = message.strip() if isinstance(message, str) else ""
    if form.get("_confirm") != "1":
        proposal = directory.propose([draft.change()])
        return _show(
            request,
            _with(page, proposal=proposal, conflict=bool(proposal.conflicts), message=typed),
            status_code=409 if proposal.conflicts else 200,
        )
    try:
        saved = directory.save([draft.change()], author_of(user), typed)
    except EditConflict:
        return _show(request, _with(page, conflict=True, message=typed), status_code=409)
    except SaveRefused as refused:
        return _show(
            request, _with(page, proposal=refused.proposal, message=typed), status_code=409
        )
    fresh = directory.read(draft.path)
    after = Draft(draft.path, fresh.text, draft.index, fresh.base or "")
    summary = saved.promotion.outcome + (f" · {saved.commit.sha[:10]}" if saved.commit else "")
    return _show(request, _page(request, editor, after, directory, bundle, saved=summary))


def _with(page: Page, **changes: Any) -> Page:
    from dataclasses import replace

    return replace(page, **changes)


Hook = Callable[..., Any]


@router.post("/admin/editors/calendars/deadline")
async def deadline(
    request: Request, user: CurrentUser, live: LiveDep, bundle: BundleDep
) -> Response:
    """ "What would the deadline be": `gongdan sla deadline` on the calendar as edited."""
    _admin(user)
    editor = _editor("calendars")
    config = _directory(live)
    draft = await _changed(request, editor, bundle, config)
    form = await request.form()
    checked = check_draft(config, draft)
    start, duration = form.get("_start"), form.get("_duration")
    answer = previews.deadline_of(
        checked.bundle,
        str(draft.document.get("id")),
        start if isinstance(start, str) else "",
        duration if isinstance(duration, str) else "",
    )
    return render_fragment(request, "admin/editors/_deadline.html", {"deadline": answer})


@router.post("/admin/editors/routing/test")
async def test_rules(
    request: Request, user: CurrentUser, live: LiveDep, bundle: BundleDep
) -> Response:
    """ "Which rule would this ticket hit": the bundle's routing with the draft in place."""
    from gongdan.ui.routes.admin.visual.routing import test_values

    config = _directory(live)
    draft = await _changed(request, _editor("routing"), bundle, config)
    form = await request.form()
    typed = form.get("_test")
    values = test_values(typed if isinstance(typed, str) else "")
    if isinstance(values, str):
        hit: dict[str, Any] = {"problem": values}
    else:
        hit = previews.rules_hit(check_draft(config, draft).bundle, values, language_for(request))
    return render_fragment(request, "admin/editors/_hit.html", {"hit": hit})


@router.post("/admin/editors/ticket_types/preview/{language}")
async def preview_check(
    request: Request, language: str, user: CurrentUser, live: LiveDep
) -> Response:
    """A value changed in the live preview: the fields that depend on it, toggled by
    their `visible_if`/`required_if` on the draft as it is (the portal's own check)."""
    _admin(user)
    if language not in LOCALES:
        raise NotFound(f"no preview in '{language}'")
    config = _directory(live)
    form = await request.form()
    draft = _posted_draft(form, _editor("ticket_types"))
    checked = check_draft(config, draft)
    changed = (request.headers.get("hx-trigger-name") or "").removesuffix("__offset") or None
    context = previews.preview_refresh(
        checked.bundle, str(draft.document.get("id")), language, form, changed
    )
    return render_fragment(request, "partials/field_refresh.html", context)
