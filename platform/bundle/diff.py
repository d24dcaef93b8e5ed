"""What changed between two compiled bundles: the config half of `gongdan plan`.

`bundle_changes(active, candidate)` lists every thing added, removed or changed, each
as a `Change` (kind, id, what, detail), in a stable order. Compiled values are compared
through `plain`, which turns them back into the plain data they were compiled from (a
condition into its YAML, a duration into `4h`, a time zone into its name; values
derived by a bundle and kept out of equality are left out), so two bundles loaded from
the same files compare equal whatever their version. Parts a reader reasons about on
their own get their own entries: the fields of a ticket type, the states and
transitions of a workflow, the targets of an SLA policy (one per target and priority),
each routing rule (named by its rule set and name; an order change is a change of the
rule set). A changed entry's `detail` names each differing value as `path: old → new`.

Pure: no database, no clock. What the change does to tickets is the engine's part
(`gongdan.engine.plan`).
"""

from __future__ import annotations

import dataclasses
import json
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from gongdan.bundle.compiled import Bundle
from gongdan.rules.conditions import Condition
from gongdan.rules.durations import Duration

__all__ = [
    "ADDED",
    "CHANGED",
    "CHANGE_KINDS",
    "REMOVED",
    "Change",
    "bundle_changes",
    "differences",
    "plain",
]

# The kinds of thing a plan lists, in the order it lists them.
CHANGE_KINDS = (
    "TicketType", "Field", "Workflow", "State", "Transition", "SLAPolicy", "SLATarget",
    "Calendar", "RoutingRules", "RoutingRule", "Automation", "Team", "View", "Template",
    "Mailbox", "Portal",
)  # fmt: skip
ADDED, REMOVED, CHANGED = "added", "removed", "changed"
# How long one value may be in a detail before it is shortened.
_VALUE_WIDTH = 60


@dataclass(frozen=True, slots=True)
class Change:
    """One thing a candidate bundle adds, removes or changes. `id` is dotted where the
    thing lives inside another (`it_incident.category`, `incident.waiting_customer`,
    `standard.resolution.high`); `detail` says how it changed (`path: old → new; …`)."""

    kind: str
    id: str
    what: str  # added | removed | changed
    detail: str = ""

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind, "id": self.id, "what": self.what, "detail": self.detail}


