"""A view's sort must be served by an index (issue 24): the SLA sorts are indexed for
open tickets only, so `gongdan check` warns about a view sorted by a deadline that may
hold tickets that are not open; a view knows the categories its `when` implies."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gongdan.bundle.loader import load_bundle
from tests.bundles import EXAMPLE


def _with_view(tmp_path: Path, when: str, sort: str) -> list[str]:
    root = tmp_path / "config"
    shutil.copytree(EXAMPLE, root)
    (root / "views" / "by_deadline.yaml").write_text(
        "kind: View\nid: by_deadline\nname: {en: By deadline, zh-CN: 按截止时间}\n"
        f"{when}columns: [key, title]\nsort: {{field: {sort}, direction: asc}}\n",
        "utf-8",
    )
    bundle = load_bundle(root)
    return [w.message for w in bundle.warnings if "by_deadline" in str(w.file)]


@pytest.mark.parametrize("sort", ["sla", "resolution_due", "first_response_due"])
def test_a_view_sorted_by_a_deadline_over_any_state_is_warned_about(
    tmp_path: Path, sort: str
) -> None:
    (warning,) = _with_view(tmp_path, "when: {type: it_incident}\n", sort)
    assert "indexed for open tickets only" in warning and "state_category" in warning


@pytest.mark.parametrize(
    "when",
    [
        "when: {state_category: [new, open]}\n",
        "when: {state_category: {not_in: [resolved, closed]}}\n",
        "when: {state: [in_progress, waiting_customer]}\n",  # states of open categories
    ],
)
def test_a_view_of_open_tickets_sorted_by_a_deadline_is_fine(tmp_path: Path, when: str) -> None:
    assert _with_view(tmp_path, when, "sla") == []


def test_other_sorts_are_indexed_for_every_ticket(tmp_path: Path) -> None:
    assert _with_view(tmp_path, "when: {type: it_incident}\n", "priority") == []


def test_a_view_knows_which_categories_its_states_are_in() -> None:
    bundle = load_bundle(EXAMPLE)
    assert bundle.views["waiting_on_customer"].categories == {"pending"}
    assert bundle.views["line_stoppages"].categories == {"new", "open", "pending"}
    assert bundle.views["urgent_incidents"].categories == {"new", "open"}
