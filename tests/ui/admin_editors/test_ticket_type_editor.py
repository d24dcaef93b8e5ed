"""The ticket type editor: what each control writes into the YAML (every option of a
field's type, conditions as groups of rows, reordering), problems shown at the control
that is wrong, the preview, and saving through the admin console's pipeline."""

from __future__ import annotations

import difflib
from html import unescape

import yaml

from tests.ui.admin_editors.conftest import Editing

PATH = "/admin/editors/ticket_types/it_incident"


def doc_of(fields: dict) -> dict:
    return yaml.safe_load(fields["_draft"])


def test_one_label_changed_changes_one_line_and_keeps_the_comments(editing: Editing) -> None:
    _, fields = editing.open(PATH)
    original = fields["_draft"]
    fields["fields[0].label@en"] = "Kind of problem"
    response, after = editing.change("ticket_types", fields)
    assert response.status_code == 200
    changed = [
        line
        for line in difflib.unified_diff(
            original.splitlines(), after["_draft"].splitlines(), lineterm=""
        )
        if line.startswith(("+", "-")) and not line.startswith(("+++", "---"))
    ]
    assert changed == [
        "-    label: {en: Category, zh-CN: 类别}",
        "+    label: {en: Kind of problem, zh-CN: 类别}",
    ]
    assert after["_draft"].startswith("# yaml-language-server")


def test_a_new_field_gets_every_option_of_its_type(editing: Editing) -> None:
    _, fields = editing.open(PATH)
    _, fields = editing.change("ticket_types", fields, _op="add-field")
    last = len(doc_of(fields)["fields"]) - 1
    p = f"fields[{last}]"
    fields[f"{p}.id"] = "budget"
    fields[f"{p}.type"] = "decimal"
    _, fields = editing.change("ticket_types", fields)
    fields.update(
        {
            f"{p}.scale": "2",
            f"{p}.min": "0",
            f"{p}.max": "99999.5",
            f"{p}.label@zh-CN": "预算",
            f"{p}.help@en": "In CNY",
            f"{p}.required": ["true"],
        }
    )
    _response, fields = editing.change("ticket_types", fields)
    written = doc_of(fields)["fields"][last]
    assert written == {
        "id": "budget",
        "type": "decimal",
        "label": {"en": "New field", "zh-CN": "预算"},
        "help": "In CNY",
        "required": True,
        "min": 0,
        "max": 99999.5,
        "scale": 2,
    }
    assert "budget" in doc_of(fields)["forms"]["create"][-1]["fields"]
    # Text types take lengths and a pattern; attachments their size, types and multiple.
    fields[f"{p}.type"] = "attachment"
    _, fields = editing.change("ticket_types", fields)
    fields.update(
        {f"{p}.max_size_mb": "5", f"{p}.accept": ".pdf, image/*", f"{p}.multiple": ["true"]}
    )
    _, fields = editing.change("ticket_types", fields)
    written = doc_of(fields)["fields"][last]
    assert written["max_size_mb"] == 5 and written["accept"] == [".pdf", "image/*"]
    assert written["multiple"] is True and "scale" not in written and "min" not in written


def test_options_are_added_labelled_and_removed(editing: Editing) -> None:
    _, fields = editing.open(PATH)
    _, fields = editing.change("ticket_types", fields, _op="add-option|0")
    options = doc_of(fields)["fields"][0]["options"]
    assert options[-1] == "option_5"
    fields["fields[0].options[4].value"] = "printer"
    fields["fields[0].options[4].label@en"] = "Printer"
    fields["fields[0].options[4].label@zh-CN"] = "打印机"
    _, fields = editing.change("ticket_types", fields)
    assert doc_of(fields)["fields"][0]["options"][-1] == {
        "value": "printer",
        "label": {"en": "Printer", "zh-CN": "打印机"},
    }
    _, fields = editing.change("ticket_types", fields, _op="remove-option|0|0")
    assert next(o["value"] for o in doc_of(fields)["fields"][0]["options"]) == "software"


