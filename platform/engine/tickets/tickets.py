"""Write paths of a ticket: create, update fields, assign, comment.

Each function runs inside one `UnitOfWork` (one transaction; the runner finishes it:
SLA clocks, the pending batch), validates against the compiled bundle and changes the
ticket through `changes`, whose helpers write the event of each change; the outbox rows
are written here. Transitions live in `transitions`, links/merge/split in `links`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gongdan.bundle.compiled import TicketTypeDef
from gongdan.engine.accounts.users import join_declared_teams
from gongdan.engine.automation.automations import run_automations
from gongdan.engine.automation.routing import plan_route, route_ticket
from gongdan.engine.automation.sla import on_public_reply, sync_sla
from gongdan.engine.records import ticket_values
from gongdan.engine.store.models import Comment, Membership, Ticket, User, built
from gongdan.engine.store.tickets import touch_ticket
from gongdan.engine.store.writes import ask_number, store_ticket, take_number, write_pending
from gongdan.engine.tickets.attachments import attach_to_comment, find_upload
from gongdan.engine.tickets.changes import (
    KEEP,
    Keep,
    apply_fields,
    assign,
    enter_state,
    place,
    update_fields,
)
from gongdan.engine.unit_of_work import UnitOfWork
from gongdan.errors import PermissionDenied, ValidationFailed
from gongdan.forms.data import check_ticket_data, condition_values
from gongdan.forms.shapes import Holds
from gongdan.forms.types.references import role_matches
from gongdan.rules.priority import priority_for
from gongdan.vocabulary import EDITABLE_BUILTINS, PRIORITIES, STAFF_ROLES, Role

__all__ = [
    "add_comment",
    "assign_ticket",
    "check_references",
    "check_requester_builtins",
    "check_title",
    "create_ticket",
    "update_ticket",
]

MAX_TITLE = 300
MAX_TEXT = 100_000
MAX_TAGS = 50


def check_title(title: Any) -> str:
    """The title as stored (trimmed), or `ValidationFailed`: required, at most
    `MAX_TITLE` characters, no NUL (forms check it as they are typed with this too)."""
    text = str(title or "").strip()
    if not text:
        raise ValidationFailed("the title is required", {"title": "is required"})
    if len(text) > MAX_TITLE:
        raise ValidationFailed(
            "the title is too long", {"title": f"must be at most {MAX_TITLE} characters"}
        )
    if "\x00" in text:
        raise ValidationFailed(
            "the title contains a NUL character", {"title": "contains a NUL character"}
        )
    return text


def _clean_text(value: Any, name: str) -> str:
    text = str(value or "")
    if len(text) > MAX_TEXT:
        raise ValidationFailed(
            f"the {name} is too long", {name: f"must be at most {MAX_TEXT} characters"}
        )
    if "\x00" in text:
        raise ValidationFailed(
            f"the {name} contains a NUL character", {name: "contains a NUL character"}
        )
    return text


def _clean_priority(value: Any) -> str:
    if value not in PRIORITIES:
        raise ValidationFailed(
            f"'{value}' is not a priority",
            {"priority": f"must be one of: {', '.join(PRIORITIES)}"},
        )
    return str(value)


def _clean_tags(value: Any) -> list[str]:
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(t, str) for t in items):
        raise ValidationFailed("tags must be a list of texts", {"tags": "must be a list of texts"})
    tags = list(dict.fromkeys(t.strip() for t in items if t.strip()))
    if any("\x00" in t for t in tags):  # PostgreSQL refuses NUL in text and JSON
        raise ValidationFailed(
            "a tag contains a NUL character", {"tags": "contains a NUL character"}
        )
    if len(tags) > MAX_TAGS or any(len(t) > 64 for t in tags):
        raise ValidationFailed(
            "too many or too long tags", {"tags": f"at most {MAX_TAGS} tags of 64 characters"}
        )
    return tags


def _check_internal_fields(
    ctx: UnitOfWork, ticket_type: TicketTypeDef, given: dict[str, Any]
) -> None:
    if ctx.actor.is_staff:
        return
    internal = [f.id for f in ticket_type.fields if f.internal and f.id in given]
    if internal:
        raise ValidationFailed(
            "requesters cannot set internal fields",
            dict.fromkeys(internal, "is not a field you can set"),
        )


def _builtins(
    ticket_type: TicketTypeDef, state: str, category: str, **values: Any
) -> dict[str, Any]:
    return {"type": ticket_type.id, "state": state, "state_category": category, **values}


_ROLE_WORDS = {
    "staff": "an agent or admin",
    "agent": "an agent",
    "admin": "an admin",
    "requester": "a requester",
}


def check_references(ctx: UnitOfWork, ticket_type: TicketTypeDef, data: dict[str, Any]) -> None:
    """Values of team fields must name a team of the bundle, and values of fields that
    hold people an active account (the field type alone only knows what a team id or
    an email looks like): nobody could ever approve as `nobody@…`."""
    unknown = {
        field.id: f"no team '{data[field.id]}'"
        for field in ticket_type.fields
        if field.holds is Holds.TEAMS
        and data.get(field.id) is not None
        and data[field.id] not in ctx.bundle.teams
    }
    people = {
        field.id: [data[field.id]] if isinstance(data[field.id], str) else list(data[field.id])
        for field in ticket_type.fields
        if field.holds is Holds.PEOPLE and data.get(field.id) is not None
    }
    roles = {field.id: field.params.get("role") for field in ticket_type.fields}
    for field_id, emails in people.items():
        for email in emails:
            try:
                user = ctx.user_by_email(str(email))  # read once per write, then kept
            except ValidationFailed:
                unknown[field_id] = f"no active user '{email}'"
                break
            if not role_matches(roles.get(field_id), user.role):
                unknown[field_id] = f"'{email}' is not {_ROLE_WORDS[str(roles[field_id])]}"
                break
    if unknown:
        raise ValidationFailed(f"unknown team or user in {', '.join(unknown)}", unknown)


def check_requester_builtins(ticket_type: TicketTypeDef, given: dict[str, Any]) -> None:
    """Refuse, by name, the staff-only built-ins (`vocabulary.STAFF_ONLY_BUILTINS`) a
    requester sent that `ticket_type` does not let them set (`requester_may_set`)."""
    refused = sorted(
        name
        for name, value in given.items()
        if value is not None and name in ticket_type.staff_only_builtins
    )
    if refused:
        raise PermissionDenied(
            f"requesters cannot set {', '.join(refused)} on '{ticket_type.id}' tickets",
            dict.fromkeys(
                refused,
                f"is set by staff only (ticket type '{ticket_type.id}' does not list it "
                "in requester_may_set)",
            ),
        )


def _link_attachments(
    ctx: UnitOfWork, ticket: Ticket, ticket_type: TicketTypeDef, data: dict[str, Any]
) -> None:
    for field in ticket_type.fields:
        if field.holds is not Holds.FILES or data.get(field.id) is None:
            continue
        ids = data[field.id] if isinstance(data[field.id], list) else [data[field.id]]
        for attachment_id in ids:
            row = find_upload(ctx.session, attachment_id)
            # A file already on this ticket stays; a new one must be the actor's own
            # upload (staff included: an unattached upload is its uploader's alone).
            # (A reply's upload, of no field, never goes into a field: other limits.)
            if row is None or not (
                row.ticket_id == ticket.id
                or (
                    row.ticket_id is None
                    and row.field_id is not None
                    and row.uploaded_by == ctx.actor.user_id
                )
            ):
                raise ValidationFailed(
                    "unknown attachment", {field.id: f"no upload '{attachment_id}'"}
                )
            row.ticket_id = ticket.id
            row.field_id = field.id


def resolve_requester(ctx: UnitOfWork, email: str | None) -> User:
    """The requester of a new ticket: the actor, or (for staff) the person named,
    created as a requester when new (a customer on the phone, a first email)."""
    if ctx.actor.is_requester or email is None:
        if ctx.actor.user_id is None:
            raise ValidationFailed("a requester is required", {"requester": "is required"})
        user = ctx.user(ctx.actor.user_id)
        assert user is not None  # noqa: S101 - an actor with an id exists
        if email is not None and email.strip().lower() != user.email:
            raise PermissionDenied("requesters can only create tickets for themselves")
        return user
    address = email.strip().lower()
    if "@" not in address or len(address) > 254:
        raise ValidationFailed(
            f"'{email}' is not an email address", {"requester": "must be an email address"}
        )
    existing = ctx.known_user(address)
    if existing is not None:
        return existing
    user = User(
        email=address,
        name=address.split("@")[0],
        role=Role.REQUESTER,
        language="en",
        attributes={},
        away=False,
        active=True,
        created_at=ctx.now,
    )
    ctx.session.add(user)
    ctx.session.flush()
    ctx.event(None, "user.created", after={"email": address, "role": Role.REQUESTER})
    join_declared_teams(ctx, user)
    return user


def create_ticket(
    ctx: UnitOfWork,
    type_id: str,
    *,
    title: str,
    description: str = "",
    fields: dict[str, Any] | None = None,
    requester: str | None = None,
    priority: str | None = None,
    tags: list[str] | None = None,
    team: str | None = None,
    assignee: str | None = None,
    placed: tuple[str | None, int | None] | None = None,
) -> Ticket:
    """Create a ticket of `type_id`; returns the new (flushed) row. `placed`: the team
    id and assignee id it starts with, taken as they are (a split keeps its source's,
    checked when the source got them): routing does not run, and `ticket.created`
    records them as any other part of the new ticket."""
    ticket_type = ctx.bundle.ticket_types.get(type_id)
    if ticket_type is None:
        raise ValidationFailed(f"unknown ticket type '{type_id}'", {"type": "unknown ticket type"})
    if ctx.actor.is_requester:
        if not ticket_type.portal:
            raise PermissionDenied(f"requesters cannot create '{type_id}' tickets")
        given_builtins = {"priority": priority, "team": team, "assignee": assignee, "tags": tags}
        check_requester_builtins(ticket_type, given_builtins)
    given = dict(fields or {})
    _check_internal_fields(ctx, ticket_type, given)
    workflow = ctx.workflow(ticket_type)
    state = workflow.initial
    category = workflow.states[state].category
    clean_title, clean_description = check_title(title), _clean_text(description, "description")
    requester_user = resolve_requester(ctx, requester)
    context = _builtins(
        ticket_type,
        state,
        category,
        title=clean_title,
        description=clean_description,
        priority=priority or ticket_type.priority_default,
        requester={"email": requester_user.email, **(requester_user.attributes or {})},
    )
    data = check_ticket_data(ticket_type.fields, given, context=context, now=ctx.now)
    check_references(ctx, ticket_type, data)
    ticket = built(
        Ticket,
        {
            "id": None,
            "key": None,
            "ticket_type": type_id,
            "number": None,
            "state": state,
            "state_category": category,
            "priority": ticket_type.priority_default
            if priority is None
            else _clean_priority(priority),
            "title": clean_title,
            "description": clean_description,
            "requester_id": requester_user.id,
            "assignee_id": None,
            "team_id": None,
            "tags": _clean_tags(tags),
            "data": data,
            "config_version": ctx.bundle.version,
            "version": 1,
            "merged_into_id": None,
            "created_at": ctx.now,
            "updated_at": ctx.now,
            "resolved_at": None,
            "closed_at": None,
            "state_since": ctx.now,
        },
    )
    # What conditions read of the new ticket, computed once: the type's priority rules
    # and the routing rules read the same values.
    values = condition_values(ticket_type.field_map, ticket_values(ticket, requester_user, None))
    if priority is None:
        chosen = priority_for(ticket_type.priority_rules, values, None, ctx.now)
        if chosen is not None:
            apply_fields(ticket, {"priority": chosen}, {})
            values["priority"] = chosen
    # Decided in memory, then one INSERT of the final row: explicit assignment, routing
    # (its reads only), the number (taken late: its counter row stays locked until
    # commit), the SLA clocks for the final priority.
    if team is not None or assignee is not None:
        place(ticket, *_check_assignment(ctx, ticket, team, assignee))
    elif placed is not None:
        place(ticket, *placed)
    routed = None
    if team is None and assignee is None and placed is None:
        if "key" in ctx.bundle.routing_keys:  # a rule reads the key: number it first
            _number(ctx, ticket, ticket_type)
            values["key"] = ticket.key
        else:
            ask_number(ctx.session, type_id)  # routing's read may take it along
        routed = plan_route(ctx, ticket, values=values)
    if ticket.number is None:
        _number(ctx, ticket, ticket_type)
    sync_sla(ctx, ticket)  # its clocks go in with the INSERT
    store_ticket(ctx.session, ticket)
    # One event for the new ticket as created, routing's doing included (as a help
    # desk's audit of a new ticket lists what its triggers changed): `detail.routing`
    # holds the rules that matched, the team, strategy, agent and why, and what the
    # ticket was before routing. Later re-routing writes `ticket.routed` events.
    created = {"routing": {**routed["detail"], "before": routed["before"]}} if routed else None
    ctx.event(ticket, "ticket.created", after=snapshot(ticket, ctx), detail=created)
    ctx.outbox("ticket.created", {"ticket": ticket.key, "type": type_id})
    write_pending(ctx.session)
    _link_attachments(ctx, ticket, ticket_type, data)
    # A new ticket enters its initial state: that state's on_enter actions run as for
    # any state entered later (the approval workflow asks its approver this way).
    enter_state(ctx, ticket, workflow, state, kind=None)
    run_automations(ctx, ticket, "ticket.created")
    return ticket


def _number(ctx: UnitOfWork, ticket: Ticket, ticket_type: TicketTypeDef) -> None:
    """Give a new ticket its number and key (and on PostgreSQL its id), inside the
    ticket's own transaction: the counter row stays locked until commit, so numbers
    have no gaps or repeats."""
    number, ticket_id = take_number(ctx.session, ticket_type.id)
    if ticket_id is not None:
        ticket.id = ticket_id
    ticket.number, ticket.key = number, f"{ticket_type.key_prefix}-{number}"


def snapshot(ticket: Ticket, ctx: UnitOfWork) -> dict[str, Any]:
    """The whole ticket as an event stores it (enough to replay its history)."""
    assignee = ctx.user(ticket.assignee_id)
    return {
        "key": ticket.key,
        "type": ticket.ticket_type,
        "state": ticket.state,
        "priority": ticket.priority,
        "title": ticket.title,
        "description": ticket.description,
        "requester": (ctx.user(ticket.requester_id) or User(email="")).email,
        "assignee": assignee.email if assignee is not None else None,
        "team": ticket.team_id,
        "tags": list(ticket.tags or ()),
        "data": dict(ticket.data or {}),
    }


def update_ticket(
    ctx: UnitOfWork, key: str, changes: dict[str, Any], *, expected_version: int | None = None
) -> Ticket:
    """Change built-in fields (title, description, priority, tags) and custom fields."""
    ticket = ctx.ticket(key, expected_version=expected_version)
    ctx.require_staff("edit ticket fields")
    ticket_type = ctx.ticket_type(ticket)
    if not isinstance(changes, dict) or not changes:
        raise ValidationFailed("nothing to change", {})
    builtin = {k: v for k, v in changes.items() if k in EDITABLE_BUILTINS}
    custom = {k: v for k, v in changes.items() if k not in EDITABLE_BUILTINS}
    for name in ("team", "assignee", "state", "requester", "type"):
        if name in custom:
            raise ValidationFailed(
                f"'{name}' is changed by {'assigning' if name in ('team', 'assignee') else 'a transition'}",
                {name: "cannot be changed here"},
            )
    readonly = [
        f.id for f in ticket_type.fields if f.id in custom and ticket.state in f.readonly_in
    ]
    if readonly:
        raise ValidationFailed(
            f"read-only in state '{ticket.state}'",
            dict.fromkeys(readonly, f"is read-only in state '{ticket.state}'"),
        )
    before_values = condition_values(ticket_type.field_map, ctx.values(ticket))
    cleaned: dict[str, Any] = {}
    if custom:
        context = {**before_values, **dict((ticket.data or {}).items())}
        cleaned = check_ticket_data(
            ticket_type.fields,
            custom,
            context=context,
            previous=before_values,
            now=ctx.now,
            partial=True,
        )
        check_references(ctx, ticket_type, cleaned)
        _link_attachments(ctx, ticket, ticket_type, cleaned)
    cleaners = {
        "title": check_title,
        "description": lambda v: _clean_text(v, "description"),
        "priority": _clean_priority,
        "tags": _clean_tags,
    }
    columns = {name: cleaners[name](value) for name, value in builtin.items()}
    # A change of fields fires the type's priority rules, unless it sets the priority.
    after = update_fields(
        ctx,
        ticket,
        columns=columns,
        data=cleaned,
        previous=None if "priority" in builtin else before_values,
    )
    if not after:
        return ticket
    ctx.outbox("ticket.updated", {"ticket": ticket.key, "fields": sorted(after)})
    route_ticket(ctx, ticket, previous=before_values, changed=frozenset(after))
    run_automations(ctx, ticket, "ticket.updated", previous=before_values)
    return ticket


def _check_assignment(
    ctx: UnitOfWork, ticket: Ticket, team: str | None, assignee: str | None
) -> tuple[str | Keep | None, int | Keep | None]:
    """The team id and assignee id that `team` and `assignee` name ("" clears, None
    keeps: `KEEP`): a team of the bundle, an active agent who is a member of the
    ticket's team (as it will be)."""
    team_id: str | Keep | None = KEEP
    assignee_id: int | Keep | None = KEEP
    if team is not None:
        team_id = team or None
        if team_id is not None and team_id not in ctx.bundle.teams:
            raise ValidationFailed(f"unknown team '{team}'", {"team": f"no team '{team}'"})
    if assignee is not None:
        user = ctx.user_by_email(assignee, what="assignee") if assignee else None
        if user is not None and user.role not in STAFF_ROLES:
            raise ValidationFailed(f"{assignee} is not an agent", {"assignee": "must be an agent"})
        in_team = ticket.team_id if isinstance(team_id, Keep) else team_id
        if user is not None and in_team is not None:
            member = ctx.session.get(Membership, (in_team, user.id))
            if member is None:
                raise ValidationFailed(
                    f"{user.email} is not in team '{in_team}'",
                    {"assignee": f"is not a member of team '{in_team}'"},
                )
        assignee_id = user.id if user else None
    return team_id, assignee_id


