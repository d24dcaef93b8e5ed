"""The example bundle in config/ loads, and it behaves as its files say."""

from __future__ import annotations

import pytest

from gongdan.bundle.compiled import Bundle
from gongdan.bundle.loader import check_bundle, load_bundle
from gongdan.errors import ValidationFailed
from gongdan.forms.data import check_ticket_data
from tests.bundles import EXAMPLE


@pytest.fixture(scope="module")
def bundle() -> Bundle:
    return load_bundle(EXAMPLE)


def test_example_bundle_has_no_errors_or_warnings() -> None:
    bundle, issues = check_bundle(EXAMPLE)
    assert bundle is not None
    assert [str(i) for i in issues] == []


def test_every_user_facing_label_is_bilingual(bundle: Bundle) -> None:
    for ticket_type in bundle.ticket_types.values():
        assert set(ticket_type.name) >= {"en", "zh-CN"}, ticket_type.id
        for field in ticket_type.fields:
            assert set(field.label) >= {"en", "zh-CN"}, (ticket_type.id, field.id)
            for option in field.options:
                assert set(option.label) >= {"en", "zh-CN"}, (ticket_type.id, field.id)
    for workflow in bundle.workflows.values():
        for state in workflow.states.values():
            assert isinstance(state.label, dict) and set(state.label) >= {"en", "zh-CN"}
        for transition in workflow.transitions:
            assert set(transition.label) >= {"en", "zh-CN"}, (workflow.id, transition.id)


def test_incident_serial_only_for_hardware(bundle: Bundle) -> None:
    fields = bundle.ticket_types["it_incident"].fields
    base = {"category": "software", "impact": "me"}
    # Hidden for software: not required and not kept.
    assert "device_serial" not in check_ticket_data(fields, {**base, "device_serial": "ABC-123"})
    with pytest.raises(ValidationFailed) as caught:
        check_ticket_data(fields, {**base, "category": "hardware"})
    assert set(caught.value.fields) == {"device_serial"}
    with pytest.raises(ValidationFailed) as caught:
        check_ticket_data(fields, {**base, "category": "hardware", "device_serial": "bad serial"})
    assert caught.value.fields["device_serial"] == "must look like ABCDEF"
    kept = check_ticket_data(
        fields, {**base, "category": "hardware", "device_serial": "PC-2024-0815"}
    )
    assert kept["device_serial"] == "PC-2024-0815"


def test_incident_priority_rule_and_workflow(bundle: Bundle) -> None:
    incident = bundle.ticket_types["it_incident"]
    urgent = [r.set for r in incident.priority_rules if r.when({"impact": "company"})]
    assert urgent[:1] == ["urgent"]
    workflow = bundle.workflows[incident.workflow]
    categories = {s.category for s in workflow.states.values()}
    assert {"new", "open", "pending", "resolved", "closed"} <= categories
    resolve = next(t for t in workflow.transitions if t.id == "resolve")
    assert "resolution_code" in resolve.fields and resolve.comment == "required"
    close = next(t for t in workflow.transitions if t.after is not None)
    assert close.after is not None and close.after.as_timedelta().total_seconds() == 72 * 3600


def test_access_request_needs_the_managers_approval(bundle: Bundle) -> None:
    access = bundle.ticket_types["access_request"]
    workflow = bundle.workflows[access.workflow]
    approvals = [t for t in workflow.transitions if "field:approver" in t.roles]
    assert approvals, "an approval step whose role is the approver field"
    assert access.field_map["approver"].type == "user"


def test_shanghai_calendar_knows_2026_holidays_and_makeup_days(bundle: Bundle) -> None:
    from datetime import date

    calendar = bundle.calendars["cn_business"]
    assert str(calendar.timezone) == "Asia/Shanghai"
    assert date(2026, 10, 1) in calendar.holidays and date(2026, 10, 7) in calendar.holidays
    assert date(2026, 10, 10) in calendar.workdays  # a Saturday worked (调休)
    assert calendar.working_day_seconds == int(7.5 * 3600)


def test_type_schema_is_exported_per_type(bundle: Bundle) -> None:
    schema = bundle.ticket_types["after_sales"].data_schema
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False
    assert "order_number" in schema["properties"]
