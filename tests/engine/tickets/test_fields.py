"""Custom fields through the service: every field type accepted and refused by
`create_ticket` and `update_ticket`, with `ValidationFailed` naming the bad field.

Types the example bundle uses are tested on its ticket types; the others (url,
markdown, datetime, team, email, number, multiple users) on a small `gadget` type added
to the minimal fixture bundle, run by a service over the same database.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from gongdan.bundle.compiled import Bundle
from gongdan.bundle.loader import load_bundle
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import Attachment, User
from gongdan.engine.tickets.attachments import AttachmentStore
from gongdan.errors import PermissionDenied, ValidationFailed
from gongdan.rules.workflow import Actor
from tests.bundles import EXAMPLE, make_bundle
from tests.factories import access_request, after_sales, incident, maintenance, make_user

GADGET = """\
kind: TicketType
id: gadget
name: Gadget request
key_prefix: GAD
workflow: basic
fields:
  - id: homepage
    type: url
  - id: notes
    type: markdown
    max_length: 40
  - id: starts_at
    type: datetime
  - id: escalate_to
    type: team
  - id: mobile
    type: phone
  - id: systems
    type: multiselect
    options: [mail, vpn, wiki]
  - id: contact
    type: email
  - id: amount
    type: number
    min: 0
  - id: watchers
    type: user
    multiple: true
  - id: approver
    type: user
  - id: category
    type: select
    options: [hardware, software]
forms:
  create: [title, description, homepage, notes, starts_at, mobile, systems, contact]
  agent: [priority, escalate_to, amount, watchers, approver]
priority:
  default: normal