def test_conditions_are_rows_in_any_all_not_groups(editing: Editing) -> None:
    _, fields = editing.open(PATH)
    base = "fields[1].visible_if"
    assert fields[f"{base}::0.0:f"] == "category" and fields[f"{base}::0.0:v"] == "hardware"
    _, fields = editing.change("ticket_types", fields, _op=f"cond|group|{base}|0")
    fields[f"{base}::0.1:g"] = "any"
    fields[f"{base}::0.1.0:f"] = "impact"
    fields[f"{base}::0.1.0:o"] = "in"
    fields[f"{base}::0.1.0:v"] = "team, company"
    _, fields = editing.change("ticket_types", fields)
    _, fields = editing.change("ticket_types", fields, _op=f"cond|group|{base}|0.1")
    fields[f"{base}::0.1.1:g"] = "not"
    fields[f"{base}::0.1.1.0:f"] = "priority"
    fields[f"{base}::0.1.1.0:v"] = "low"
    response, fields = editing.change("ticket_types", fields)
    assert response.status_code == 200, response.text
    # Rows of the top "all of" group share one mapping, as a person would write it.
    assert doc_of(fields)["fields"][1]["visible_if"] == {
        "category": "hardware",
        "any": [{"impact": {"in": ["team", "company"]}}, {"not": {"priority": "low"}}],
    }
    # The operators offered fit the field: no "greater than" for a select.
    html = response.text
    start = html.index(f'name="{base}::0.1.0:o"')
    assert (
        "ed.op" not in html and "greater than" not in html[start : html.index("</select>", start)]
    )


def test_fields_move_and_their_form_places_follow_a_new_id(editing: Editing) -> None:
    _, fields = editing.open(PATH)
    ids = [f["id"] for f in doc_of(fields)["fields"]]
    _, fields = editing.change("ticket_types", fields, _op="move-field|2|0")
    assert [f["id"] for f in doc_of(fields)["fields"]] == [ids[2], ids[0], ids[1], *ids[3:]]
    fields["fields[0].id"] = "reach"
    _, fields = editing.change("ticket_types", fields)
    forms = yaml.dump(doc_of(fields)["forms"])
    assert "reach" in forms and ids[2] not in forms


def test_an_invalid_edit_is_shown_at_its_control(editing: Editing) -> None:
    _, fields = editing.open(PATH)
    fields["fields[1].pattern"] = "([unclosed"
    response, fields = editing.change("ticket_types", fields)
    assert response.status_code == 422
    html = response.text
    error = html.index('id="e-fields-1-pattern-error"')
    assert html.index('name="fields[1].pattern"') < error
    assert 'aria-describedby="e-fields-1-pattern-error"' in html
    assert 'id="ed-save"' in html and "disabled" in html[html.index('id="ed-save"') :][:400]
    # A condition's value that is no option of its field: at the condition's rows.
    fields["fields[1].pattern"] = "^[A-Z0-9-]{6,20}$"
    fields["fields[1].visible_if::0.0:v"] = "hardwar"
    response, _ = editing.change("ticket_types", fields)
    html = response.text
    box = html[html.index('name="fields[1].visible_if::0:g"') :]
    box = box[: box.index("</fieldset>")]
    assert "did you mean &#39;hardware&#39;" in box


def test_the_preview_is_the_requesters_create_form_in_both_languages(editing: Editing) -> None:
    response, _fields = editing.open(PATH)
    html = response.text
    preview = html[html.index('class="ed-preview"') :]
    assert 'lang="en"' in preview and 'lang="zh-CN"' in preview
    assert ">Category" in preview and ">类别" in preview
    # As a requester first sees it: the serial number waits for category = hardware.
    assert 'id="preview-en-device_serial" hidden' in preview
    # The portal's own check, on the draft: each preview form posts to it with the draft.
    assert 'hx-post="/admin/editors/ticket_types/preview/zh-CN"' in preview
    assert "#editor-form [name='_draft']" in preview


def preview_check(editing: Editing, fields: dict, language: str, **values: str) -> str:
    draft = {k: fields[k] for k in ("_draft", "_path", "_index", "_base")}
    changed = next(iter(values))
    response = editing.admin.post(
        f"/admin/editors/ticket_types/preview/{language}",
        data={**draft, **values},
        headers={
            "HX-Request": "true",
            "HX-Trigger-Name": changed,
            "X-CSRF-Token": editing.admin.csrf,
        },
    )
    assert response.status_code == 200, response.text
    return response.text


def test_the_preview_toggles_conditional_fields_as_a_requester_clicks(editing: Editing) -> None:
    _, fields = editing.open(PATH)
    # Hardware chosen: the serial number appears (swapped in out of band, as the portal).
    shown = preview_check(editing, fields, "zh-CN", category="hardware")
    serial = shown[shown.index('id="preview-zh-CN-device_serial"') :].split(">")[0]
    assert 'hx-swap-oob="outerHTML"' in serial and "hidden" not in serial
    assert "设备序列号" in shown
    hidden = preview_check(editing, fields, "en", category="software")
    assert 'id="preview-en-device_serial" hidden' in hidden
    # The draft's condition, not the saved one: now shown for software.
    fields["fields[1].visible_if::0.0:v"] = "software"
    response, fields = editing.change("ticket_types", fields)
    assert response.status_code == 200, response.text
    shown = preview_check(editing, fields, "en", category="software")
    serial = shown[shown.index('id="preview-en-device_serial"') :].split(">")[0]
    assert "hidden" not in serial
    # A language the editor has not: a 404, not a 500.
    draft = {k: fields[k] for k in ("_draft", "_path", "_index", "_base")}
    headers = {"HX-Request": "true", "X-CSRF-Token": editing.admin.csrf}
    missing = editing.admin.post(
        "/admin/editors/ticket_types/preview/fr", data=draft, headers=headers
    )
    assert missing.status_code == 404


