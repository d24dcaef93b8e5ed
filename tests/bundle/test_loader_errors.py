"""Every kind of config mistake is reported at its file, line, column and path.

Cases live in tests/fixtures/loader_errors.yaml: each edits the minimal bundle and
lists every issue `check_bundle` must return, exactly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from gongdan.bundle.loader import check_bundle, load_bundle
from gongdan.errors import ConfigError
from tests.bundles import EXAMPLE, FIXTURES, make_bundle

CASES: list[dict[str, Any]] = yaml.safe_load((FIXTURES / "loader_errors.yaml").read_text("utf-8"))


def apply_case(tmp_path: Path, case: dict[str, Any]) -> Path:
    root = make_bundle(tmp_path, case.get("files"))
    for name, replacements in case.get("edit", {}).items():
        path = root / name
        text = path.read_text("utf-8")
        for old, new in replacements:
            assert old in text, f"{case['name']}: {old!r} not in {name}"
            text = text.replace(old, new, 1)
        path.write_text(text, "utf-8")
    return root


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_mistake_is_reported_where_it_is(tmp_path: Path, case: dict[str, Any]) -> None:
    root = apply_case(tmp_path, case)
    bundle, issues = check_bundle(root)
    prefix = f"{root}/"
    got = [str(i).replace(prefix, "", 1).replace(str(tmp_path) + "/", "") for i in issues]
    assert got == case["expect"]
    assert (bundle is not None) == case.get("ok", False)


def test_load_bundle_raises_one_error_with_all_issues(tmp_path: Path) -> None:
    five = next(c for c in CASES if c["name"] == "a file with five errors reports five")
    root = apply_case(tmp_path, five)
    with pytest.raises(ConfigError) as caught:
        load_bundle(root)
    assert len(caught.value.errors) == 5
    assert "(and 4 more)" in str(caught.value)


def test_minimal_bundle_is_valid(tmp_path: Path) -> None:
    bundle, issues = check_bundle(make_bundle(tmp_path))
    assert bundle is not None, issues
    assert issues == []


def test_missing_directory_is_an_error(tmp_path: Path) -> None:
    bundle, issues = check_bundle(tmp_path / "nope")
    assert bundle is None
    assert "no such config directory" in str(issues[0])


def test_three_independent_mistakes_give_three_messages_and_no_follow_on(
    tmp_path: Path,
) -> None:
    """A misspelt field type, a transition to a missing state and a condition on a
    missing field, in the example bundle: exactly those three errors. The broken field
    (`category`) is still a known name, so the view that shows it as a column and the
    routing rules that test it do not fail as well, while a condition on a field that
    no type declares (`impakt`) is still reported."""
    root = make_bundle(tmp_path, {}, EXAMPLE)
    edits = {
        "ticket_types/it_incident.yaml": (
            "  - id: category\n    type: select",
            "  - id: category\n    type: selct",
        ),
        "workflows/incident.yaml": (
            "    from: [new]\n    to: in_progress",
            "    from: [new]\n    to: in_progres",
        ),
        "routing/default.yaml": (
            "{type: it_incident, impact: company}",
            "{type: it_incident, impakt: company}",
        ),
    }
    for name, (old, new) in edits.items():
        text = (root / name).read_text("utf-8")
        assert old in text
        (root / name).write_text(text.replace(old, new, 1), "utf-8")
    bundle, issues = check_bundle(root)
    assert bundle is None
    assert [str(i).removeprefix(f"{root}/") for i in issues] == [
        "routing/default.yaml:15:39: rules[1].when.impakt: unknown field 'impakt' "
        "(did you mean 'impact'?)",
        "ticket_types/it_incident.yaml:14:11: fields[0].type: 'selct' is not one of: "
        "attachment, boolean, date, datetime, decimal, email, integer, markdown, multiselect, "
        "number, phone, select, team, text, textarea, url, user (did you mean 'select'?)",
        "workflows/incident.yaml:18:9: transitions[0].to: unknown state 'in_progres' "
        "(did you mean 'in_progress'?)",
    ]


def test_a_type_whose_fields_cannot_be_read_still_tolerates_any_field_name(
    tmp_path: Path,
) -> None:
    """When a ticket type's `fields` is not a list of fields with ids, nobody can say
    which names it declares: conditions elsewhere naming unknown fields are accepted,
    rather than reported as a cascade."""
    root = make_bundle(tmp_path, {}, EXAMPLE)
    path = root / "ticket_types/it_incident.yaml"
    text = path.read_text("utf-8").replace("fields:\n  - id: category", "fields:\n  - category", 1)
    path.write_text(text, "utf-8")
    bundle, issues = check_bundle(root)
    errors = [i for i in issues if i.severity == "error"]
    assert bundle is None
    assert {i.file for i in errors} == {str(path)}