"""


def refused(field_id: str, call: Callable[[], Any]) -> ValidationFailed:
    """Run `call`, expect ValidationFailed naming `field_id`, and return it."""
    with pytest.raises(ValidationFailed) as caught:
        call()
    assert field_id in caught.value.fields, caught.value.fields
    return caught.value


@pytest.fixture(scope="module")
def gadget_bundle(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    root = tmp_path_factory.mktemp("gadget")
    return load_bundle(
        make_bundle(root, {"ticket_types/gadget.yaml": GADGET, "routing/default.yaml": None})
    )


@pytest.fixture
def gadgets(db: Database, gadget_bundle: Bundle) -> TicketService:
    return TicketService(db, gadget_bundle)


# Types of the example bundle ------------------------------------------------------


def test_select_accepts_an_option_and_refuses_others(
    service: TicketService, requester: Actor
) -> None:
    created = incident(service, requester, fields={"category": " network ", "impact": "me"})
    assert created.ticket.data["category"] == "network"
    error = refused(
        "category",
        lambda: incident(service, requester, fields={"category": "printer", "impact": "me"}),
    )
    assert "'printer' is not one of" in error.fields["category"]


def test_required_select_missing_is_named(service: TicketService, requester: Actor) -> None:
    error = refused("category", lambda: incident(service, requester, fields={"impact": "me"}))
    assert error.fields["category"] == "is required"


def test_text_pattern_and_required_if(service: TicketService, requester: Actor) -> None:
    hardware = {"category": "hardware", "impact": "me"}
    error = refused("device_serial", lambda: incident(service, requester, fields=hardware))
    assert error.fields["device_serial"] == "is required"
    error = refused(
        "device_serial",
        lambda: incident(service, requester, fields={**hardware, "device_serial": "pc 1"}),
    )
    assert error.fields["device_serial"] == "must look like ABCDEF"  # not the regex
    created = incident(service, requester, fields={**hardware, "device_serial": "PC-2024-0815"})
    assert created.ticket.data["device_serial"] == "PC-2024-0815"


def test_hidden_field_is_not_kept(service: TicketService, requester: Actor) -> None:
    """device_serial is visible for hardware only: given for software, it is dropped."""
    created = incident(
        service,
        requester,
        fields={"category": "software", "impact": "me", "device_serial": "PC-2024-0815"},
    )
    assert "device_serial" not in service.get_ticket(requester, created.ticket.key).data


def test_default_is_applied(service: TicketService, requester: Actor) -> None:
    created = incident(service, requester, fields={"category": "software"})
    assert created.ticket.data["impact"] == "me"


def test_unknown_field_is_named_with_a_hint(service: TicketService, requester: Actor) -> None:
    error = refused(
        "categry",
        lambda: incident(service, requester, fields={"categry": "software", "impact": "me"}),
    )
    assert "did you mean 'category'" in error.fields["categry"]


def test_textarea_length_limits(service: TicketService, requester: Actor, agent: Actor) -> None:
    error = refused(
        "justification",
        lambda: access_request(
            service,
            requester,
            agent.email or "",
            fields={
                "system": "erp",
                "access_level": "read",
                "justification": "need it",
                "approver": agent.email,
            },
        ),
    )
    assert "at least 10" in error.fields["justification"]
    created = access_request(service, requester, agent.email or "")
    assert created.ticket.data["justification"] == "I prepare the monthly cost reports."


def test_user_field_takes_an_email(service: TicketService, requester: Actor) -> None:
    make_user(service.db, "boss@example.com")  # a user field names an existing account
    created = access_request(service, requester, " boss@Example.COM ")
    assert created.ticket.data["approver"] == "boss@example.com"
    error = refused("approver", lambda: access_request(service, requester, "my boss"))
    assert "email" in error.fields["approver"]


def test_date_field_and_required_if(service: TicketService, requester: Actor) -> None:
    make_user(service.db, "boss@example.com")
    admin_access = {
        "system": "erp",
        "access_level": "admin",
        "justification": "I run the quarterly ERP upgrade.",
        "approver": "boss@example.com",
    }
    error = refused("end_date", lambda: access_request(service, requester, "", fields=admin_access))
    assert error.fields["end_date"] == "is required"
    error = refused(
        "end_date",
        lambda: access_request(
            service, requester, "", fields={**admin_access, "end_date": "2026-02-30"}
        ),
    )
    assert "not a real date" in error.fields["end_date"]
    created = access_request(
        service, requester, "", fields={**admin_access, "end_date": " 2026-12-31 "}
    )
    assert created.ticket.data["end_date"] == "2026-12-31"


def test_boolean_field(service: TicketService, requester: Actor) -> None:
    created = maintenance(service, requester, fields={"line_stopped": "yes"})
    assert created.ticket.data["line_stopped"] is True
    assert maintenance(service, requester).ticket.data["line_stopped"] is False  # default
    error = refused(
        "line_stopped", lambda: maintenance(service, requester, fields={"line_stopped": "maybe"})
    )
    assert "yes or no" in error.fields["line_stopped"]


def test_integer_field_on_update(service: TicketService, requester: Actor, agent: Actor) -> None:
    key = maintenance(service, requester).ticket.key
    for bad, message in (("4.5", "whole number"), ("-1", "at least 0"), ("lots", "number")):
        error = refused(
            "downtime_minutes",
            lambda bad=bad: service.update_ticket(agent, key, {"downtime_minutes": bad}),
        )
        assert message in error.fields["downtime_minutes"]
    updated = service.update_ticket(agent, key, {"downtime_minutes": "90"})
    assert updated.ticket.data["downtime_minutes"] == 90


def test_decimal_field_keeps_its_scale(
    service: TicketService, requester: Actor, agent: Actor
) -> None:
    key = after_sales(service, requester).ticket.key
    for bad, message in (("12.345", "2 decimal places"), ("-1", "at least 0"), ("a lot", "number")):
        error = refused(
            "refund_amount",
            lambda bad=bad: service.update_ticket(agent, key, {"refund_amount": bad}),
        )
        assert message in error.fields["refund_amount"]
    updated = service.update_ticket(agent, key, {"refund_amount": "12.5"})
    assert updated.ticket.data["refund_amount"] == "12.50"


def test_multiselect_field(service: TicketService, requester: Actor, agent: Actor) -> None:
    key = maintenance(service, requester).ticket.key
    error = refused(
        "spare_parts",
        lambda: service.update_ticket(agent, key, {"spare_parts": ["belt", "warp_drive"]}),
    )
    assert "'warp_drive' is not one of" in error.fields["spare_parts"]
    updated = service.update_ticket(agent, key, {"spare_parts": ["belt", "motor", "belt"]})
    assert updated.ticket.data["spare_parts"] == ["belt", "motor"]


def test_phone_field_and_required_if(service: TicketService, agent: Actor) -> None:
    base = {
        "channel": "phone",
        "customer_name": "王女士",
        "complaint_category": "delivery",
    }

    def complaint(**fields: Any) -> Any:
        return service.create_ticket(
            agent,
            "complaint",
            title="Parcel left in the rain",
            requester="wang.nvshi@example.com",
            fields={**base, **fields},
        )

    assert refused("customer_phone", complaint).fields["customer_phone"] == "is required"
    error = refused("customer_phone", lambda: complaint(customer_phone="call me"))
    assert "phone number" in error.fields["customer_phone"]
    created = complaint(customer_phone="+86 138-0013-8000")
    assert created.ticket.data["customer_phone"] == "+86 138-0013-8000"


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def uploads(db: Database, example_bundle: Bundle, tmp_path: Path) -> TicketService:
    """The example bundle's service, storing uploaded files under `tmp_path`."""
    return TicketService(db, example_bundle, attachments=AttachmentStore(tmp_path / "files"))


