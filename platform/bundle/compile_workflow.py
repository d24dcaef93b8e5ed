"""Compile Workflow documents and check their states, transitions and actions.

Besides references (a transition into an unknown state, an `on_enter` for a state that
does not exist) this checks the shape of the graph: every state reachable from
`initial`, and every state that is not of category `closed` has a way out; and that
`migrate` moves tickets out of states the workflow no longer has into one it has.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from gongdan.bundle.context import Catalog, Entry, Reporter
from gongdan.bundle.yamlio import Document, Path
from gongdan.rules.actions import Action
from gongdan.rules.durations import parse_duration
from gongdan.rules.workflow import StateDef, TransitionDef, WorkflowDef
from gongdan.vocabulary import StateCategory

__all__ = ["compile_workflow"]

ActionCheck = Callable[[Document, Path, Action], None]


def _sources(raw: Any) -> list[str]:
    return [raw] if isinstance(raw, str) else list(raw)


def _check_graph(
    entry: Entry,
    states: Mapping[str, StateDef],
    initial: str,
    transitions: list[TransitionDef],
    report: Reporter,
) -> None:
    doc = entry.doc
    edges: dict[str, set[str]] = {s: set() for s in states}
    for t in transitions:
        for source in t.sources:
            edges.setdefault(source, set()).add(t.target)
    seen = {initial}
    queue = deque([initial])
    while queue:
        for nxt in edges.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    for state_id, state in states.items():
        if state_id not in seen:
            report.error(
                doc,
                ("states", state_id),
                f"state '{state_id}' can never be reached from '{initial}'",
                key=True,
            )
        if state.category != StateCategory.CLOSED and not edges.get(state_id):
            report.error(
                doc,
                ("states", state_id),
                f"state '{state_id}' has no way out but is not of category closed",
                key=True,
            )


def _check_migrate(
    entry: Entry, states: Mapping[str, StateDef], report: Reporter
) -> dict[str, str]:
    """`migrate: {old_state: new_state}`: the old state is one the workflow no longer has
    (tickets in a state it still has stay there: moving them on every apply would be a
    trap), the new one a state it has."""
    doc, migrate = entry.doc, dict(entry.data.get("migrate", {}))
    for old, new in migrate.items():
        if old in states:
            report.error(
                doc,
                ("migrate", old),
                f"state '{old}' is still in this workflow: `migrate` moves the tickets of "
                "a state that was removed (remove the state, or this line)",
                key=True,
            )
        if new not in states:
            report.unknown(doc, ("migrate", old), "state", new, states)
    return migrate


def compile_workflow(
    entry: Entry,
    catalog: Catalog,
    report: Reporter,
    check_action: Callable[[set[str]], ActionCheck],
) -> WorkflowDef | None:
    """Compile one schema-valid Workflow; None when it has errors (all reported)."""
    doc, data = entry.doc, entry.data
    before = len(report.issues)
    states = {
        sid: StateDef(sid, raw["category"], raw.get("label", sid))
        for sid, raw in data["states"].items()
    }
    initial = data["initial"]
    if initial not in states:
        report.unknown(doc, ("initial",), "state", initial, states)
    transitions: list[TransitionDef] = []
    transition_ids = {t["id"] for t in data["transitions"]}
    actions_check = check_action(transition_ids)
    seen_ids: dict[str, int] = {}
    for index, raw in enumerate(data["transitions"]):
        path: Path = ("transitions", index)
        if raw["id"] in seen_ids:
            report.error(
                doc,
                (*path, "id"),
                f"duplicate transition id '{raw['id']}' (also transitions[{seen_ids[raw['id']]}])",
            )
        seen_ids.setdefault(raw["id"], index)
        sources = _sources(raw["from"])
        for n, source in enumerate(sources):
            if source not in states:
                where = (*path, "from", n) if isinstance(raw["from"], list) else (*path, "from")
                report.unknown(doc, where, "state", source, states)
        if raw["to"] not in states:
            report.unknown(doc, (*path, "to"), "state", raw["to"], states)
        transitions.append(
            TransitionDef(
                id=raw["id"],
                label=raw.get("label", raw["id"]),
                sources=frozenset(sources),
                target=raw["to"],
                roles=frozenset(raw.get("roles", ("agent",))),
                guard=report.condition(doc, (*path, "when"), raw.get("when"), catalog),
                fields=tuple(raw.get("fields", ())),
                comment=raw.get("comment"),
                after=parse_duration(raw["after"]) if "after" in raw else None,
                actions=report.actions(doc, (*path, "actions"), raw.get("actions"), actions_check),
            )
        )
    on_enter: dict[str, tuple[Action, ...]] = {}
    for state_id, raw_actions in data.get("on_enter", {}).items():
        if state_id not in states:
            report.unknown(doc, ("on_enter", state_id), "state", state_id, states, key=True)
        on_enter[state_id] = report.actions(doc, ("on_enter", state_id), raw_actions, actions_check)
    migrate = _check_migrate(entry, states, report)
    if initial in states and len(report.issues) == before:
        _check_graph(entry, states, initial, transitions, report)
    if any(i.severity == "error" for i in report.issues[before:]):
        return None
    by_source: dict[str, list[TransitionDef]] = {}
    for t in transitions:
        for source in sorted(t.sources):
            by_source.setdefault(source, []).append(t)
    return WorkflowDef(
        id=entry.id,
        name=data.get("name", entry.id),
        initial=initial,
        states=MappingProxyType(states),
        transitions=tuple(transitions),
        on_enter=MappingProxyType(on_enter),
        by_source=MappingProxyType({k: tuple(v) for k, v in by_source.items()}),
        migrate=MappingProxyType(migrate),
    )
