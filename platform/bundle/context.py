"""Shared machinery of the loader's second pass: where problems go, what fields exist.

`Reporter` collects every problem (never stopping at the first), located in its
document. `Catalog` says which keys a condition may name and what type each has, so
conditions type-check against the fields they compare.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gongdan.bundle.yamlio import Document, Path
from gongdan.errors import ConfigIssue, did_you_mean
from gongdan.forms.fields import FIELD_TYPES, FieldDef
from gongdan.rules.actions import Action, compile_action
from gongdan.rules.conditions import Condition, FieldInfo, compile_condition
from gongdan.rules.outbound import literal_refusal
from gongdan.vocabulary import PRIORITIES, STATE_CATEGORIES

__all__ = ["BUILTIN_KEYS", "Catalog", "Entry", "Reporter", "merge_info"]

OPEN_PREFIXES = ("requester.", "assignee.")


@dataclass(frozen=True)
class Entry:
    """One schema-valid document of the bundle."""

    kind: str
    id: str
    doc: Document
    valid: bool = True  # False: it failed its schema; only its id and what can be read
    # safely from it (a type's fields, a workflow's states) is used, to avoid cascades.

    @property
    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = self.doc.data
        return data


def merge_info(a: FieldInfo, b: FieldInfo) -> FieldInfo:
    """What a key means when several ticket types declare it (routing across types)."""
    if a.value_type != b.value_type:
        return FieldInfo("any")
    if a.options is None or b.options is None:
        return FieldInfo(a.value_type)
    return FieldInfo(a.value_type, a.options | b.options)


@dataclass
class Catalog:
    """The keys a condition may name, with their types."""

    fields: dict[str, FieldInfo] = field(default_factory=dict)

    @classmethod
    def builtins(
        cls,
        *,
        type_ids: Iterable[str],
        states: Iterable[str],
        teams: Iterable[str],
    ) -> Catalog:
        options = frozenset
        return cls(
            {
                "title": FieldInfo("string"),
                "description": FieldInfo("string"),
                "key": FieldInfo("string"),
                "priority": FieldInfo("string", options(PRIORITIES)),
                "requester": FieldInfo("string"),
                "assignee": FieldInfo("string"),
                "team": FieldInfo("string", options(teams)),
                "state": FieldInfo("string", options(states)),
                "state_category": FieldInfo("string", options(STATE_CATEGORIES)),
                "tags": FieldInfo("list"),
                "type": FieldInfo("string", options(type_ids)),
                "created_at": FieldInfo("datetime"),
                "updated_at": FieldInfo("datetime"),
            }
        )

    def with_fields(
        self, fields: Iterable[FieldDef], infos: dict[int, FieldInfo] | None = None
    ) -> Catalog:
        """This catalog plus `fields`. `infos` caches each field's FieldInfo by id()
        during one load: a field is in several catalogs (its type's, its workflow's,
        the whole bundle's)."""
        merged = dict(self.fields)
        cache = infos if infos is not None else {}
        for f in fields:
            info = cache.get(id(f))
            if info is None:
                info = cache[id(f)] = FIELD_TYPES[f.type].condition_info(f)
            merged[f.id] = merge_info(merged[f.id], info) if f.id in merged else info
        return Catalog(merged)


# Keys every ticket has (built-in fields and paths), whatever its type.
BUILTIN_KEYS = frozenset(Catalog.builtins(type_ids=(), states=(), teams=()).fields)


class Reporter:
    """Collects located problems from every compile step."""

    def __init__(self) -> None:
        self.issues: list[ConfigIssue] = []
        # Lenient: some document could not be read, so an unknown key in a condition may
        # be one of its fields; accept it rather than report a cascade of errors.
        self.lenient = False

    def error(self, doc: Document, path: Path, message: str, *, key: bool = False) -> None:
        self.issues.append(doc.issue(path, message, key=key))

    def warning(self, doc: Document, path: Path, message: str, *, key: bool = False) -> None:
        self.issues.append(doc.issue(path, message, severity="warning", key=key))

    def unknown(
        self,
        doc: Document,
        path: Path,
        what: str,
        name: str,
        known: Iterable[str],
        *,
        key: bool = False,
    ) -> None:
        self.error(doc, path, f"unknown {what} '{name}'{did_you_mean(name, known)}", key=key)

    def condition(
        self, doc: Document, path: Path, source: Any, catalog: Catalog | None
    ) -> Condition | None:
        """Compile a condition, reporting its problems; None when it has errors."""
        if source is None:
            return None
        compiled, problems = compile_condition(
            source,
            catalog.fields if catalog is not None else None,
            open_prefixes=("",) if self.lenient else OPEN_PREFIXES,
        )
        failed = False
        for problem in problems:
            issue = doc.issue((*path, *problem.path), problem.message, severity=problem.severity)
            self.issues.append(issue)
            failed = failed or problem.severity == "error"
        return None if failed else compiled

    def actions(
        self, doc: Document, path: Path, raw: list[Mapping[str, Any]] | None, check: Any = None
    ) -> tuple[Action, ...]:
        """Compile actions; `check(doc, path, action)` reports reference problems."""
        out = []
        for index, item in enumerate(raw or ()):
            action = compile_action(item)
            if action.kind == "webhook" and not action.value.get("allow_private"):
                refusal = literal_refusal(str(action.value.get("url", "")))
                if refusal is not None:
                    self.error(
                        doc,
                        (*path, index, "webhook", "url"),
                        f"a webhook may not call this host: {refusal} (a private host is "
                        "allowed on purpose with `allow_private: true` on this webhook)",
                    )
            if check is not None:
                check(doc, (*path, index), action)
            out.append(action)
        return tuple(out)
