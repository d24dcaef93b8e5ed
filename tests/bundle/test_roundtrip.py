"""Round-trip YAML for the admin console's editors: a file edited as data keeps every
line the edit did not change (comments, key order, quotes, values aligned by hand,
comments above `---`); `assign` keeps the style of what it replaces; a new file reads
like the example config; a YAML syntax error has its line."""

from __future__ import annotations

import pytest

from gongdan.bundle.roundtrip import YamlFile, assign, content_hash, unified_diff
from gongdan.errors import ConfigError

WORKFLOW = """\
# Comments above the first document stay.
---
kind: Workflow
id: incident   # the id tickets record
initial: new
states:
  new:         {category: new, label: {en: New, zh-CN: 新建}}
  in_progress: {category: open}
  closed:      {category: closed}
transitions:
  - {id: start, from: [new], to: in_progress}
  - id: close
    from: [in_progress]
    to: closed
    comment: 'required'
---
kind: Team
id: desk
members:
  - {user: a@example.com, skills: [x], capacity: 2}
"""


def changed(old: str, new: str) -> list[str]:
    return [line for line in unified_diff("f", old, new).splitlines()[2:] if line[:1] in "+-"]


def test_an_unchanged_file_is_written_back_as_it_was() -> None:
    assert YamlFile.parse(WORKFLOW).dump() == WORKFLOW


def test_only_the_changed_lines_differ() -> None:
    loaded = YamlFile.parse(WORKFLOW)
    loaded.documents[0]["states"]["in_progress"]["category"] = "pending"
    loaded.documents[0]["transitions"][1]["to"] = "new"
    assert changed(WORKFLOW, loaded.dump()) == [
        "-  in_progress: {category: open}",
        "+  in_progress: {category: pending}",
        "-    to: closed",
        "+    to: new",
    ]


def test_assign_keeps_the_style_of_what_it_replaces_and_of_siblings() -> None:
    loaded = YamlFile.parse(WORKFLOW)
    team = loaded.documents[1]
    assign(team, "members", [
        {"user": "a@example.com", "skills": ["x"], "capacity": 3},
        {"user": "b@example.com", "skills": ["y", "z"]},
    ])  # fmt: skip
    assign(loaded.documents[0], "id", "incident")  # equal: untouched
    assert changed(WORKFLOW, loaded.dump()) == [
        "-  - {user: a@example.com, skills: [x], capacity: 2}",
        "+  - {user: a@example.com, skills: [x], capacity: 3}",
        "+  - {user: b@example.com, skills: [y, z]}",
    ]


def test_a_new_file_reads_like_the_example_config() -> None:
    text = YamlFile.from_data({"kind": "Team", "id": "x", "name": {"en": "X", "zh-CN": "乙"}})
    assert text == "kind: Team\nid: x\nname: {en: X, zh-CN: 乙}\n"


def test_a_syntax_error_has_its_line() -> None:
    with pytest.raises(ConfigError) as error:
        YamlFile.parse("kind: Team\nid: [x\n", "teams/x.yaml")
    (issue,) = error.value.issues
    assert issue.file == "teams/x.yaml" and issue.line == 3


def test_content_hash() -> None:
    assert content_hash(None) is None
    assert content_hash("a") == content_hash(b"a") != content_hash("b")