def test_saving_shows_the_diff_then_writes_and_refuses_a_conflict(editing: Editing) -> None:
    _, fields = editing.open(PATH)
    fields["fields[0].label@en"] = "Kind of problem"
    _, fields = editing.change("ticket_types", fields)
    headers = {"HX-Request": "true", "X-CSRF-Token": editing.admin.csrf}
    review = editing.admin.post(
        "/admin/editors/ticket_types/save", data={**fields, "_message": "Rename"}, headers=headers
    )
    assert review.status_code == 200 and "+    label: {en: Kind of problem" in review.text
    # The console's shared review: the diff and the plan's summary (open tickets affected).
    assert 'id="proposal"' in review.text and 'id="plan-title"' in review.text
    assert 'name="_confirm" value="1"' in review.text
    (editing.root / "ticket_types" / "it_incident.yaml").write_text(
        fields["_draft"].replace("IT incident", "IT problem"), encoding="utf-8"
    )
    refused = editing.admin.post(
        "/admin/editors/ticket_types/save", data={**fields, "_confirm": "1"}, headers=headers
    )
    assert refused.status_code == 409 and "nothing was overwritten" in refused.text
    _, fields = editing.open(PATH)
    fields["fields[0].label@en"] = "Kind of problem"
    _, fields = editing.change("ticket_types", fields)
    saved = editing.admin.post(
        "/admin/editors/ticket_types/save",
        data={**fields, "_confirm": "1", "_message": "Rename"},
        headers=headers,
    )
    assert saved.status_code == 200 and "Saved and active" in saved.text
    assert "Kind of problem" in (editing.root / "ticket_types" / "it_incident.yaml").read_text()


def test_agents_and_requesters_cannot_reach_the_editors(editing: Editing) -> None:
    editing.web.user("agent@example.com", "agent")
    editing.web.user("req@example.com", "requester")
    for email in ("agent@example.com", "req@example.com"):
        client = editing.web.client(email)
        assert client.get(PATH).status_code in (403, 404)
        assert client.get("/admin/editors/ticket_types/new").status_code in (403, 404)
        answer = client.post(
            "/admin/editors/ticket_types/change",
            data={"_draft": "kind: x"},
            headers={"X-CSRF-Token": client.csrf},
        )
        assert answer.status_code in (403, 404)


def test_a_sections_fields_are_picked_from_the_types_fields_in_order(editing: Editing) -> None:
    response, fields = editing.open("/admin/editors/ticket_types/access_request")
    original = fields["_draft"]
    name = "forms.create[1].fields"
    # Ticked: the section's own fields; offered: the type's other fields and built-ins.
    assert fields[name] == ["approver"]
    offered = response.text.split(f'name="{name}?"')[1].split("</fieldset>")[0]
    for field_id in ("system", "access_level", "end_date", "justification", "title"):
        assert f'value="{field_id}"' in offered
    # A field moves from the first section to the second (a field is on a form once).
    fields["forms.create[0].fields"] = [
        "title",
        "system",
        "access_level",
        "end_date",
        "description",
    ]
    fields[name] = ["approver", "justification"]
    response, fields = editing.change("ticket_types", fields)
    assert response.status_code == 200, response.text
    assert doc_of(fields)["forms"]["create"][1]["fields"] == ["approver", "justification"]
    changed = [
        line
        for line in difflib.unified_diff(original.splitlines(), fields["_draft"].splitlines())
        if line.startswith(("+ ", "- ", "+\t", "-\t", "+  ", "-  "))
    ]
    assert changed == [
        "-      fields: [title, system, access_level, end_date, justification, description]",
        "+      fields: [title, system, access_level, end_date, description]",
        "-      fields: [approver]",
        "+      fields: [approver, justification]",
    ]
    # Moved up: the order the requester sees.
    _, fields = editing.change("ticket_types", fields, _op="move-section-field|1|1")
    assert doc_of(fields)["forms"]["create"][1]["fields"] == ["justification", "approver"]
    # None ticked: the check's message is at the section's fields, not a 500.
    fields[name] = []
    response, _ = editing.change("ticket_types", fields)
    assert response.status_code == 422
    error = response.text.split('id="e-forms-create-1-error"')[1].split("</p>")[0]
    assert "missing required key 'fields'" in unescape(error)