def plain(value: Any) -> Any:
    """`value` as plain data (dicts, lists, text, numbers) for comparing and printing."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, Condition):
        return plain(value.source)
    if isinstance(value, Duration):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, zoneinfo.ZoneInfo):
        return value.key
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.compare and not f.name.startswith("_")
        }
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted((plain(v) for v in value), key=_sort_key)
    if isinstance(value, (list, tuple)):
        keyed = _keyed(value)
        return keyed if keyed is not None else [plain(v) for v in value]
    return str(value)


# A list of things named by their first field, when it is one of these, is compared
# name by name (a team's members by user, a field's options by value): its details
# then say which.
_NAMING_FIELDS = frozenset({"id", "user", "value"})


def _keyed(items: list[Any] | tuple[Any, ...]) -> dict[str, Any] | None:
    if not items or not all(dataclasses.is_dataclass(i) for i in items):
        return None
    first = {dataclasses.fields(i)[0].name for i in items}
    if len(first) != 1 or not first <= _NAMING_FIELDS:
        return None
    names = [getattr(i, next(iter(first))) for i in items]
    if not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
        return None
    return {str(n): plain(i) for n, i in zip(names, items, strict=True)}


def _sort_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else _sort_key(value)
    return text if len(text) <= _VALUE_WIDTH else text[: _VALUE_WIDTH - 1] + "…"


def _scalars(values: list[Any]) -> bool:
    return all(v is None or isinstance(v, (str, int, float, bool)) for v in values)


def _list_differences(old: list[Any], new: list[Any], path: str) -> list[str] | None:
    """How two lists differ, when that can be said better than whole: item by item for
    lists of maps of one length, `+ added, - removed` (or a new order) for lists of
    plain values. None: say it whole."""
    if len(old) == len(new) and all(isinstance(v, dict) for v in (*old, *new)):
        return [
            d
            for n, (a, b) in enumerate(zip(old, new, strict=True))
            for d in differences(a, b, f"{path}[{n}]")
        ]
    if _scalars(old) and _scalars(new):
        moved = [f"+ {_short(v)}" for v in new if v not in old]
        moved += [f"- {_short(v)}" for v in old if v not in new]
        return [f"{path}: {', '.join(moved) if moved else 'another order'}"]
    return None


def differences(old: Any, new: Any, path: str = "") -> list[str]:
    """Each place two plain values differ, as `path: old → new` (dicts are compared key
    by key, lists item by item or as what was added and removed; anything else whole)."""
    if old == new:
        return []
    if isinstance(old, list) and isinstance(new, list):
        found = _list_differences(old, new, path or "value")
        if found is not None:
            return found
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[str] = []
        for key in [*old, *(k for k in new if k not in old)]:
            where = f"{path}.{key}" if path else str(key)
            if key not in new:
                out.append(f"{where}: removed")
            elif key not in old:
                shown = "" if isinstance(new[key], dict) else f" {_short(new[key])}"
                out.append(f"{where}: added{shown}")
            else:
                out.extend(differences(old[key], new[key], where))
        return out
    return [f"{path or 'value'}: {_short(old)} → {_short(new)}"]


def _compare(
    kind: str,
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    *,
    prefix: str = "",
    leave_out: Iterable[str] = (),
    added_detail: Callable[[Any], str] | None = None,
) -> list[Change]:
    """The changes between two maps of things of one kind, by id; `leave_out`: parts
    compared on their own (a type's fields), not in its detail."""
    skipped = set(leave_out)
    out = []
    for key in sorted(old.keys() | new.keys()):
        name = f"{prefix}{key}"
        if key not in new:
            out.append(Change(kind, name, REMOVED))
        elif key not in old:
            detail = added_detail(new[key]) if added_detail is not None else ""
            out.append(Change(kind, name, ADDED, detail))
        else:
            before, after = plain(old[key]), plain(new[key])
            if isinstance(before, dict) and isinstance(after, dict):
                before = {k: v for k, v in before.items() if k not in skipped}
                after = {k: v for k, v in after.items() if k not in skipped}
            found = differences(before, after)
            if found:
                out.append(Change(kind, name, CHANGED, "; ".join(found)))
    return out


def _ticket_types(active: Bundle, candidate: Bundle) -> list[Change]:
    out = _compare(
        "TicketType",
        active.ticket_types,
        candidate.ticket_types,
        leave_out=("fields", "field_map"),
    )
    for type_id in sorted(active.ticket_types.keys() & candidate.ticket_types.keys()):
        out += _compare(
            "Field",
            active.ticket_types[type_id].field_map,
            candidate.ticket_types[type_id].field_map,
            prefix=f"{type_id}.",
            added_detail=lambda f: f"type {f.type}",
        )
    return out


def _workflows(active: Bundle, candidate: Bundle) -> list[Change]:
    out = _compare(
        "Workflow",
        active.workflows,
        candidate.workflows,
        leave_out=("states", "transitions", "by_source"),
    )
    for wf_id in sorted(active.workflows.keys() & candidate.workflows.keys()):
        old, new = active.workflows[wf_id], candidate.workflows[wf_id]
        out += _compare(
            "State",
            old.states,
            new.states,
            prefix=f"{wf_id}.",
            added_detail=lambda s: f"category {s.category}",
        )
        out += _compare(
            "Transition",
            {t.id: t for t in old.transitions},
            {t.id: t for t in new.transitions},
            prefix=f"{wf_id}.",
            added_detail=lambda t: f"{', '.join(sorted(t.sources))} → {t.target}",
        )
    return out


def _sla_targets(bundle: Bundle) -> dict[str, str]:
    return {
        f"{policy.id}.{target}.{priority}": str(duration)
        for policy in bundle.sla_policies
        for target, by_priority in policy.targets.items()
        for priority, duration in by_priority.items()
    }


def _sla(active: Bundle, candidate: Bundle) -> list[Change]:
    old = {p.id: p for p in active.sla_policies}
    new = {p.id: p for p in candidate.sla_policies}
    out = _compare("SLAPolicy", old, new, leave_out=("targets",))
    old_targets, new_targets = _sla_targets(active), _sla_targets(candidate)
    for key in sorted(old_targets.keys() | new_targets.keys()):
        # The targets of a policy added or removed whole go with it.
        if key.split(".", 1)[0] not in old.keys() & new.keys():
            continue
        if key not in new_targets:
            out.append(Change("SLATarget", key, REMOVED, old_targets[key]))
        elif key not in old_targets:
            out.append(Change("SLATarget", key, ADDED, new_targets[key]))
        elif old_targets[key] != new_targets[key]:
            out.append(
                Change("SLATarget", key, CHANGED, f"{old_targets[key]} → {new_targets[key]}")
            )
    # The order of policies decides which applies (the first whose `applies_when` holds).
    common = old.keys() & new.keys()
    if [p for p in old if p in common] != [p for p in new if p in common]:
        out.append(
            Change("SLAPolicy", "(order)", CHANGED, "the policies are tried in another order")
        )
    return out


def _rules_by_name(bundle: Bundle) -> dict[str, dict[str, Any]]:
    """Routing rules per rule set, by name (a repeated name gets `#2`, `#3`…)."""
    out: dict[str, dict[str, Any]] = {}
    for rule in bundle.routing_rules:
        rules = out.setdefault(rule.ruleset, {})
        name, n = rule.title, 1
        while name in rules:
            n += 1
            name = f"{rule.title}#{n}"
        rules[name] = rule
    return out


def _routing(active: Bundle, candidate: Bundle) -> list[Change]:
    old, new = _rules_by_name(active), _rules_by_name(candidate)
    out = _compare("RoutingRules", old, new)
    out = [c for c in out if c.what != CHANGED]  # a rule set's changes are its rules'
    for ruleset in sorted(old.keys() & new.keys()):
        out += _compare("RoutingRule", old[ruleset], new[ruleset], prefix=f"{ruleset}: ")
        common = old[ruleset].keys() & new[ruleset].keys()
        if [r for r in old[ruleset] if r in common] != [r for r in new[ruleset] if r in common]:
            out.append(
                Change("RoutingRules", ruleset, CHANGED, "its rules are tried in another order")
            )
    return out


def bundle_changes(active: Bundle, candidate: Bundle) -> tuple[Change, ...]:
    """Everything `candidate` adds to, removes from or changes in `active`, in the order
    of `CHANGE_KINDS`, then by id."""
    changes = [
        *_ticket_types(active, candidate),
        *_workflows(active, candidate),
        *_sla(active, candidate),
        *_compare("Calendar", active.calendars, candidate.calendars),
        *_routing(active, candidate),
        *_compare("Automation", active.automations, candidate.automations),
        *_compare("Team", active.teams, candidate.teams),
        *_compare("View", active.views, candidate.views),
        *_compare("Template", active.templates, candidate.templates),
        *_compare("Mailbox", active.mailboxes, candidate.mailboxes),
        *_compare("Portal", {"portal": active.portal}, {"portal": candidate.portal}),
    ]
    order = {kind: n for n, kind in enumerate(CHANGE_KINDS)}
    return tuple(sorted(changes, key=lambda c: (order[c.kind], c.id)))