def upload(service: TicketService, who: Actor) -> str:
    """A screenshot uploaded by `who` for an incident; its id, as a form sends it."""
    return str(
        service.upload(
            who,
            "it_incident",
            "screenshots",
            filename="error.png",
            content_type="image/png",
            content=PNG,
        )
    )


def linked_to(db: Database, attachment_id: str) -> tuple[int | None, str | None]:
    with db.reading() as session:
        row = session.scalars(select(Attachment).filter_by(public_id=attachment_id)).one()
        assert row is not None
        return row.ticket_id, row.field_id


def test_attachment_field_links_own_uploads(
    db: Database, uploads: TicketService, requester: Actor, agent: Actor
) -> None:
    mine = upload(uploads, requester)
    created = incident(uploads, requester, fields={"category": "software", "screenshots": [mine]})
    assert created.ticket.data["screenshots"] == [mine]
    assert linked_to(db, mine) == (created.ticket.id, "screenshots")
    # Added later by an agent editing the ticket: linked the same way.
    later = upload(uploads, agent)
    updated = uploads.update_ticket(agent, created.ticket.key, {"screenshots": [mine, later]})
    assert updated.ticket.data["screenshots"] == [mine, later]
    assert linked_to(db, later) == (created.ticket.id, "screenshots")


def test_attachment_field_refuses_unknown_foreign_and_used_uploads(
    db: Database, uploads: TicketService, requester: Actor, agent: Actor
) -> None:
    other = make_user(db, "li.si@example.com", "requester")
    theirs = upload(uploads, other)
    used = upload(uploads, requester)
    key = incident(
        uploads, requester, fields={"category": "software", "screenshots": [used]}
    ).ticket.key
    for attachment in ("999999", theirs, "../etc/passwd"):
        refused(
            "screenshots",
            lambda attachment=attachment: incident(
                uploads, requester, fields={"category": "software", "screenshots": [attachment]}
            ),
        )
    # Another ticket's file cannot be taken over, on create or on update.
    refused(
        "screenshots",
        lambda: incident(uploads, other, fields={"category": "software", "screenshots": [used]}),
    )
    other_key = incident(uploads, other).ticket.key
    for attachment in ("999999", used):
        refused(
            "screenshots",
            lambda attachment=attachment: uploads.update_ticket(
                agent, other_key, {"screenshots": [attachment]}
            ),
        )
    assert "screenshots" not in uploads.get_ticket(agent, other_key).data
    assert linked_to(db, used)[0] == uploads.get_ticket(agent, key).id
    assert linked_to(db, theirs)[0] is None


# Types only the gadget bundle has --------------------------------------------------

