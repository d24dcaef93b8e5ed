"""The requester portal: home ("my tickets" with their progress), self sign-up, and
creating a ticket with the type's generated create form.

The create form reuses the desk's generated-form machinery (`ui.fields`) and its
helpers (`form_errors`, `upload_file`): same widgets, same htmx show/hide and
inline checks, posting to portal URLs. Requesters never see or set internal fields,
priority, team or assignee. The ticket page is in `routes.portal.ticket`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from gongdan.bundle.compiled import Bundle, TicketTypeDef
from gongdan.engine import (
    MIN_PASSWORD_LENGTH,
    Account,
    TicketQuery,
    TicketRecord,
    TicketService,
    portal_types,
)
from gongdan.errors import NotFound, PermissionDenied, ValidationFailed
from gongdan.ui.deps import (
    BundleDep,
    CurrentUser,
    OptionalUser,
    ServiceDep,
    ThrottleDep,
    sign_in,
)
from gongdan.ui.errors import too_many_requests
from gongdan.ui.fields import FormView, build_form, changed_dependents, form_sections, read_form
from gongdan.ui.i18n import language_for
from gongdan.ui.render import redirect, render, render_fragment
from gongdan.ui.routes.desk.new import form_errors, upload_file
from gongdan.ui.routes.portal import ticket as portal_ticket
from gongdan.ui.routes.portal.ticket import steps_of
from gongdan.vocabulary import OPEN_CATEGORIES

__all__ = ["create_form", "portal_form_ids", "refreshed_fields", "router"]

router = APIRouter()
router.include_router(portal_ticket.router)
PAGE_SIZE = 50


@router.get("/portal")
def portal_home(
    request: Request,
    user: CurrentUser,
    service: ServiceDep,
    bundle: BundleDep,
    cursor: str | None = None,
) -> Response:
    query = TicketQuery(requester="me", limit=PAGE_SIZE, cursor=cursor or None)
    try:
        page = service.list_tickets(user.actor, query)
    except ValidationFailed:  # a tampered cursor: start again from the first page
        page = service.list_tickets(user.actor, TicketQuery(requester="me", limit=PAGE_SIZE))
    rows = [(ticket, steps_of(bundle, ticket)) for ticket in page.items]
    context = {
        "rows": rows,
        "next_cursor": page.next_cursor,
        "types": portal_types(bundle),
        "to_decide": _to_decide(service, user) if not cursor else [],
    }
    return render(request, "portal/home.html", context, block="tickets")


def _to_decide(service: TicketService, user: Account) -> list[TicketRecord]:
    """Others' requests that name this requester in a user field an approval step of
    their current state is for (`roles: [field:approver]`)."""
    bundle = service.bundle
    if not bundle.approval_fields or user.is_staff:
        return []
    query = TicketQuery(state_categories=OPEN_CATEGORIES, limit=PAGE_SIZE)
    tickets = service.list_tickets(user.actor, query).items
    return [t for t in tickets if t.requester != user.email and _decides(bundle, t, user.email)]


def _decides(bundle: Bundle, ticket: TicketRecord, email: str) -> bool:
    ticket_type = bundle.ticket_types.get(ticket.type)
    workflow = bundle.workflows.get(ticket_type.workflow) if ticket_type else None
    if workflow is None:
        return False
    return any(
        str(ticket.data.get(role.removeprefix("field:")) or "").lower() == email
        for transition in workflow.transitions_from(ticket.state)
        for role in transition.roles
        if role.startswith("field:")
    )


# Sign-up ---------------------------------------------------------------------------


def _signup_allowed(bundle: Bundle) -> None:
    if not bundle.portal.self_signup:
        raise NotFound("self sign-up is not enabled")


@router.get("/portal/signup")
def signup_page(request: Request, account: OptionalUser, bundle: BundleDep) -> Response:
    _signup_allowed(bundle)
    if account is not None:
        return RedirectResponse("/portal", status_code=303)
    context = {"values": {}, "errors": {}, "min_password": MIN_PASSWORD_LENGTH}
    return render(request, "portal/signup.html", context)


@router.post("/portal/signup")
def signup(
    request: Request,
    bundle: BundleDep,
    service: ServiceDep,
    throttle: ThrottleDep,
    email: Annotated[str, Form(max_length=320)] = "",
    name: Annotated[str, Form(max_length=1000)] = "",
    password: Annotated[str, Form(max_length=2048)] = "",
) -> Response:
    _signup_allowed(bundle)
    refused = too_many_requests(request, throttle, "signup", email)
    if refused is not None:
        return refused
    try:
        address = service.accounts.sign_up(
            email=email, name=name, password=password, language=language_for(request)
        )
    except (ValidationFailed, PermissionDenied) as failed:
        errors = getattr(failed, "fields", None) or {"email": str(failed)}
        context = {
            "values": {"email": email, "name": name},
            "errors": errors,
            "min_password": MIN_PASSWORD_LENGTH,
        }
        return render(request, "portal/signup.html", context, status_code=422)
    # No account yet: it is made when the link mailed to the address is followed (an
    # address already registered is answered alike; its owner gets a set-password link).
    return render(request, "portal/signup_sent.html", {"email": address})


_PRIVATE = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


@router.get("/portal/signup/verify")
def verify_page(request: Request, service: ServiceDep, token: str = "") -> Response:
    """The mailed link: a page with one button (a GET changes nothing, so a mail
    scanner that follows links does not spend it)."""
    pending = service.accounts.check_sign_up_link(token[:256])
    if pending is None:
        return render(request, "portal/signup_invalid.html", {}, status_code=400, headers=_PRIVATE)
    context = {"token": token, "email": pending.email, "name": pending.name}
    return render(request, "portal/signup_verify.html", context, headers=_PRIVATE)


@router.post("/portal/signup/verify")
def verify(
    request: Request, service: ServiceDep, token: Annotated[str, Form(max_length=256)] = ""
) -> Response:
    try:
        account = service.accounts.confirm_sign_up(token)
    except ValidationFailed as failed:
        context = {"reason": failed.fields.get("token", "")}
        return render(
            request, "portal/signup_invalid.html", context, status_code=400, headers=_PRIVATE
        )
    sign_in(request, service.accounts, account)
    return RedirectResponse("/portal?welcome=1", status_code=303)


# New ticket ------------------------------------------------------------------------


def _portal_type(bundle: Bundle, type_id: str) -> TicketTypeDef:
    ticket_type = bundle.ticket_types.get(type_id)
    if ticket_type is None or not ticket_type.portal:
        raise NotFound(f"no ticket type '{type_id}' in the portal")
    return ticket_type


def _hidden_fields(ticket_type: TicketTypeDef) -> set[str]:
    """Internal fields, the requester, and the staff-only built-ins the type does not
    let its requesters set (the same rule the engine applies to every channel)."""
    internal = {f.id for f in ticket_type.fields if f.internal}
    return internal | set(ticket_type.staff_only_builtins) | {"requester"}


def portal_form_ids(ticket_type: TicketTypeDef) -> list[str]:
    """The fields a requester fills on the create form, in form order."""
    hidden = _hidden_fields(ticket_type)
    ids = [f for s in form_sections(ticket_type, "create") for f in s.fields if f not in hidden]
    return list(dict.fromkeys(ids))


def create_form(
    bundle: Bundle,
    ticket_type: TicketTypeDef,
    language: str,
    values: Mapping[str, Any],
    errors: Mapping[str, str] | None = None,
    *,
    prefix: str = "new",
    check_url: str | None = None,
    upload_url: str | None = None,
) -> FormView:
    """A type's create form as requesters see it (the portal's, and the admin
    editor's live preview of a draft type)."""
    views = build_form(
        bundle,
        ticket_type,
        form_sections(ticket_type, "create"),
        language,
        values,
        errors=errors,
        context=_context(ticket_type, dict(values)),
        prefix=prefix,
        skip=_hidden_fields(ticket_type),
    )
    return FormView(views, check_url=check_url, upload_url=upload_url)


