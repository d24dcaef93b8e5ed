"""`TicketService`: the one entry point every channel (web, REST, email, CLI) calls.

Each write method is one `UnitOfWork` (`unit_of_work.begin_write`, the runner): validate
against the compiled bundle, change rows through the write functions of
`engine.tickets`, which write the events and outbox rows; the runner finishes (SLA
clocks of every ticket touched, the pending batch) and commits, or rolls everything
back and raises one of the errors of `gongdan.errors`. Concurrent writers of one ticket
are told apart by the row version: the loser gets `Conflict`, nothing is overwritten.
Each read is one `ReadContext`. The account side is `accounts` (`AccountService`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from gongdan.bundle.compile_macros import MacroDef
from gongdan.bundle.compiled import Bundle
from gongdan.engine import demo
from gongdan.engine.accounts.service import AccountService
from gongdan.engine.automation.sla import SLAExplanation, explain_sla, scan_due
from gongdan.engine.reads.queries import TicketQuery, select_tickets
from gongdan.engine.reads.ticket_page import (
    LinkInfo,
    TicketPage,
    assignable_people,
    attachments_of,
    comment_files,
    comments_of,
    events_of,
    find_people,
    links_of,
    read_ticket_page,
    transitions_of,
)
from gongdan.engine.records import (
    AttachmentRecord,
    CommentRecord,
    EventRecord,
    Page,
    TicketRecord,
    WriteResult,
)
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import Ticket
from gongdan.engine.tickets import files as ticket_files
from gongdan.engine.tickets import followers, links, macros, replies, surveys, tickets, transitions
from gongdan.engine.tickets.attachments import AttachmentStore, store_upload, visible_attachment
from gongdan.engine.tickets.surveys import SurveyRecord
from gongdan.engine.unit_of_work import (
    ReadContext,
    UnitOfWork,
    begin_read,
    begin_write,
    utc_now,
)
from gongdan.rules.workflow import Actor, TransitionDef

__all__ = ["TicketService", "utc_now"]


class TicketService:
    """Tickets on one database under one compiled bundle."""

    def __init__(
        self,
        db: Database,
        bundle: Bundle,
        clock: Callable[[], datetime] = utc_now,
        attachments: AttachmentStore | None = None,
    ) -> None:
        self.db, self.bundle, self.clock = db, bundle, clock
        self.attachments = attachments or AttachmentStore()
        self.accounts = AccountService(db, bundle, clock)

    def _write(self, actor: Actor) -> AbstractContextManager[UnitOfWork]:
        """One write by `actor` now (`unit_of_work.begin_write`, the runner)."""
        return begin_write(self.db, self.bundle, actor, self.clock())

    def _read(self, actor: Actor) -> AbstractContextManager[ReadContext]:
        return begin_read(self.db, self.bundle, actor, self.clock())

    # Writes ------------------------------------------------------------------------

    def create_ticket(self, actor: Actor, type_id: str, **values: Any) -> WriteResult:
        """Create a ticket: title, description, fields, requester, priority, tags, team,
        assignee (see `tickets.create_ticket`)."""
        with self._write(actor) as ctx:
            return ctx.result(tickets.create_ticket(ctx, type_id, **values))

    def update_ticket(
        self,
        actor: Actor,
        key: str,
        changes: dict[str, Any],
        *,
        expected_version: int | None = None,
    ) -> WriteResult:
        with self._write(actor) as ctx:
            ticket = tickets.update_ticket(ctx, key, changes, expected_version=expected_version)
            return ctx.result(ticket)

    def update_and_assign(
        self,
        actor: Actor,
        key: str,
        changes: dict[str, Any],
        *,
        team: str | None = None,
        assignee: str | None = None,
        expected_version: int | None = None,
    ) -> WriteResult:
        """Change fields and the team/assignee in one transaction: both or neither (the
        version is checked once, before either)."""
        with self._write(actor) as ctx:
            tickets.update_ticket(ctx, key, changes, expected_version=expected_version)
            ticket = tickets.assign_ticket(ctx, key, team=team, assignee=assignee)
            return ctx.result(ticket)

    def assign(
        self,
        actor: Actor,
        key: str,
        *,
        team: str | None = None,
        assignee: str | None = None,
        expected_version: int | None = None,
    ) -> WriteResult:
        with self._write(actor) as ctx:
            ticket = tickets.assign_ticket(
                ctx, key, team=team, assignee=assignee, expected_version=expected_version
            )
            return ctx.result(ticket)

    def take_transition(
        self,
        actor: Actor,
        key: str,
        transition_id: str,
        *,
        fields: dict[str, Any] | None = None,
        comment: str | None = None,
        public: bool = True,
        expected_version: int | None = None,
    ) -> WriteResult:
        with self._write(actor) as ctx:
            ticket = transitions.take_transition(
                ctx,
                key,
                transition_id,
                fields=fields,
                comment=comment,
                public=public,
                expected_version=expected_version,
            )
            return ctx.result(ticket)

    def add_comment(
        self,
        actor: Actor,
        key: str,
        body: str,
        *,
        public: bool = True,
        files: Sequence[str] = (),
    ) -> WriteResult:
        """A reply or internal note (`replies.add_reply`: a requester's reply reopens a
        resolved ticket, or starts a follow-up of a closed one; the result's ticket and
        comment are where the reply landed), with the actor's reply uploads named in
        `files` (`upload_reply_file`)."""
        with self._write(actor) as ctx:
            comment = replies.add_reply(ctx, key, body, public=public, files=files)
            ticket = ctx.session.get_one(Ticket, comment.ticket_id)
            result = ctx.result(ticket)
            author = ctx.user(comment.author_id)
            attached = comment_files(ctx, comment.id)
            return WriteResult(
                result.ticket,
                result.events,
                CommentRecord.build(comment, ticket.key, author, attached),
            )

    def link(self, actor: Actor, key: str, other_key: str, kind: str = "relates") -> WriteResult:
        with self._write(actor) as ctx:
            return ctx.result(links.link_tickets(ctx, key, other_key, kind))

    def unlink(self, actor: Actor, key: str, other_key: str, kind: str = "relates") -> WriteResult:
        """Remove a link made by hand (`links.unlink_tickets`)."""
        with self._write(actor) as ctx:
            return ctx.result(links.unlink_tickets(ctx, key, other_key, kind))

    def merge(
        self, actor: Actor, key: str, into_key: str, *, expected_version: int | None = None
    ) -> WriteResult:
        with self._write(actor) as ctx:
            target = links.merge_tickets(ctx, key, into_key, expected_version=expected_version)
            return ctx.result(target)

    def split(
        self,
        actor: Actor,
        key: str,
        *,
        title: str,
        description: str = "",
        fields: dict[str, Any] | None = None,
        comments: Sequence[int] = (),
    ) -> WriteResult:
        """A new ticket split from `key` (its `comments` named move to it)."""
        with self._write(actor) as ctx:
            new = links.split_ticket(
                ctx, key, title=title, description=description, fields=fields, comments=comments
            )
            return ctx.result(new)

    def apply_macro(
        self,
        actor: Actor,
        key: str,
        macro_id: str,
        *,
        reply: str | None,
        public: bool | None = None,
        expected_version: int | None = None,
    ) -> WriteResult:
        """Apply a macro with its reply as rendered (and maybe edited): its field
        changes, reply and transition in one transaction, all or nothing
        (`tickets.macros`)."""
        with self._write(actor) as ctx:
            ticket = macros.apply_macro(
                ctx, key, macro_id, reply=reply, public=public, expected_version=expected_version
            )
            return ctx.result(ticket)

    def follow(self, actor: Actor, key: str, *, following: bool = True) -> bool:
        """The acting agent follows (or stops following) `key`; False: nothing changed."""
        with self._write(actor) as ctx:
            return followers.follow(ctx, key) if following else followers.unfollow(ctx, key)

    def copy_in(self, actor: Actor, key: str, email: str, *, copied: bool = True) -> bool:
        """Copy a colleague in on `key` (CC), or stop; False: nothing changed."""
        with self._write(actor) as ctx:
            if copied:
                return followers.add_cc(ctx, key, email)
            return followers.remove_cc(ctx, key, email)

    def upload(
        self,
        actor: Actor,
        type_id: str | None,
        field_id: str | None,
        *,
        filename: str,
        content_type: str,
        content: bytes,
    ) -> str:
        """Store a file for an attachment field (None: for a reply); returns the id to
        put in that field (its random public id)."""
        with self._write(actor) as ctx:
            return store_upload(
                ctx,
                self.attachments,
                type_id=type_id,
                field_id=field_id,
                filename=filename,
                content_type=content_type,
                content=content,
            ).public_id

    def upload_reply_file(
        self, actor: Actor, *, filename: str, content_type: str, content: bytes
    ) -> str:
        """Store a file for a reply (the reply limits: `attachments.REPLY_ACCEPT`,
        `REPLY_MAX_MB`); returns the id to name in `add_comment(files=…)`."""
        return self.upload(
            actor, None, None, filename=filename, content_type=content_type, content=content
        )

    def add_files(
        self,
        actor: Actor,
        key: str,
        field_id: str,
        attachment_ids: list[Any],
        *,
        expected_version: int | None = None,
    ) -> WriteResult:
        """Add uploaded files to an attachment field (a requester: of their own ticket)."""
        with self._write(actor) as ctx:
            ticket = ticket_files.add_files(
                ctx, key, field_id, attachment_ids, expected_version=expected_version
            )
            return ctx.result(ticket)

    def list_attachments(self, actor: Actor, key: str) -> list[AttachmentRecord]:
        """The files of a ticket the actor may see, oldest first."""
        with self._read(actor) as ctx:
            return attachments_of(ctx, ctx.ticket(key))

    def read_attachment(self, actor: Actor, attachment_id: str) -> tuple[str, str, bytes]:
        """(filename, content type, content) of an attachment the actor may see."""
        with self._read(actor) as ctx:
            row = visible_attachment(ctx, attachment_id)
            return row.filename, row.content_type, self.attachments.get(row.sha256)

    def seed_demo(self) -> None:
        """Demo people and tickets for `gongdan serve --demo` (`engine.demo`; idempotent)."""
        with self._write(Actor.system()) as ctx:
            demo.seed_demo(ctx)

    def answer_survey(
        self, actor: Actor, key: str, rating: Any, comment: str | None = None
    ) -> SurveyRecord:
        """The requester answers the latest satisfaction survey of `key` (once)."""
        with self._write(actor) as ctx:
            return surveys.answer_survey(ctx, key, rating, comment)

    # Reads -------------------------------------------------------------------------
    # One session each that writes nothing, scoped to the actor exactly as writes are
    # (`ReadContext.ticket`); what each shows of a ticket is decided in `reads`.

    def get_ticket(self, actor: Actor, key: str) -> TicketRecord:
        with self._read(actor) as ctx:
            return ctx.record(ctx.ticket(key))

    def list_tickets(self, actor: Actor, query: TicketQuery | None = None) -> Page:
        """One page of the tickets `actor` may see (`paging`: sorts and cursors)."""
        with self._read(actor) as ctx:
            rows, cursor = select_tickets(ctx.session, self.bundle, actor, query or TicketQuery())
            ctx.preload(rows)
            return Page(tuple(ctx.record(row) for row in rows), cursor)

    def read_ticket_page(self, actor: Actor, key: str, *, portal: bool = False) -> TicketPage:
        """Everything the desk's ticket page shows (with `portal`: the portal's, the
        requester's view), read in one session."""
        with self._read(actor) as ctx:
            return read_ticket_page(ctx, key, portal=portal)

    def list_followers(self, actor: Actor, key: str) -> dict[str, list[tuple[str, str]]]:
        """(email, name) of the followers and CCs of `key` by kind ("follower", "cc");
        a requester learns only the CCs (who follows inside is the desk's business)."""
        with self._read(actor) as ctx:
            found = followers.people_following(ctx, ctx.ticket(key).id)
            if not ctx.actor.is_staff:
                found[followers.FOLLOWER] = []
            return found

    def list_macros(self, actor: Actor, key: str | None = None) -> list[MacroDef]:
        """The macros an agent may apply (to `key`: those for its type and team)."""
        with self._read(actor) as ctx:
            return macros.macros_for(ctx, ctx.ticket(key) if key is not None else None)

    def list_links(self, actor: Actor, key: str) -> list[LinkInfo]:
        """The links of a ticket to the tickets the actor may see (as read from it)."""
        with self._read(actor) as ctx:
            ctx.require_staff("list a ticket's links")
            return links_of(ctx, ctx.ticket(key))

    def find_people(
        self, actor: Actor, text: str, role: str | None = None
    ) -> list[tuple[str, str]]:
        """(email, name) of active users matching `text`, of the role a user field asks
        for (`staff`, `agent`, `admin`, `requester`; any when None): staff only."""
        wanted = {
            "staff": {"agent", "admin"},
            "agent": {"agent"},
            "admin": {"admin"},
            "requester": {"requester"},
        }.get(role or "", {"agent", "admin", "requester"})
        with self._read(actor) as ctx:
            ctx.require_staff("look people up")
            return find_people(ctx.session, text, frozenset(wanted))

    def list_assignable(self, actor: Actor, team_id: str | None = None) -> list[tuple[str, str]]:
        """(email, name) of the active agents and admins (of `team_id` when given)."""
        with self._read(actor) as ctx:
            ctx.require_staff("list the people to assign")
            return assignable_people(ctx.session, team_id)

    def scan_sla(self, limit: int = 500) -> int:
        """The SLA scheduler's pass: fire the warnings, breaches and escalations that are
        due (safe with several workers); returns how many tickets it looked at."""
        with self._write(Actor.system()) as ctx:
            return scan_due(ctx, limit)

    def explain_sla(self, actor: Actor, key: str) -> list[SLAExplanation]:
        """Why each SLA deadline of a ticket is what it is (calendar intervals counted)."""
        with self._read(actor) as ctx:
            return explain_sla(self.bundle, ctx.ticket(key))

    def transitions_for(
        self, actor: Actor, key: str, *, portal: bool = False
    ) -> list[TransitionDef]:
        """The transitions `actor` may take on `key` now (none if its state was removed);
        with `portal`, those the portal offers (open to requesters)."""
        with self._read(actor) as ctx:
            return transitions_of(ctx, ctx.ticket(key), portal=portal)

    def list_comments(self, actor: Actor, key: str) -> list[CommentRecord]:
        """Comments of a ticket; a requester sees public ones only."""
        with self._read(actor) as ctx:
            return comments_of(ctx, ctx.ticket(key))

    def list_surveys(self, actor: Actor, key: str) -> list[SurveyRecord]:
        """The satisfaction surveys of a ticket, newest first."""
        with self._read(actor) as ctx:
            return surveys.list_surveys(ctx, key)

    def list_events(self, actor: Actor, key: str) -> list[EventRecord]:
        """The audit trail of a ticket, with the history of tickets merged into it."""
        with self._read(actor) as ctx:
            return events_of(ctx, ctx.ticket(key))
