"""The routing rules editor: ordered rules with condition rows and actions, reordered,
and the "which rule would this ticket hit" tester on the draft."""

from __future__ import annotations

import yaml

from tests.ui.admin_editors.conftest import Editing


def test_a_new_rule_routes_to_a_team_and_the_tester_shows_it(editing: Editing) -> None:
    _, fields = editing.open("/admin/editors/routing/default")
    _, fields = editing.change("routing", fields, _op="add-rule")
    fields.update(
        {
            "rules[0].name@en": "Printers go to field service",
            "rules[0].name@zh-CN": "打印机转现场服务",
            "rules[0].when::0.0:f": "category",
            "rules[0].when::0.0:v": "printer",
            "rules[0].assign.team": "field_service",
            "rules[0].assign.strategy": "least_loaded",
            "rules[0].add_tags": "printer",
            "rules[0].set#0:f": "priority",
            "rules[0].set#0:v": "high",
        }
    )
    response, fields = editing.change("routing", fields)
    # 'printer' is no option of category: shown at the rule's condition.
    assert response.status_code == 422 and "is not an option of" in response.text
    fields["rules[0].when::0.0:v"] = "hardware"
    response, fields = editing.change("routing", fields)
    assert response.status_code == 200, response.text
    rule = yaml.safe_load(fields["_draft"])["rules"][0]
    assert rule == {
        "name": {"en": "Printers go to field service", "zh-CN": "打印机转现场服务"},
        "when": {"category": "hardware"},
        "assign": {"team": "field_service", "strategy": "least_loaded"},
        "set": {"priority": "high"},
        "add_tags": ["printer"],
    }
    headers = {"HX-Request": "true", "X-CSRF-Token": editing.admin.csrf}
    hit = editing.admin.post(
        "/admin/editors/routing/test",
        headers=headers,
        data={**fields, "_test": "type: it_incident\ncategory: hardware"},
    )
    assert "Hits: Printers go to field service" in hit.text and "Field service" in hit.text
    # Moved below the rules that already send hardware away, it is never reached.
    _, fields = editing.change("routing", fields, _op="move-rule|0|8")
    assert (
        yaml.safe_load(fields["_draft"])["rules"][8]["name"]["en"] == "Printers go to field service"
    )
    hit = editing.admin.post(
        "/admin/editors/routing/test",
        headers=headers,
        data={**fields, "_test": "type: it_incident\ncategory: hardware"},
    )
    assert "Printers go to field service" not in hit.text and "Hits:" in hit.text


def test_an_automation_is_edited_in_place_of_its_document(editing: Editing) -> None:
    _, fields = editing.open("/admin/editors/automations/remind_stale_pending")
    count = fields["_draft"].count("kind: Automation")
    assert count > 1  # one file, several documents: the others stay as they are
    fields["every"] = "2h"
    fields["enabled"] = []  # unticked
    fields["actions::0:notify"] = "requester"
    fields["actions::0:template"] = "reminder"
    response, after = editing.change("automations", fields)
    assert response.status_code == 200, response.text
    assert after["_draft"].count("kind: Automation") == count
    docs = list(yaml.safe_load_all(after["_draft"]))
    mine = next(d for d in docs if d and d["id"] == "remind_stale_pending")
    assert mine["every"] == "2h" and mine["enabled"] is False
    assert mine["actions"] == [{"notify": "requester", "template": "reminder"}]
    # The untouched condition stays as written (a list under all:, not merged).
    assert "  all:\n    - {state_category: pending}\n" in after["_draft"]
    response, _ = editing.change("automations", {**after, "on": "ticket.sideways"})
    assert response.status_code == 422 and 'id="e-on-error"' in response.text
