"""Followers and CCs: the people who hear of a ticket beside its requester and agents.

- A follower is staff who asked to hear of a ticket they may see: its public and its
  internal updates (`follow`, `unfollow`; only oneself).
- A CC is a colleague the requester copies in by address (`add_cc`, `remove_cc`; by the
  ticket's requester or by staff). A CC hears of the public updates only and, signed in
  to the portal, sees the ticket exactly as its requester does (`ReadContext.may_see`,
  `reads.queries.scope`): public comments, no internal field. An address with no
  account becomes a requester account (no password: they follow by mail, or sign up).

Each change is an event on the ticket (`ticket.follower_added`, `.follower_removed`,
`.cc_added`, `.cc_removed`); a CC is a public event, a follower an internal one.
"""

from __future__ import annotations

from sqlalchemy import select

from gongdan.engine.accounts.users import add_user
from gongdan.engine.store.models import TicketFollower, User
from gongdan.engine.unit_of_work import ReadContext, UnitOfWork
from gongdan.errors import PermissionDenied, ValidationFailed
from gongdan.vocabulary import Role

__all__ = [
    "CC",
    "FOLLOWER",
    "MAX_CCS",
    "add_cc",
    "follow",
    "people_following",
    "remove_cc",
    "unfollow",
]

FOLLOWER = "follower"
CC = "cc"
MAX_CCS = 20  # colleagues on one ticket: a mailing list is a team, not a CC line


def people_following(ctx: ReadContext, ticket_id: int) -> dict[str, list[tuple[str, str]]]:
    """(email, name) of a ticket's followers and CCs, by kind, in address order."""
    rows = ctx.session.execute(
        select(TicketFollower.kind, User.email, User.name)
        .join(User, User.id == TicketFollower.user_id)
        .where(TicketFollower.ticket_id == ticket_id)
        .order_by(User.email)
    )
    out: dict[str, list[tuple[str, str]]] = {FOLLOWER: [], CC: []}
    for kind, email, name in rows:
        out.setdefault(kind, []).append((email, name))
    return out


def _address(email: object) -> str | None:
    """`email` as accounts hold it (lower case), or None when no account could have it
    (no @, spaces, a NUL that PostgreSQL refuses, too long)."""
    address = str(email or "").strip().lower()
    if (
        "@" not in address
        or len(address) > 254
        or "\x00" in address
        or any(c.isspace() for c in address)
    ):
        return None
    return address


def _row(ctx: ReadContext, ticket_id: int, user_id: int) -> TicketFollower | None:
    return ctx.session.get(TicketFollower, (ticket_id, user_id))


def follow(ctx: UnitOfWork, key: str) -> bool:
    """The acting agent follows `key`; False when they already did."""
    ctx.require_staff("follow tickets")
    ticket = ctx.ticket(key)
    user_id = ctx.actor.user_id
    assert user_id is not None  # noqa: S101 - staff always have an account
    row = _row(ctx, ticket.id, user_id)
    if row is not None and row.kind == FOLLOWER:
        return False
    if row is None:
        ctx.session.add(
            TicketFollower(ticket_id=ticket.id, user_id=user_id, kind=FOLLOWER, created_at=ctx.now)
        )
    else:  # copied in before: following says more
        row.kind = FOLLOWER
    ctx.event(ticket, "ticket.follower_added", after={"user": ctx.actor.email, "public": False})
    return True


def unfollow(ctx: UnitOfWork, key: str) -> bool:
    """The acting agent stops following `key`; False when they did not follow it."""
    ctx.require_staff("follow tickets")
    ticket = ctx.ticket(key)
    row = _row(ctx, ticket.id, ctx.actor.user_id or -1)
    if row is None or row.kind != FOLLOWER:
        return False
    ctx.session.delete(row)
    ctx.event(
        ticket, "ticket.follower_removed", before={"user": ctx.actor.email}, after={"public": False}
    )
    return True


def _may_copy(ctx: UnitOfWork, requester_id: int) -> None:
    if ctx.actor.is_requester and ctx.actor.user_id != requester_id:
        raise PermissionDenied("only the ticket's requester may copy colleagues in")


def add_cc(ctx: UnitOfWork, key: str, email: str) -> bool:
    """Copy the person at `email` in on `key` (see the module docstring); False when
    they already hear of it (its requester, a CC or a follower)."""
    ticket = ctx.ticket(key)
    _may_copy(ctx, ticket.requester_id)
    address = _address(email)
    if address is None:
        raise ValidationFailed(
            f"{email!r} is not an email address", {"cc": "must be an email address"}
        )
    user = ctx.known_user(address)
    if user is None:
        requester = ctx.user(ticket.requester_id)
        language = requester.language if requester is not None else "en"
        user = add_user(ctx.as_system(), address, role=Role.REQUESTER, language=language)
    elif not user.active:
        raise ValidationFailed(f"'{address}' is deactivated", {"cc": "this account is deactivated"})
    if user.id == ticket.requester_id or _row(ctx, ticket.id, user.id) is not None:
        return False
    count = ctx.session.scalar(
        select(TicketFollower.user_id)
        .where(TicketFollower.ticket_id == ticket.id, TicketFollower.kind == CC)
        .limit(MAX_CCS)
        .offset(MAX_CCS - 1)
    )
    if count is not None:
        raise ValidationFailed(
            f"{key} has {MAX_CCS} people copied in already",
            {"cc": f"at most {MAX_CCS} people may be copied in"},
        )
    ctx.session.add(
        TicketFollower(ticket_id=ticket.id, user_id=user.id, kind=CC, created_at=ctx.now)
    )
    ctx.event(ticket, "ticket.cc_added", after={"user": address})
    return True


def remove_cc(ctx: UnitOfWork, key: str, email: str) -> bool:
    """Stop copying `email` in on `key` (the requester, staff, or the CC themselves)."""
    ticket = ctx.ticket(key)
    address = _address(email)
    if address is None:
        return False
    if address != (ctx.actor.email or "").lower():
        _may_copy(ctx, ticket.requester_id)
    user = ctx.known_user(address)
    row = _row(ctx, ticket.id, user.id) if user is not None else None
    if row is None or row.kind != CC:
        return False
    ctx.session.delete(row)
    ctx.event(ticket, "ticket.cc_removed", before={"user": address})
    return True
