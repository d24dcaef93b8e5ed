"""Nothing outside `gongdan.forms.types` branches on a field type's name.

What differs between field types (its display, the shape of its value, how a filter
compares it, how its widget posts) is asked of the type (`FieldDef.field_type`), so a
new type touches one file. This test parses every module of the package outside
`forms/types/` and fails on a field type's name used as a string where code decides
by type:

- a comparison, membership test or `match` case of something named `type`, `kind`,
  `type_name` or `field_type` (a variable or an attribute) against a type's name;
- a lookup by type: a mapping with two or more keys, all type names; a set of two or
  more type names; a collection of type names bound to a name saying TYPE or KIND;
- a mapping with two or more values, all type names (e.g. built-in field → widget type).

Field ids that happen to be type names ("team", "user" as field names) are legitimate
and not flagged: only the contexts above are. `gongdan.rules` is not scanned: it sits
below `forms` and cannot know field types; the value kinds its conditions compare
(`FieldInfo.kind`: string, number, date…) are its own vocabulary, some of whose words
are also type names.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import gongdan.forms
from gongdan.forms.fields import FIELD_TYPES

PACKAGE = Path(gongdan.forms.__file__).parent.parent
TYPES = PACKAGE / "forms" / "types"
RULES = PACKAGE / "rules"
MODULES = sorted(
    path
    for path in PACKAGE.rglob("*.py")
    if TYPES not in path.parents and RULES not in path.parents
)
NAMES = frozenset(FIELD_TYPES)
# Names of variables and attributes that hold a type's name where code decides by it.
TYPE_WORDS = frozenset({"field_type", "kind", "type", "type_name"})


def _strings(node: ast.AST | None) -> list[str] | None:
    """The texts of a string constant, or of a tuple/list/set literal of them (also as
    the argument of `frozenset`, `set` or `tuple`); None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and len(node.args) == 1:
        return _strings(node.args[0]) if node.func.id in ("frozenset", "set", "tuple") else None
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        texts = [_strings(element) for element in node.elts]
        if all(text is not None and len(text) == 1 for text in texts):
            return [text[0] for text in texts if text]
    return None


def _all_names(texts: list[str] | None, least: int) -> bool:
    """Whether `texts` are at least `least` strings, every one a type's name."""
    return texts is not None and len(texts) >= least and set(texts) <= NAMES


def _is_type_word(node: ast.AST) -> bool:
    if isinstance(node, ast.Name):
        return node.id in TYPE_WORDS
    return isinstance(node, ast.Attribute) and node.attr in TYPE_WORDS


def _says_type(target: ast.AST) -> bool:
    return isinstance(target, ast.Name) and any(w in target.id.upper() for w in ("TYPE", "KIND"))


def findings(source: str) -> Iterator[tuple[int, str]]:
    """(line, what) for each place in `source` that decides by a field type's name."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            names = {text for o in operands for text in _strings(o) or () if text in NAMES}
            if names and any(_is_type_word(operand) for operand in operands):
                yield node.lineno, f"compares a type to {sorted(names)}"
        elif isinstance(node, ast.Match) and _is_type_word(node.subject):
            for pattern in ast.walk(node):
                if (
                    isinstance(pattern, ast.MatchValue)
                    and set(_strings(pattern.value) or ()) & NAMES
                ):
                    yield pattern.lineno, "matches a type's name"
        elif isinstance(node, ast.Dict):
            if _all_names([_text(key) for key in node.keys], 2):
                yield node.lineno, "a mapping keyed by type names"
            elif _all_names([_text(value) for value in node.values], 2):
                yield node.lineno, "a mapping to type names"
        elif isinstance(node, ast.Set) and _all_names(_strings(node), 2):
            yield node.lineno, "a set of type names"
        elif isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(_says_type(t) for t in targets) and _all_names(_strings(node.value), 1):
                yield node.lineno, "a collection of type names"


def _text(node: ast.AST | None) -> str:
    """A string constant's text; "" (no type's name) for anything else."""
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else ""


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(PACKAGE)))
def test_no_code_outside_the_types_branches_on_a_type_name(path: Path) -> None:
    found = sorted({f"line {line}: {what}" for line, what in findings(path.read_text("utf-8"))})
    assert not found, "ask the field type instead:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "source",
    [
        'if field.type == "attachment": pass',
        'if definition.type in ("markdown", "textarea"): pass',
        'if kind == "boolean": pass',
        'ok = "user" != f.type',
        "match field.type:\n    case 'team': pass",
        'KINDS = {"multiselect": "list", "number": "number"}',
        'WIDGETS = {"title": "text", "assignee": "user"}',
        'LIST_KINDS = frozenset({"multiselect"})',
        'if name in {"number", "integer"}: pass',
    ],
)
def test_the_check_finds_branching_on_a_type_name(source: str) -> None:
    assert list(findings(source))


@pytest.mark.parametrize(
    "source",
    [
        'if field.id == "team": pass',  # a field's id, not its type
        'value = data.get("user")',
        'if event.kind == "ticket.created": pass',
        'if column == "team": pass',
        'LABELS = {"team": "Team", "title": "Title"}',
        'SCHEMA = {"type": "string", "format": "date"}',
        'if name in ("team", "assignee"): pass',
    ],
)
def test_the_check_leaves_other_strings_alone(source: str) -> None:
    assert not list(findings(source))
