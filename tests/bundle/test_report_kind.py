"""`kind: Report`: its schema and its cross-checks report every mistake at its file,
line, column and path (cases in tests/fixtures/report_errors.yaml); the shipped
dashboard loads, in the order declared."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from gongdan.bundle.loader import check_bundle, load_bundle
from tests.bundles import EXAMPLE, FIXTURES, make_bundle

CASES: list[dict[str, Any]] = yaml.safe_load((FIXTURES / "report_errors.yaml").read_text("utf-8"))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_report_mistake_is_reported_where_it_is(tmp_path: Path, case: dict[str, Any]) -> None:
    root = make_bundle(tmp_path, case["files"])
    bundle, issues = check_bundle(root)
    got = [str(i).replace(f"{root}/", "", 1) for i in issues]
    if "expect_contains" in case:
        assert any(case["expect_contains"] in line for line in got), got
    else:
        assert got == case["expect"]
    assert (bundle is not None) == case.get("ok", False)


def test_a_filter_test_sql_cannot_run_is_refused_at_its_place(tmp_path: Path) -> None:
    text = "kind: Report\ntitle: T\nmeasure: count\nfilter:\n  amount: {changed: true}\n"
    bundle, issues = check_bundle(make_bundle(tmp_path, {"reports/r.yaml": text}))
    assert bundle is None
    assert [str(i).split("config/", 1)[1] for i in issues] == [
        "reports/r.yaml:5:21: filter.amount.changed: 'changed' needs a change being made;"
        " a queue only sees tickets as they are"
    ]


def test_the_shipped_dashboard_loads_in_declared_order() -> None:
    bundle = load_bundle(EXAMPLE)
    ids = list(bundle.reports)
    declared = [
        d["id"]
        for d in yaml.safe_load_all((EXAMPLE / "reports" / "dashboard.yaml").read_text("utf-8"))
    ]
    assert ids == declared and len(ids) >= 8