def portal_form(
    request: Request,
    bundle: Bundle,
    ticket_type: TicketTypeDef,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
) -> FormView:
    return create_form(
        bundle,
        ticket_type,
        language_for(request),
        values,
        errors,
        check_url=f"/portal/new/{ticket_type.id}/check",
        upload_url=f"/portal/new/{ticket_type.id}/upload/{{field}}",
    )


def refreshed_fields(
    ticket_type: TicketTypeDef,
    posted: FormData,
    changed: str | None,
    make_form: Callable[[dict[str, Any], dict[str, str]], FormView],
) -> dict[str, Any]:
    """After the value of `changed` changed on a create form: the fields depending on
    it (re-rendered shown, hidden or newly required) and its own error, for
    `partials/field_refresh.html`. `make_form(values, errors)` builds the form."""
    values = read_form(posted, ticket_type, portal_form_ids(ticket_type))
    problems = form_errors(ticket_type, values)
    errors = {changed: problems[changed]} if changed in problems else {}
    form = make_form(values, errors)
    fields = form.fields
    dependents = changed_dependents(ticket_type, changed) if changed else ()
    return {
        "form": form,
        "refresh": [fields[d] for d in dependents if d in fields],
        "changed": fields.get(changed or ""),
    }


def _context(ticket_type: TicketTypeDef, values: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": ticket_type.id,
        "priority": ticket_type.priority_default,
        "title": values.get("title") or "",
    }


