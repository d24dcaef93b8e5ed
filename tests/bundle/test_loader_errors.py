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
from tests.bundles import FIXTURES, make_bundle

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
