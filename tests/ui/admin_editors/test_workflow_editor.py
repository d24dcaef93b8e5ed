"""The workflow editor: states and categories, the transitions table, the diagram."""

from __future__ import annotations

import yaml

from tests.ui.admin_editors.conftest import Editing


def doc_of(fields: dict) -> dict:
    return yaml.safe_load(fields["_draft"])


def test_a_three_state_workflow_with_an_approval_step_is_built_as_a_table(editing: Editing) -> None:
    response, fields = editing.open("/admin/editors/workflows/new")
    assert "<svg" in response.text
    _, fields = editing.change("workflows", fields, _op="add-state")
    fields.update(
        {
            "id": "office_move",
            "_state[0]": "requested",
            "_state[2]": "approved",
            "states.state_3.category": "open",
            "initial": "new",
        }
    )
    _, fields = editing.change("workflows", fields)
    doc = doc_of(fields)
    assert list(doc["states"]) == ["requested", "done", "approved"]
    assert doc["initial"] == "requested" and doc["transitions"][0]["from"] == ["requested"]
    _, fields = editing.change("workflows", fields, _op="add-transition")
    fields.update(
        {
            "transitions[1].id": "approve",
            "transitions[1].to": "approved",
            "transitions[1].roles": "admin, field:approver",
            "transitions[1].comment": "required",
        }
    )
    _, fields = editing.change(
        "workflows",
        fields,
        _op="act|add|transitions[1].actions",
        **{"transitions[1].actions::new": "notify"},
    )
    fields["transitions[1].actions::0:notify"] = "requester"
    fields["transitions[1].from"] = ["requested"]
    fields["transitions[0].from"] = ["approved"]
    response, fields = editing.change("workflows", fields)
    approve = doc_of(fields)["transitions"][1]
    assert approve == {
        "id": "approve",
        "from": ["requested"],
        "to": "approved",
        "roles": ["admin", "field:approver"],
        "comment": "required",
        "actions": [{"notify": "requester"}],
    }
    # The diagram follows the draft: the new state and transition are drawn.
    assert 'data-state="approved"' in response.text and 'data-transition="approve"' in response.text
