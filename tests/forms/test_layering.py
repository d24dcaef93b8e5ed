"""gongdan.forms is a pure core: no engine, no web stack, no database, no clock."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import gongdan.forms

FORMS = Path(gongdan.forms.__file__).parent
MODULES = sorted(FORMS.rglob("*.py"))
FORBIDDEN = (
    "gongdan.engine",
    "gongdan.ui",
    "fastapi",
    "starlette",
    "jinja2",
    "sqlalchemy",
    "celery",
    "redis",
    "psycopg",
)
CLOCK = {"now", "utcnow", "today", "time", "monotonic"}


def _imports(tree: ast.Module) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(FORMS)))
def test_module_is_pure_and_documented(path: Path) -> None:
    tree = ast.parse(path.read_text("utf-8"))
    assert ast.get_docstring(tree), "every module says what it is for"
    for name in _imports(tree):
        assert not name.startswith(FORBIDDEN), f"{path.name} imports {name}"
    calls = {
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    }
    assert not calls & CLOCK, f"{path.name} reads the clock: pass `now` in instead"
    assert "open(" not in path.read_text("utf-8"), f"{path.name} does I/O"


def test_readme_states_the_rule() -> None:
    readme = (FORMS / "README.md").read_text("utf-8")
    assert "gongdan.engine" in readme and "gongdan.ui" in readme
