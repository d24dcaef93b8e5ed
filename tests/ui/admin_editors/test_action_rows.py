"""Actions as rows (a transition's, an escalation's, an automation's actions, and a
routing rule's `set`): the kind is chosen from the schema's list, the row shows the
inputs that kind takes, rows are added, removed and moved, a bad value is shown at its
input, and editing one row changes exactly the YAML it holds."""

from __future__ import annotations

import difflib

import yaml

from gongdan.bundle.schemas import ACTION_KEYS
from tests.ui.admin_editors.conftest import Editing


def changed_lines(before: str, after: str) -> list[str]:
    return [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def automation(fields: dict, automation_id: str) -> dict:
    docs = yaml.safe_load_all(fields["_draft"])
    return next(d for d in docs if d and d.get("id") == automation_id)


def test_the_kinds_offered_are_the_schemas_and_each_row_shows_its_inputs(
    editing: Editing,
) -> None:
    response, fields = editing.open("/admin/editors/automations/notify_team_on_breach")
    assert fields["actions::0:k"] == "notify" and fields["actions::1:k"] == "comment"
    assert fields["actions::0:notify"] == "team"
    assert fields["actions::0:template"] == "sla_breached"
    assert fields["actions::1:comment"].startswith("SLA breached")
    new_kinds = response.text.split('name="actions::new"')[1].split("</select>")[0]
    for kind in ACTION_KEYS:
        assert f'<option value="{kind}">' in new_kinds
    # The webhook's inputs come from its schema: the URL, the secret, the flag.
    _, fields = editing.open("/admin/editors/automations/breach_to_chat")
    assert fields["actions::0:webhook.url"] == "https://hooks.example.com/gongdan/duty-chat"
    assert "actions::0:webhook.secret_env" in fields
    assert "actions::0:webhook.allow_private" not in fields  # an unticked checkbox


def test_editing_one_row_changes_that_line_only(editing: Editing) -> None:
    _, fields = editing.open("/admin/editors/automations/notify_team_on_breach")
    original = fields["_draft"]
    fields["actions::0:template"] = "sla_warning"
    response, after = editing.change("automations", fields)
    assert response.status_code == 200, response.text
    assert changed_lines(original, after["_draft"]) == [
        "-  - {notify: team, template: sla_breached}",
        "+  - {notify: team, template: sla_warning}",
    ]
    # Untouched, a posted editor writes nothing.
    _, again = editing.change("automations", after)
    assert again["_draft"] == after["_draft"]


def test_rows_are_added_moved_and_removed(editing: Editing) -> None:
    _, fields = editing.open("/admin/editors/automations/notify_team_on_breach")
    original = fields["_draft"]
    _, fields = editing.change(
        "automations", fields, _op="act|add|actions", **{"actions::new": "add_tags"}
    )
    assert fields["actions::2:k"] == "add_tags"
    fields["actions::2:add_tags"] = "breached, 超时"
    response, fields = editing.change("automations", fields)
    assert response.status_code == 200, response.text
    assert automation(fields, "notify_team_on_breach")["actions"] == [
        {"notify": "team", "template": "sla_breached"},
        {"comment": "SLA breached: the team has been notified. / SLA 已超时，已通知处理组。"},
        {"add_tags": ["breached", "超时"]},
    ]
    # The existing rows keep their lines; the new one is one more line.
    assert changed_lines(original, fields["_draft"]) == ["+  - {add_tags: [breached, 超时]}"]
    _, fields = editing.change("automations", fields, _op="act|up|actions|2")
    actions = automation(fields, "notify_team_on_breach")["actions"]
    assert [next(iter(a)) for a in actions] == ["notify", "add_tags", "comment"]
    _, fields = editing.change("automations", fields, _op="act|remove|actions|0")
    actions = automation(fields, "notify_team_on_breach")["actions"]
    assert [next(iter(a)) for a in actions] == ["add_tags", "comment"]


def test_changing_a_rows_kind_shows_the_new_kinds_inputs_and_asks_for_them(
    editing: Editing,
) -> None:
    _, fields = editing.open("/admin/editors/sla/it_standard")
    path = "escalations[2].actions"
    assert fields[f"{path}::1:assign.team"] == "escalation"
    assert fields[f"{path}::1:assign.strategy"] == "manual"
    # The set action's field · value pairs, with one empty pair more.
    assert fields[f"{path}::0:set#0:f"] == "priority" and fields[f"{path}::0:set#0:v"] == "urgent"
    assert fields[f"{path}::0:set#1:f"] == ""
    fields[f"{path}::1:k"] = "transition"
    response, fields = editing.change("sla", fields)
    # The transition is not given yet: the problem is shown at its input.
    assert response.status_code == 422
    assert 'id="e-escalations-2-actions-1-transition-error"' in response.text
    assert f'name="{path}::1:transition"' in response.text
    fields[f"{path}::1:transition"] = "escalate"
    response, fields = editing.change("sla", fields)
    docs = list(yaml.safe_load_all(fields["_draft"]))
    assert docs[0]["escalations"][2]["actions"][1] == {"transition": "escalate"}


def test_a_bad_value_is_shown_at_its_input_never_a_500(editing: Editing) -> None:
    _, fields = editing.open("/admin/editors/automations/breach_to_chat")
    fields["actions::0:webhook.url"] = "ftp://hooks.example.com/x"
    response, _ = editing.change("automations", fields)
    assert response.status_code == 422
    error = response.text.split('id="e-actions-0-webhook-url-error"')[1].split("</p>")[0]
    assert "https?://" in error or "does not match" in error
    assert 'aria-describedby="e-actions-0-webhook-url-error"' in response.text
    # A row's kind that is no action at all is refused at the row, not a 500.
    response, _ = editing.change("automations", {**fields, "actions::0:k": "explode"})
    assert response.status_code == 422 and 'id="e-actions-0-error"' in response.text


def test_a_set_action_in_a_transition_and_a_rules_set_are_pairs(editing: Editing) -> None:
    _, fields = editing.open("/admin/editors/routing/default")
    original = fields["_draft"]
    assert fields["rules[0].set#0:f"] == "priority" and fields["rules[0].set#0:v"] == "high"
    fields["rules[0].set#0:v"] = "urgent"
    fields["rules[0].set#1:f"] = "category"
    fields["rules[0].set#1:v"] = "hardware"
    response, after = editing.change("routing", fields)
    assert response.status_code == 200, response.text
    assert changed_lines(original, after["_draft"]) == [
        "-    set: {priority: high}",
        "+    set: {priority: urgent, category: hardware}",
    ]
    # Emptying a pair's field removes the pair.
    after["rules[0].set#1:f"] = ""
    _, after = editing.change("routing", after)
    assert yaml.safe_load(after["_draft"])["rules"][0]["set"] == {"priority": "urgent"}
    # A value that is no option of the field is shown at the pair.
    after["rules[0].set#0:v"] = "whenever"
    response, _ = editing.change("routing", after)
    assert response.status_code == 422 and "whenever" in response.text


def test_the_rows_speak_chinese(editing: Editing) -> None:
    editing.admin.send_form("/language", {"language": "zh-CN", "next": "/admin"})
    response, _ = editing.open("/admin/editors/automations/breach_to_chat")
    html = response.text
    assert "调用 Webhook" in html and "允许内网地址" in html and "添加动作" in html
    response, _ = editing.open("/admin/editors/ticket_types/access_request")
    assert "本分组显示的字段（勾选，按顺序）" in response.text


def test_a_forged_action_button_changes_nothing_else(editing: Editing) -> None:
    _, fields = editing.open("/admin/editors/automations/notify_team_on_breach")
    for op in ("act|add|id", "act|remove|when|0", "act|up|rules[99].actions|1", "act|x"):
        response, after = editing.change("automations", fields, _op=op)
        assert response.status_code == 200, (op, response.text)
        assert after["_draft"] == fields["_draft"]
