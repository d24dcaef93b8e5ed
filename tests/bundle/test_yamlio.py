"""YAML 1.2 reading with line marks: semantics, duplicate keys, hostile input."""

from __future__ import annotations

import pytest

from gongdan.bundle.yamlio import parse_documents
from gongdan.errors import ConfigError


def one(text: str) -> object:
    (doc,) = parse_documents(text, "f.yaml")
    return doc.data


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("on: schedule", {"on": "schedule"}),
        ("v: [yes, no, on, off, y, n]", {"v": ["yes", "no", "on", "off", "y", "n"]}),
        ("v: [true, false, True, FALSE]", {"v": [True, False, True, False]}),
        ("t: 09:00", {"t": "09:00"}),  # YAML 1.1 would read 540
        ("d: 2026-10-01", {"d": "2026-10-01"}),
        ("r: 2026-10-01..2026-10-08", {"r": "2026-10-01..2026-10-08"}),
        (
            "n: [12, -3, 0o17, 0x1f, 1.5, 1e3, .inf]",
            {"n": [12, -3, 15, 31, 1.5, 1000.0, float("inf")]},
        ),
        ("z: [~, null, ]", {"z": [None, None]}),
        ("s: '12'", {"s": "12"}),
        ("s: !!str 12", {"s": "12"}),
        ("p: 010", {"p": 10}),  # 1.2: no octal by leading zero
        ("a: &x {b: 1}\nc: *x", {"a": {"b": 1}, "c": {"b": 1}}),
        ("1: one", {"1": "one"}),  # keys are always text
    ],
)
def test_yaml_1_2_core_schema(text: str, expected: object) -> None:
    assert one(text) == expected


def test_marks_point_at_values_and_keys() -> None:
    (doc,) = parse_documents("kind: Workflow\nstates:\n  new:\n    category: nwe\n", "w.yaml")
    assert doc.locate(("states", "new", "category")) == (4, 15)
    assert doc.locate(("states", "new", "category"), key=True) == (4, 5)
    assert doc.locate(("states", "missing", "deeper")) == (3, 3)  # nearest known parent


def test_multi_document_files() -> None:
    docs = parse_documents("kind: A\n---\nkind: B\n---\n", "m.yaml")
    assert [d.data for d in docs] == [{"kind": "A"}, {"kind": "B"}, None]
    assert docs[1].position == (2, 1)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "a: 1\nb: 2\na: 3\n",
            "f.yaml:3:1: a: duplicate key 'a' (first given at line 1, column 1)",
        ),
        ("a: [1, 2\n", "f.yaml:2:1: (document): YAML syntax error"),
        ("a: !!python/object:os.system x", "f.yaml:1:4: a: unsupported tag"),
        ("x: !!int abc", "f.yaml:1:4: x: cannot read 'abc' as !!int"),
        ("&a [*a]", "f.yaml:1:5: [0]: alias *a refers to an unknown or enclosing anchor"),
        ("? [a]\n: 1", "f.yaml:1:3: (document): a mapping key must be a plain value"),
        ("a: \x00", "f.yaml:1:4: (document): unreadable YAML: control characters"),
        (b"a: \xff\xfe", "f.yaml:1:4: (document): the file is not valid UTF-8 text"),
        # Ours says "nested deeper than 64 levels"; PyYAML >= 6.0.4 stops a flow
        # collection at its own limit ("exceeded maximum nesting depth") while it scans
        # ahead, before our check sees the events. Either way: one located error.
        ("[" * 10_000, "nest"),
        ("- " * 100 + "x", "nested deeper than 64 levels"),
        ("x: 1" + "0" * 5000, "f.yaml:1:4: x: cannot read this number"),
    ],
)
def test_bad_input_is_one_located_config_error(source: str | bytes, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_documents(source, "f.yaml")
    assert expected in str(caught.value.issues[0])


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    with pytest.raises(ConfigError, match="alias bomb"):
        parse_documents("\n".join(lines), "bomb.yaml")


def test_byte_order_mark_is_accepted() -> None:
    (doc,) = parse_documents("\ufeffkind: Team".encode(), "t.yaml")
    assert doc.data == {"kind": "Team"}
