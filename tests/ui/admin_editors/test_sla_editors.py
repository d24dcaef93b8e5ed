"""The SLA policy and calendar editors: targets per priority, escalations, weekday
hours, holidays and make-up workdays (调休), and the deadline calculator."""

from __future__ import annotations

import yaml

from tests.ui.admin_editors.conftest import Editing


def docs_of(fields: dict) -> list[dict]:
    return list(yaml.safe_load_all(fields["_draft"]))


def test_a_policy_gets_targets_pause_and_an_escalation(editing: Editing) -> None:
    _, fields = editing.open("/admin/editors/sla/new")
    fields.update(
        {
            "id": "office_move_sla",
            "targets.resolution.urgent": "2h",
            "targets.first_response.low": "",
        }
    )
    fields["pause_in"] = ["pending", "resolved"]
    _, fields = editing.change("sla", fields, _op="add-escalation")
    fields["escalations[0].at"] = "breach"
    fields["escalations[0].actions::0:k"] = "assign"
    _, fields = editing.change("sla", fields)
    fields["escalations[0].actions::0:assign.team"] = "escalation"
    response, fields = editing.change("sla", fields)
    assert response.status_code == 200, response.text
    (doc,) = docs_of(fields)
    assert (
        doc["targets"]["resolution"]["urgent"] == "2h"
        and "low" not in doc["targets"]["first_response"]
    )
    assert doc["pause_in"] == ["pending", "resolved"]
    assert doc["escalations"] == [
        {"at": "breach", "target": "resolution", "actions": [{"assign": {"team": "escalation"}}]}
    ]


def test_calendar_hours_holidays_and_make_up_days_and_the_deadline(editing: Editing) -> None:
    _, fields = editing.open("/admin/editors/calendars/cn_business")
    original = fields["_draft"]
    assert fields["hours.mon"] == "09:00-12:00, 13:30-18:00" and fields["hours.sat"] == ""
    fields["hours.sat"] = "10:00-12:00"
    fields["holidays"] += "2026-12-31\n"
    fields["workdays"] += "2026-12-27\n"
    response, fields = editing.change("calendars", fields)
    assert response.status_code == 200, response.text
    cal = docs_of(fields)[0]
    assert cal["hours"] == {"mon-fri": ["09:00-12:00", "13:30-18:00"], "sat": ["10:00-12:00"]}
    assert cal["holidays"][-1] == "2026-12-31" and cal["workdays"][-1] == "2026-12-27"
    assert "# Spring Festival 春节" in fields["_draft"]  # the other dates keep their comments
    assert fields["_draft"].count("\n") > original.count("\n")
    # National Day: 30 Sep 17:00 + 4h of business time lands after the holiday (8 Oct).
    headers = {"HX-Request": "true", "X-CSRF-Token": editing.admin.csrf}
    answer = editing.admin.post(
        "/admin/editors/calendars/deadline",
        data={**fields, "_start": "2026-09-30T17:00+08:00", "_duration": "4h"},
        headers=headers,
    )
    assert "Deadline: 2026-10-08T" in answer.text


def test_the_calculator_and_the_tester_answer_a_post_without_htmx(editing: Editing) -> None:
    headers = {"X-CSRF-Token": editing.admin.csrf}  # no HX-Request: a plain POST
    _, fields = editing.open("/admin/editors/calendars/cn_business")
    answer = editing.admin.post(
        "/admin/editors/calendars/deadline",
        data={**fields, "_start": "2026-09-30T17:00+08:00", "_duration": "4h"},
        headers=headers,
    )
    assert answer.status_code == 200 and "Deadline: 2026-10-08T" in answer.text
    _, fields = editing.open("/admin/editors/routing/default")
    hit = editing.admin.post(
        "/admin/editors/routing/test", data={**fields, "_test": "type: [oops"}, headers=headers
    )
    assert hit.status_code == 200 and 'id="ed-hit"' in hit.text
    _, fields = editing.open("/admin/editors/ticket_types/it_incident")
    preview = editing.admin.post(
        "/admin/editors/ticket_types/preview/en", data={**fields, "category": "x"}, headers=headers
    )
    assert preview.status_code == 200
