"""A ticket's files: what each reader sees, and a requester adding files to their own
ticket (never to internal fields, nor to a field read-only in the ticket's state)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gongdan.bundle.compiled import Bundle
from gongdan.bundle.loader import load_bundle
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.engine.tickets.attachments import AttachmentStore
from gongdan.errors import NotFound, PermissionDenied, ValidationFailed
from gongdan.rules.workflow import Actor
from tests.bundles import MINIMAL, make_bundle
from tests.factories import make_user

FIELDS = """\
  - id: photos
    type: attachment
    multiple: true
    readonly_in: [waiting]
  - id: evidence
    type: attachment
    internal: true
"""


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    text = (MINIMAL / "ticket_types" / "incident.yaml").read_text("utf-8")
    declared = "  - id: approver\n    type: user\n"
    assert declared in text
    text = text.replace(declared, declared + FIELDS)
    root = tmp_path_factory.mktemp("files")
    return load_bundle(make_bundle(root, {"ticket_types/incident.yaml": text}))


@pytest.fixture
def service(db: Database, bundle: Bundle, tmp_path: Path) -> TicketService:
    return TicketService(db, bundle, attachments=AttachmentStore(tmp_path / "files"))


@pytest.fixture
def agent(db: Database) -> Actor:
    return make_user(db, "li.wei@example.com", "admin")


def new_ticket(service: TicketService, who: Actor) -> str:
    return service.create_ticket(
        who, "incident", title="Broken", fields={"category": "software"}
    ).ticket.key


def upload(service: TicketService, who: Actor, field: str = "photos", name: str = "a.txt") -> int:
    return service.upload(
        who, "incident", field, filename=name, content_type="text/plain", content=b"x"
    )


def test_a_requester_adds_files_to_their_ticket(service: TicketService, requester: Actor) -> None:
    key = new_ticket(service, requester)
    first, second = (
        upload(service, requester, name="one.txt"),
        upload(service, requester, name="two.txt"),
    )
    service.add_files(requester, key, "photos", [first])
    result = service.add_files(requester, key, "photos", [second])
    assert result.ticket.data["photos"] == [str(first), str(second)]
    assert [a.filename for a in service.list_attachments(requester, key)] == ["one.txt", "two.txt"]
    [*_, event] = service.list_events(requester, key)
    assert event.kind == "ticket.updated" and dict(event.after) == {
        "photos": [str(first), str(second)]
    }


def test_staff_files_stay_when_a_requester_adds_one(
    service: TicketService, requester: Actor, agent: Actor
) -> None:
    key = new_ticket(service, requester)
    service.add_files(agent, key, "photos", [upload(service, agent, name="staff.txt")])
    service.add_files(requester, key, "photos", [upload(service, requester, name="mine.txt")])
    assert [a.filename for a in service.list_attachments(requester, key)] == [
        "staff.txt",
        "mine.txt",
    ]


def test_internal_files_are_neither_added_nor_listed_for_requesters(
    service: TicketService, requester: Actor, agent: Actor
) -> None:
    key = new_ticket(service, requester)
    with pytest.raises(ValidationFailed):
        upload(service, requester, "evidence")
    service.add_files(agent, key, "evidence", [upload(service, agent, "evidence", "secret.txt")])
    with pytest.raises(ValidationFailed) as caught:
        service.add_files(requester, key, "evidence", [upload(service, agent, "evidence")])
    assert caught.value.fields == {"evidence": "is not a field you can set"}
    assert service.list_attachments(requester, key) == []
    assert [a.filename for a in service.list_attachments(agent, key)] == ["secret.txt"]


def test_someone_elses_ticket_or_upload(
    db: Database, service: TicketService, requester: Actor
) -> None:
    key = new_ticket(service, requester)
    other = make_user(db, "wang.wu@example.com", "requester")
    with pytest.raises(NotFound):
        service.add_files(other, key, "photos", [upload(service, other)])
    with pytest.raises(ValidationFailed):  # an upload of someone else
        service.add_files(requester, key, "photos", [upload(service, other)])
    with pytest.raises(NotFound):
        service.list_attachments(other, key)


def test_bad_field_no_file_and_read_only_state(
    service: TicketService, requester: Actor, agent: Actor
) -> None:
    key = new_ticket(service, requester)
    with pytest.raises(ValidationFailed, match="not an attachment field"):
        service.add_files(requester, key, "category", [upload(service, requester)])
    with pytest.raises(ValidationFailed, match="no file"):
        service.add_files(requester, key, "photos", [])
    service.take_transition(agent, key, "start")
    service.take_transition(agent, key, "wait")
    with pytest.raises(ValidationFailed) as caught:
        service.add_files(requester, key, "photos", [upload(service, requester)])
    assert caught.value.fields == {"photos": "is read-only in state 'waiting'"}


def test_requester_of_the_ticket_only(
    db: Database, service: TicketService, requester: Actor, agent: Actor, bundle: Bundle
) -> None:
    key = new_ticket(service, requester)
    # An approver (a requester named in a user field) sees the ticket but adds no files.
    approver = make_user(db, "boss@example.com", "requester")
    service.update_ticket(agent, key, {"approver": "boss@example.com"})
    assert service.get_ticket(approver, key).key == key
    with pytest.raises(PermissionDenied):
        service.add_files(approver, key, "photos", [upload(service, approver)])
