"""The progress step line of each example workflow, state by state: the steps done,
the current one (marked *) and those to come."""

from __future__ import annotations

from pathlib import Path

import pytest

from gongdan.bundle.compiled import Bundle
from gongdan.bundle.loader import load_bundle
from gongdan.rules.progress import progress_steps
from tests.bundles import make_bundle

LINES = {
    ("incident", "new"): "new* in_progress resolved closed",
    ("incident", "in_progress"): "new+ in_progress* resolved closed",
    ("incident", "waiting_customer"): "new+ in_progress+ waiting_customer* resolved closed",
    ("incident", "resolved"): "new+ in_progress+ resolved* closed",
    ("incident", "closed"): "new+ in_progress+ resolved+ closed*",
    ("after_sales", "new"): "new* awaiting_shipment inspection shipped_back closed",
    (
        "after_sales",
        "repairing",
    ): "new+ awaiting_shipment+ inspection+ repairing* shipped_back closed",
    ("after_sales", "refunding"): "new+ awaiting_shipment+ inspection+ refunding* refunded closed",
    ("after_sales", "refunded"): "new+ awaiting_shipment+ inspection+ refunding+ refunded* closed",
    # A ticket that ends without being resolved shows only the way to its end.
    ("after_sales", "declined"): "new+ declined*",
    ("approval", "awaiting_approval"): "awaiting_approval* approved provisioning done closed",
    ("approval", "needs_info"): (
        "awaiting_approval+ needs_info* awaiting_approval approved provisioning done closed"
    ),
    ("approval", "rejected"): "awaiting_approval+ rejected*",
    (
        "maintenance",
        "waiting_parts",
    ): "reported+ diagnosing+ waiting_parts* in_repair verification closed",
}


def line(bundle: Bundle, workflow: str, state: str) -> str:
    marks = {"done": "+", "current": "*", "todo": ""}
    steps = progress_steps(bundle.workflows[workflow], state)
    return " ".join(step.state + marks[step.status] for step in steps)


@pytest.mark.parametrize(("workflow", "state"), list(LINES))
def test_step_line(example_bundle: Bundle, workflow: str, state: str) -> None:
    assert line(example_bundle, workflow, state) == LINES[workflow, state]


def test_every_state_of_every_workflow_is_on_its_own_line(example_bundle: Bundle) -> None:
    for workflow in example_bundle.workflows.values():
        for state in workflow.states:
            steps = progress_steps(workflow, state)
            assert [s.state for s in steps if s.status == "current"] == [state]
            assert steps[0].state == workflow.initial
            statuses = [s.status for s in steps]
            assert statuses == sorted(statuses, key=["done", "current", "todo"].index)


def test_steps_carry_labels_and_categories(example_bundle: Bundle) -> None:
    first, *_ = progress_steps(example_bundle.workflows["incident"], "new")
    assert first.label == {"en": "New", "zh-CN": "新建"} and first.category == "new"


def test_a_removed_state_has_no_line(example_bundle: Bundle) -> None:
    assert progress_steps(example_bundle.workflows["incident"], "gone") == ()


def test_a_workflow_without_resolved_states(tmp_path: Path) -> None:
    workflow = """\
kind: Workflow
id: basic
initial: new
states:
  new: {category: new}
  open: {category: open}
  closed: {category: closed}
transitions:
  - {id: start, from: [new], to: open}
  - {id: cancel, from: [new], to: closed}
  - {id: finish, from: [open], to: closed}
"""
    bundle = load_bundle(make_bundle(tmp_path, {"workflows/basic.yaml": workflow}))
    assert line(bundle, "basic", "new") == "new* open closed"
    assert line(bundle, "basic", "closed") == "new+ open+ closed*"