@router.get("/portal/new")
def choose_type(request: Request, user: CurrentUser, bundle: BundleDep) -> Response:
    return render(request, "portal/choose_type.html", {"types": portal_types(bundle)})


@router.get("/portal/new/{type_id}")
def new_ticket(request: Request, type_id: str, user: CurrentUser, bundle: BundleDep) -> Response:
    ticket_type = _portal_type(bundle, type_id)
    form = portal_form(request, bundle, ticket_type, {})
    return render(request, "portal/new.html", {"ticket_type": ticket_type, "form": form})


@router.post("/portal/new/{type_id}")
async def create(
    request: Request, type_id: str, user: CurrentUser, bundle: BundleDep, service: ServiceDep
) -> Response:
    ticket_type = _portal_type(bundle, type_id)
    values = read_form(await request.form(), ticket_type, portal_form_ids(ticket_type))
    errors = form_errors(ticket_type, values)
    if not errors:
        custom = {k: v for k, v in values.items() if k in ticket_type.field_map}
        try:
            result = service.create_ticket(
                user.actor,
                type_id,
                title=values.get("title") or "",
                description=values.get("description") or "",
                fields=custom,
                **{k: values[k] for k in ticket_type.requester_may_set if values.get(k)},
            )
        except ValidationFailed as failed:
            errors = failed.fields or {"title": failed.detail}
        else:
            target = f"/portal/tickets/{result.ticket.key}?created=1"
            return redirect(request, target)
    form = portal_form(request, bundle, ticket_type, values, errors)
    context = {"ticket_type": ticket_type, "form": form, "errors": errors}
    return render(request, "portal/new.html", context, block="form", status_code=422)


@router.post("/portal/new/{type_id}/check")
async def check_field(
    request: Request, type_id: str, user: CurrentUser, bundle: BundleDep
) -> Response:
    """After a field changed: the fields depending on it and its own error (htmx)."""
    ticket_type = _portal_type(bundle, type_id)
    form_data = await request.form()
    changed = (request.headers.get("hx-trigger-name") or "").removesuffix("__offset") or None
    context = refreshed_fields(
        ticket_type,
        form_data,
        changed,
        lambda values, errors: portal_form(request, bundle, ticket_type, values, errors),
    )
    return render_fragment(request, "partials/field_refresh.html", context)


@router.post("/portal/new/{type_id}/upload/{field_id}")
async def upload(
    request: Request,
    type_id: str,
    field_id: str,
    user: CurrentUser,
    bundle: BundleDep,
    service: ServiceDep,
) -> Response:
    _portal_type(bundle, type_id)
    try:
        return await upload_file(request, type_id, field_id, user, service, prefix="new")
    finally:
        await request.close()  # the spooled upload is closed now, not by the collector
