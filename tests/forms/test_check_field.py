"""check_field reports every problem of a raw field mapping, where it is and why.

Table-driven from tests/fixtures/fields/checks.yaml.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from gongdan.forms.fields import FieldProblem, check_field

CASES = yaml.safe_load(
    (Path(__file__).parents[1] / "fixtures" / "fields" / "checks.yaml").read_text("utf-8")
)


def _problem(path: list[str | int], message: str, severity: str = "error") -> FieldProblem:
    return FieldProblem(tuple(path), message, severity)  # type: ignore[arg-type]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case["name"])
def test_check_field_reports_every_problem(case: dict[str, Any]) -> None:
    expected = [_problem(*problem) for problem in case["problems"]]
    assert check_field(case["field"]) == expected