GADGET_CASES = [
    # field, accepted input, stored value, refused input, words of the message
    ("homepage", "HTTP://example.com/help", "http://example.com/help", "javascript:alert(1)", "http://"),
    ("notes", "# Steps\r\n\r\n*reboot*", "# Steps\n\n*reboot*", "x" * 41, "at most 40"),
    ("starts_at", "2026-03-01T16:00:00+08:00", "2026-03-01T08:00:00Z", "2026-03-01T08:00", "time zone"),
    ("escalate_to", "desk", "desk", "service desk", "team id"),
    ("mobile", "(555)   123 4567", "(555) 123 4567", "call me", "phone number"),
    ("systems", ["vpn", "mail", "vpn"], ["vpn", "mail"], ["mail", "chat"], "'chat' is not one of"),
    ("contact", " Ana.Lopez@Example.COM ", "Ana.Lopez@example.com", "ana@localhost", "email"),
    ("amount", "12.5", 12.5, "-3", "at least 0"),
    ("watchers", ["a@example.com", "b@example.com", "a@example.com"], ["a@example.com", "b@example.com"], ["a@example.com", "nobody"], "email"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("field_id", "good", "stored", "bad", "message"),
    GADGET_CASES,
    ids=[case[0] for case in GADGET_CASES],
)
def test_gadget_field_types_on_create_and_update(
    gadgets: TicketService,
    agent: Actor,
    field_id: str,
    good: Any,
    stored: Any,
    bad: Any,
    message: str,
) -> None:
    for email in ("a@example.com", "b@example.com"):  # the people a user field names
        make_user(gadgets.db, email)
    error = refused(
        field_id,
        lambda: gadgets.create_ticket(agent, "gadget", title="New phone", fields={field_id: bad}),
    )
    assert message in error.fields[field_id]
    created = gadgets.create_ticket(agent, "gadget", title="New phone", fields={field_id: good})
    assert created.ticket.data[field_id] == stored
    key = created.ticket.key
    error = refused(field_id, lambda: gadgets.update_ticket(agent, key, {field_id: bad}))
    assert message in error.fields[field_id]
    assert gadgets.get_ticket(agent, key).data[field_id] == stored
    cleared = gadgets.update_ticket(agent, key, {field_id: None})
    assert field_id not in cleared.ticket.data


def test_team_field_must_name_a_team_of_the_bundle(gadgets: TicketService, agent: Actor) -> None:
    """A well-formed but unknown team id is refused: nobody could work such a ticket."""
    refused(
        "escalate_to",
        lambda: gadgets.create_ticket(
            agent, "gadget", title="New phone", fields={"escalate_to": "servce_desk"}
        ),
    )


def test_every_bad_field_is_reported_at_once(gadgets: TicketService, agent: Actor) -> None:
    with pytest.raises(ValidationFailed) as caught:
        gadgets.create_ticket(
            agent,
            "gadget",
            title="New phone",
            fields={"homepage": "example.com", "mobile": "12", "amount": "x"},
        )
    assert set(caught.value.fields) == {"homepage", "mobile", "amount"}


# Rules around fields ---------------------------------------------------------------


def test_refused_update_changes_nothing(
    service: TicketService, requester: Actor, agent: Actor
) -> None:
    created = maintenance(service, requester)
    key = created.ticket.key
    refused(
        "downtime_minutes",
        lambda: service.update_ticket(
            agent, key, {"spare_parts": ["belt"], "downtime_minutes": "-5"}
        ),
    )
    after = service.get_ticket(agent, key)
    assert "spare_parts" not in after.data
    assert after.version == created.ticket.version
    assert [e.kind for e in service.list_events(agent, key)] == ["ticket.created"]


def test_update_writes_before_and_after(
    service: TicketService, requester: Actor, agent: Actor
) -> None:
    key = maintenance(service, requester).ticket.key
    result = service.update_ticket(
        agent, key, {"fault_code": "E042", "title": "Head jams on SMT-0042"}
    )
    (event,) = result.events
    assert event.kind == "ticket.updated"
    assert event.actor == agent.email
    assert dict(event.before) == {"fault_code": None, "title": "Pick-and-place head jams"}
    assert dict(event.after) == {"fault_code": "E042", "title": "Head jams on SMT-0042"}


def test_priority_rule_on_create_and_on_update(
    service: TicketService, requester: Actor, agent: Actor
) -> None:
    company = incident(service, requester, fields={"category": "network", "impact": "company"})
    assert company.ticket.priority == "urgent"
    created = incident(service, requester)
    assert created.ticket.priority == "normal"
    updated = service.update_ticket(agent, created.ticket.key, {"impact": "team"})
    assert updated.ticket.priority == "high"


def test_priority_rules_read_the_requester_as_every_condition_does(
    db: Database, tmp_path: Path
) -> None:
    """The requester's account columns (organisation, language…) and attributes, on
    create as on update: the same values routing, SLA and automations see."""
    text = (EXAMPLE / "ticket_types/it_incident.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "  rules:\n",
        "  rules:\n    - when: {requester.organization: Plant 2}\n      set: urgent\n"
        "    - when: {requester.tier: vip}\n      set: high\n",
    )
    bundle = make_bundle(
        tmp_path,
        {"ticket_types/it_incident.yaml": text, "routing/default.yaml": None},
        EXAMPLE,
    )
    service = TicketService(db, load_bundle(bundle))
    plant = make_user(db, "plant@example.com", "requester")
    with db.transaction() as session:
        session.execute(
            update(User).where(User.email == "plant@example.com").values(organization="Plant 2")
        )
    vip = make_user(db, "vip@example.com", "requester", tier="vip")
    office = make_user(db, "office@example.com", "requester")
    assert incident(service, plant).ticket.priority == "urgent"
    assert incident(service, vip).ticket.priority == "high"
    assert incident(service, office).ticket.priority == "normal"


def test_read_only_field_in_a_state(service: TicketService, requester: Actor, db: Database) -> None:
    manager = make_user(db, "boss@example.com")
    key = access_request(service, requester, "boss@example.com").ticket.key
    service.take_transition(manager, key, "approve")
    error = refused(
        "approver", lambda: service.update_ticket(manager, key, {"approver": "li.wei@example.com"})
    )
    assert "read-only" in error.fields["approver"]


def test_requester_cannot_set_internal_fields_or_edit(
    service: TicketService, requester: Actor
) -> None:
    refused(
        "refund_amount",
        lambda: after_sales(service, requester, fields={"refund_amount": "10"}),
    )
    key = after_sales(service, requester).ticket.key
    with pytest.raises(PermissionDenied):
        service.update_ticket(requester, key, {"serial_number": "SN123"})


def test_built_in_fields_are_checked(
    service: TicketService, requester: Actor, agent: Actor
) -> None:
    refused("title", lambda: incident(service, requester, title="   "))
    refused("title", lambda: incident(service, requester, title="x" * 301))
    key = incident(service, requester).ticket.key
    refused("priority", lambda: service.update_ticket(agent, key, {"priority": "asap"}))
    refused("state", lambda: service.update_ticket(agent, key, {"state": "closed"}))
    refused("type", lambda: service.create_ticket(agent, "it_incidnet", title="x"))
    tagged = service.update_ticket(agent, key, {"tags": "vpn, urgent ,vpn"})
    assert tagged.ticket.tags == ("vpn", "urgent")


def test_new_field_needs_no_migration(
    db: Database, tmp_path: Path, example_bundle: Bundle, requester: Actor
) -> None:
    """A field added to a type in YAML works at once on tickets old and new."""
    service = TicketService(db, example_bundle)
    old = incident(service, requester).ticket.key
    text = (EXAMPLE / "ticket_types/it_incident.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "  - id: impact\n",
        "  - id: building\n    type: text\n    label: {en: Building, zh-CN: 楼栋}\n"
        "  - id: impact\n",
    )
    changed = TicketService(
        db,
        load_bundle(
            make_bundle(
                tmp_path,
                {
                    "ticket_types/it_incident.yaml": text,
                    "routing/default.yaml": None,
                    "routing/automations.yaml": None,
                },
                EXAMPLE,
            )
        ),
    )
    new = incident(changed, requester, fields={"category": "software", "building": "B2"})
    assert new.ticket.data["building"] == "B2"
    assert "building" not in changed.get_ticket(requester, old).data
