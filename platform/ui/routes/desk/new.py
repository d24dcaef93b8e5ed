"""The agent desk: its home (the queues) and the generated "new ticket" form with its htmx helpers (show/hide fields, check one field,
upload a file with progress).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import FormData, UploadFile
from starlette.responses import RedirectResponse, Response

from gongdan.bundle.compiled import Bundle, FormSection, TicketTypeDef
from gongdan.engine import DEFAULT_MAX_BYTES, Account, TicketService, check_title
from gongdan.errors import NotFound, ValidationFailed
from gongdan.forms.data import check_ticket_data
from gongdan.ui.deps import BundleDep, ServiceDep, StaffUser
from gongdan.ui.fields import FormView, build_form, changed_dependents, form_sections, read_form
from gongdan.ui.i18n import language_for
from gongdan.ui.render import redirect, render, render_fragment

__all__ = ["router"]

router = APIRouter()


@router.get("/desk")
def desk_home(user: StaffUser) -> Response:
    """The desk starts at the agent's own queue, with every queue's count above it
    (`routes/queues.py`), not at a bare list of queue names."""
    return RedirectResponse("/desk/queues/mine", status_code=303)


@router.get("/desk/new")
def choose_type(request: Request, user: StaffUser, bundle: BundleDep) -> Response:
    return render(request, "desk/choose_type.html", {"types": list(bundle.ticket_types.values())})


def _ticket_type(bundle: Bundle, type_id: str) -> TicketTypeDef:
    ticket_type = bundle.ticket_types.get(type_id)
    if ticket_type is None:
        raise NotFound(f"no ticket type '{type_id}'")
    return ticket_type


def _create_field_ids(ticket_type: TicketTypeDef) -> list[str]:
    ids = [f for s in form_sections(ticket_type, "create") for f in s.fields]
    return list(dict.fromkeys([*ids, "priority", "team", "assignee", "requester"]))


def _extra_section(ticket_type: TicketTypeDef) -> tuple[Any, ...]:
    """Triage fields an agent may set at creation that the type's form does not place."""
    placed = {f for s in form_sections(ticket_type, "create") for f in s.fields}
    extra = tuple(f for f in ("requester", "priority", "team", "assignee") if f not in placed)
    return (FormSection({"en": "Triage", "zh-CN": "分派"}, extra),) if extra else ()


def new_ticket_form(
    request: Request,
    service: TicketService,
    user: Account,
    ticket_type: TicketTypeDef,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
) -> FormView:
    bundle = service.bundle
    sections = (*form_sections(ticket_type, "create"), *_extra_section(ticket_type))
    context = _context(ticket_type, values)
    views = build_form(
        bundle, ticket_type, sections, language_for(request), values,
        errors=errors, context=context, prefix="new",
    )  # fmt: skip
    staff = tuple(service.list_assignable(user.actor))
    return FormView(
        views,
        check_url=f"/desk/new/{ticket_type.id}/check",
        upload_url=f"/desk/new/{ticket_type.id}/upload/{{field}}",
        staff=staff,
    )


def _context(ticket_type: TicketTypeDef, values: dict[str, Any]) -> dict[str, Any]:
    """Built-in values the type's conditions may read while the form is typed."""
    return {
        "type": ticket_type.id,
        "priority": values.get("priority") or ticket_type.priority_default,
        "title": values.get("title") or "",
        "team": values.get("team") or None,
    }


@router.get("/desk/new/{type_id}")
def new_ticket(request: Request, type_id: str, user: StaffUser, service: ServiceDep) -> Response:
    ticket_type = _ticket_type(service.bundle, type_id)
    form = new_ticket_form(request, service, user, ticket_type, {})
    return render(request, "desk/new.html", {"ticket_type": ticket_type, "form": form})


def form_errors(ticket_type: TicketTypeDef, values: dict[str, Any]) -> dict[str, str]:
    """Every problem of the typed values at once, found by the checks the service makes
    (the title's, the type's fields'), so the form and the service never disagree."""
    errors: dict[str, str] = {}
    try:
        check_title(values.get("title"))
    except ValidationFailed as failed:
        errors.update(failed.fields)
    custom = {k: v for k, v in values.items() if k in ticket_type.field_map}
    try:
        check_ticket_data(ticket_type.fields, custom, context=_context(ticket_type, values))
    except ValidationFailed as failed:
        errors.update(failed.fields)
    return errors


