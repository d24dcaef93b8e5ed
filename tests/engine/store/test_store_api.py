"""Statements written by hand live in `engine/store/`, behind the functions its package
docstring lists (checked on the source: the modules are parsed, never imported).

Outside `store/` no module prepares a statement server-side (`prepared`), runs one on
the driver (`DriverStatement`, `exec_driver_sql`) or writes SQL text (`sqlalchemy.text`),
so a new fast path is added to the store with its rule, not inline in a write path.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import gongdan.engine.store

PLATFORM = Path(__file__).parents[3] / "platform"
STORE = "engine/store/"
FAST_PATH_NAMES = frozenset({"prepared", "DriverStatement", "text"})


def _outside_store() -> list[tuple[str, ast.Module]]:
    found = []
    for path in sorted(PLATFORM.rglob("*.py")):
        name = path.relative_to(PLATFORM).as_posix()
        if not name.startswith(STORE):
            found.append((name, ast.parse(path.read_text(encoding="utf-8"), filename=name)))
    return found


def test_no_statement_is_written_by_hand_outside_the_store() -> None:
    found = []
    for name, tree in _outside_store():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (
                (node.module or "").startswith(("sqlalchemy", "gongdan.engine.store"))
            ):
                found += [
                    f"{name}:{node.lineno}: imports {alias.name} from {node.module}"
                    for alias in node.names
                    if alias.name in FAST_PATH_NAMES
                ]
            elif isinstance(node, ast.Attribute) and node.attr == "exec_driver_sql":
                found.append(f"{name}:{node.lineno}: exec_driver_sql")
    assert found == [], "put it in engine/store/ behind a named function:\n" + "\n".join(found)


def test_the_package_docstring_lists_the_store_api() -> None:
    """Every name the docstring lists exists in the module it is listed under, and every
    public function and class of the store's modules (but the tables) is listed."""
    doc = gongdan.engine.store.__doc__ or ""
    listed: dict[str, set[str]] = {}
    for item in re.split(r"\n- ", doc)[1:]:
        module = re.match(r"`(\w+)\.py`", item)
        assert module is not None, item
        listed[module.group(1)] = set(re.findall(r"`(\w+)`", item[module.end() :]))
    for module_name, names in listed.items():
        module = importlib.import_module(f"gongdan.engine.store.{module_name}")
        missing = {name for name in names if not hasattr(module, name)}
        assert not missing, f"store/{module_name}.py has no {sorted(missing)}"
        public = {
            name
            for name in getattr(module, "__all__", ())
            if callable(getattr(module, name)) and not name.isupper()
        }
        if module_name == "models":
            continue
        unlisted = public - names - _NOT_LISTED.get(module_name, set())
        assert not unlisted, f"list {sorted(unlisted)} in store/__init__.py ({module_name})"


# Public names the list leaves out: the tables (`models.py`), and the write batch's
# record that only the store's own modules use.
_NOT_LISTED = {"writes": {"PendingWrites"}}