def assign_ticket(
    ctx: UnitOfWork,
    key: str,
    *,
    team: str | None = None,
    assignee: str | None = None,
    expected_version: int | None = None,
) -> Ticket:
    """Set the team and/or the assignee ("" clears). The assignee must be an agent in
    the ticket's team."""
    ticket = ctx.ticket(key, expected_version=expected_version)
    ctx.require_staff("assign tickets")
    team_id, assignee_id = _check_assignment(ctx, ticket, team, assignee)
    after = assign(ctx, ticket, team_id=team_id, assignee_id=assignee_id)
    if after:
        ctx.outbox("ticket.assigned", {"ticket": ticket.key, **after})
    return ticket


def add_comment(
    ctx: UnitOfWork, key: str, body: str, *, public: bool = True, files: Sequence[Any] = ()
) -> Comment:
    """A public reply or (staff only) an internal note, with the actor's reply uploads
    named in `files` (`attachments.attach_to_comment`); a reply with files may have no
    text."""
    ticket = ctx.ticket(key)
    if not public:
        ctx.require_staff("write internal notes")
    text = _clean_text(body, "comment").strip()
    if not text and not files:
        raise ValidationFailed("the comment is empty", {"comment": "is required"})
    comment = Comment(
        ticket_id=ticket.id,
        author_id=ctx.actor.user_id,
        body=text,
        public=public,
        created_at=ctx.now,
    )
    ctx.session.add(comment)
    # Touch updated_at without bumping the row version: a reply must not make someone
    # else's concurrent edit of the fields fail.
    touch_ticket(ctx.session, ticket, ctx.now)
    ctx.session.flush()
    attached = attach_to_comment(ctx, ticket, comment, list(files)) if files else []
    ctx.event(
        ticket,
        "comment.added",
        after={
            "comment_id": comment.id,
            "public": public,
            **({"files": [f.filename for f in attached]} if attached else {}),
        },
    )
    if public:
        on_public_reply(ctx, ticket, by_staff=ctx.actor.is_staff)
    # An internal note goes out under a topic of its own: only the ticket's followers
    # hear of it (`channels.email.audience`), never its requester or a CC.
    ctx.outbox(
        "comment.added" if public else "comment.note",
        {
            "ticket": ticket.key,
            "comment": comment.id,
            "by_staff": ctx.actor.is_staff,
            "by": ctx.actor.email,
        },
    )
    return comment