def _service_values(ticket_type: TicketTypeDef, values: dict[str, Any]) -> dict[str, Any]:
    custom = {k: v for k, v in values.items() if k in ticket_type.field_map}
    out: dict[str, Any] = {
        "title": values.get("title") or "",
        "description": values.get("description") or "",
        "fields": custom,
    }
    for name in ("priority", "team", "assignee", "requester"):
        if values.get(name):
            out[name] = values[name]
    if values.get("tags"):
        out["tags"] = str(values["tags"])
    return out


@router.post("/desk/new/{type_id}")
async def create(
    request: Request, type_id: str, user: StaffUser, bundle: BundleDep, service: ServiceDep
) -> Response:
    ticket_type = _ticket_type(bundle, type_id)
    values = read_form(await request.form(), ticket_type, _create_field_ids(ticket_type))
    errors = form_errors(ticket_type, values)
    if not errors:
        try:
            result = service.create_ticket(
                user.actor, type_id, **_service_values(ticket_type, values)
            )
        except ValidationFailed as failed:
            errors = failed.fields or {"title": failed.detail}
        else:
            target = f"/desk/tickets/{result.ticket.key}"
            return redirect(request, target)
    form = new_ticket_form(request, service, user, ticket_type, values, errors)
    context = {"ticket_type": ticket_type, "form": form, "errors": errors}
    return render(request, "desk/new.html", context, block="form", status_code=422)


@router.post("/desk/new/{type_id}/check")
async def check_field(
    request: Request, type_id: str, user: StaffUser, service: ServiceDep
) -> Response:
    """After a field changed: the fields that depend on it (shown, hidden, required)
    and the changed field's own error, as out-of-band swaps; focus stays put."""
    ticket_type = _ticket_type(service.bundle, type_id)
    form_data = await request.form()
    changed = _changed_field(request, form_data)
    values = read_form(form_data, ticket_type, _create_field_ids(ticket_type))
    # Only the field the user just left is judged; fields it reveals start clean.
    problems = form_errors(ticket_type, values)
    errors = {changed: problems[changed]} if changed in problems else {}
    form = new_ticket_form(request, service, user, ticket_type, values, errors)
    dependents = changed_dependents(ticket_type, changed) if changed else ()
    fields = form.fields
    context = {
        "form": form,
        "refresh": [fields[d] for d in dependents if d in fields],
        "changed": fields.get(changed or ""),
    }
    return render_fragment(request, "partials/field_refresh.html", context)


def _changed_field(request: Request, form: FormData) -> str | None:
    name = request.headers.get("hx-trigger-name") or ""
    return name.removesuffix("__offset") or None


@router.post("/desk/new/{type_id}/upload/{field_id}")
async def upload(
    request: Request, type_id: str, field_id: str, user: StaffUser, service: ServiceDep
) -> Response:
    return await upload_file(request, type_id, field_id, user, service, prefix="new")


async def upload_file(
    request: Request,
    type_id: str,
    field_id: str,
    user: Account,
    service: TicketService,
    *,
    prefix: str,
) -> Response:
    """Store one uploaded file for an attachment field and answer its list entry; a
    refused file (too large, wrong type) puts the reason under the field instead."""
    async with request.form() as form:
        part = form.get(f"{field_id}__upload")
        filename = part.filename if isinstance(part, UploadFile) else None
        try:
            if not isinstance(part, UploadFile) or not filename:
                raise ValidationFailed("no file was sent", {field_id: "choose a file to upload"})
            content = await part.read(DEFAULT_MAX_BYTES + 1)
            if len(content) > DEFAULT_MAX_BYTES:
                raise ValidationFailed("the file is too large", {field_id: "the file is too large"})
            attachment_id = service.upload(
                user.actor, type_id, field_id,
                filename=filename, content_type=part.content_type or "application/octet-stream",
                content=content,
            )  # fmt: skip
        except ValidationFailed as failed:
            message = failed.fields.get(field_id) or failed.detail
            context = {"dom_id": f"{prefix}-{field_id}", "message": message}
            headers = {"HX-Retarget": f"#{prefix}-{field_id}-error", "HX-Reswap": "outerHTML"}
            return render_fragment(
                request, "partials/field_error.html", context, status_code=422, headers=headers
            )
    context = {"field_id": field_id, "file_id": str(attachment_id), "name": filename}
    return render_fragment(request, "partials/uploaded_file.html", context)
