"""Files on replies: uploaded first (the reply limits), then made a comment's files by
the reply that names them; a requester never reads a file of an internal note; an
upload is its uploader's alone until a reply takes it."""

from __future__ import annotations

from pathlib import Path

import pytest

from gongdan.bundle.compiled import Bundle
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.engine.tickets.attachments import AttachmentStore
from gongdan.errors import NotFound, ValidationFailed
from gongdan.rules.workflow import Actor
from tests.engine.tickets.test_attachments import rma_fields
from tests.factories import incident

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def svc(db: Database, example_bundle: Bundle, tmp_path: Path) -> TicketService:
    return TicketService(db, example_bundle, attachments=AttachmentStore(tmp_path / "files"))


def _upload(svc: TicketService, actor: Actor, name: str = "screen.png") -> str:
    return svc.upload_reply_file(actor, filename=name, content_type="image/png", content=PNG)


def test_a_public_reply_carries_its_files_to_the_requester(
    svc: TicketService, requester: Actor, agent: Actor
) -> None:
    key = incident(svc, requester).ticket.key
    file_id = _upload(svc, agent)
    result = svc.add_comment(agent, key, "See the screenshot.", files=[file_id])
    assert result.comment is not None
    assert [(f.id, f.filename, f.preview) for f in result.comment.files] == [
        (file_id, "screen.png", "image")
    ]
    shown = svc.read_ticket_page(requester, key, portal=True)
    assert [f.filename for c in shown.comments for f in c.files] == ["screen.png"]
    assert svc.read_attachment(requester, file_id) == ("screen.png", "image/png", PNG)
    event = svc.list_events(agent, key)[-1]
    assert (event.kind, event.after["files"]) == ("comment.added", ["screen.png"])


def test_a_requester_never_reads_the_file_of_an_internal_note(
    svc: TicketService, requester: Actor, agent: Actor
) -> None:
    key = incident(svc, requester).ticket.key
    file_id = _upload(svc, agent, "server-log.txt")
    svc.add_comment(agent, key, "The log, for us only.", public=False, files=[file_id])
    with pytest.raises(NotFound):
        svc.read_attachment(requester, file_id)
    portal = svc.read_ticket_page(requester, key, portal=True)
    assert file_id not in [a.id for a in portal.attachments]
    assert all(not c.files for c in portal.comments)
    desk = svc.read_ticket_page(agent, key)
    assert [f.id for c in desk.comments for f in c.files] == [file_id]


def test_someone_elses_upload_cannot_be_attached_or_read(
    svc: TicketService, requester: Actor, agent: Actor
) -> None:
    key = incident(svc, requester).ticket.key
    file_id = _upload(svc, requester)
    with pytest.raises(NotFound):
        svc.read_attachment(agent, file_id)  # not even staff reads a pending upload
    with pytest.raises(ValidationFailed) as taken:
        svc.add_comment(agent, key, "Mine now.", files=[file_id])
    assert "files" in taken.value.fields
    assert [c.body for c in svc.list_comments(agent, key)] == []  # nothing half-written
    svc.add_comment(requester, key, "My screenshot.", files=[file_id])
    with pytest.raises(ValidationFailed):  # a file goes with one reply only
        svc.add_comment(requester, key, "Again.", files=[file_id])


def test_reply_limits_refuse_pages_and_scripts_and_big_files(
    svc: TicketService, agent: Actor
) -> None:
    for name in ("page.html", "logo.svg", "run.js"):
        with pytest.raises(ValidationFailed) as refused:
            svc.upload_reply_file(agent, filename=name, content_type="image/png", content=PNG)
        assert "must be one of these file types" in refused.value.fields["files"]
    with pytest.raises(ValidationFailed) as big:
        svc.upload_reply_file(
            agent, filename="huge.png", content_type="image/png", content=b"0" * (26 << 20)
        )
    assert "larger than 25 MB" in big.value.fields["files"]


def test_a_reply_upload_never_goes_into_a_field(
    svc: TicketService, requester: Actor, agent: Actor
) -> None:
    """A reply's file has the reply limits, not a field's: it cannot slip into one."""
    file_id = _upload(svc, requester)
    with pytest.raises(ValidationFailed):
        svc.create_ticket(
            requester,
            "after_sales",
            title="Phone",
            fields=rma_fields([file_id]),
        )


def test_files_alone_reopen_a_resolved_ticket(
    svc: TicketService, requester: Actor, agent: Actor
) -> None:
    key = incident(svc, requester).ticket.key
    svc.assign(agent, key, assignee=agent.email)
    svc.take_transition(agent, key, "start")
    svc.take_transition(
        agent, key, "resolve", fields={"resolution_code": "fixed"}, comment="Reinstalled it."
    )
    with_text = _upload(svc, requester, "again.png")
    result = svc.add_comment(requester, key, "", files=[with_text])
    assert result.ticket.state == "in_progress"
    assert result.comment is not None and [f.id for f in result.comment.files] == [with_text]
    svc.take_transition(
        agent, key, "resolve", fields={"resolution_code": "fixed"}, comment="Again."
    )
    second = _upload(svc, requester, "still.png")
    result = svc.add_comment(requester, key, "Still broken.", files=[second])
    assert result.ticket.state == "in_progress"
    assert result.comment is not None and [f.filename for f in result.comment.files] == [
        "still.png"
    ]
    assert svc.list_events(agent, key)[-1].kind == "comment.files_added"


def test_an_empty_reply_without_files_is_refused(
    svc: TicketService, requester: Actor, agent: Actor
) -> None:
    key = incident(svc, requester).ticket.key
    with pytest.raises(ValidationFailed) as empty:
        svc.add_comment(agent, key, "   ")
    assert empty.value.fields == {"comment": "is required"}
