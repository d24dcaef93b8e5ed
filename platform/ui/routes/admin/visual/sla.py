"""The SLA policy and calendar editors' form → document mapping: targets per priority,
pause categories, escalations; working hours per weekday (written back as day ranges
like `mon-fri` where days share their hours), holidays and make-up workdays (调休)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from gongdan.rules.calendar import WEEKDAYS
from gongdan.rules.conditions import FieldInfo
from gongdan.ui.routes.admin.visual.actions import posted_actions, write_actions
from gongdan.ui.routes.admin.visual.conditions import posted_tree, write_condition
from gongdan.ui.routes.admin.visual.controls import Posted
from gongdan.ui.routes.admin.visual.document import set_posted, set_value
from gongdan.ui.routes.admin.visual.ticket_type import edit_condition
from gongdan.vocabulary import PRIORITIES

__all__ = [
    "TARGETS",
    "apply_calendar",
    "apply_sla_policy",
    "hours_by_day",
    "new_calendar",
    "new_sla_policy",
]

TARGETS = ("first_response", "resolution")


def new_sla_policy(policy_id: str, calendar: str) -> str:
    return (
        "kind: SLAPolicy\n"
        f"id: {policy_id}\n"
        "name: {en: New SLA policy, zh-CN: 新 SLA 策略}\n"
        f"calendar: {calendar}\n"
        "targets:\n"
        "  first_response: {urgent: 30m, high: 1h, normal: 4h, low: 1d}\n"
        "  resolution: {urgent: 4h, high: 1d, normal: 3d, low: 5d}\n"
        "pause_in: [pending]\n"
    )


def new_calendar(calendar_id: str) -> str:
    return (
        "kind: Calendar\n"
        f"id: {calendar_id}\n"
        "timezone: Asia/Shanghai\n"
        "hours:\n"
        "  mon-fri: [09:00-12:00, 13:30-18:00]\n"
    )


def apply_sla_policy(
    doc: CommentedMap, posted: Posted, op: str, infos: Mapping[str, FieldInfo]
) -> None:
    set_posted(doc, posted, ("id", "calendar"))
    targets = doc.get("targets")
    if not isinstance(targets, CommentedMap):
        targets = doc["targets"] = CommentedMap()
    for target in TARGETS:
        typed = {p: posted.text(f"targets.{target}.{p}") for p in PRIORITIES}
        if all(v is None for v in typed.values()):
            continue
        row = targets.get(target)
        wanted = {p: v for p, v in typed.items() if v}
        if isinstance(row, CommentedMap):
            for p in PRIORITIES:
                set_value(row, p, wanted.get(p))
        else:
            set_value(targets, target, wanted or None)
    if posted.flag("pause_in") is not None:
        set_value(doc, "pause_in", posted.texts("pause_in"))
    tree = posted_tree(posted.form, "applies_when")
    if tree is not None:
        write_condition(doc, "applies_when", tree, infos)
    escalations = doc.get("escalations")
    if isinstance(escalations, list):
        for index, raw in enumerate(escalations):
            where = f"escalations[{index}]"
            if not isinstance(raw, CommentedMap) or posted.text(f"{where}.at") is None:
                continue
            at = posted.text(f"{where}.at")
            set_value(raw, "at", at)
            set_value(raw, "target", posted.text(f"{where}.target"))
            actions = posted_actions(posted.form, f"{where}.actions", infos)
            if actions is not None:
                write_actions(raw, "actions", actions)
    parts = op.split("|") if op else []
    if parts[:1] == ["add-escalation"]:
        if not isinstance(escalations, CommentedSeq):
            escalations = doc["escalations"] = CommentedSeq()
        escalations.append(
            CommentedMap(
                [("at", "80%"), ("target", "resolution"), ("actions", [{"notify": "team"}])]
            )
        )
    elif parts[:1] == ["remove-escalation"] and isinstance(escalations, list):
        index = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else -1
        if 0 <= index < len(escalations):
            escalations.pop(index)
    elif parts[:1] == ["cond"] and len(parts) == 4:
        edit_condition(doc, parts[2], parts[1], parts[3], posted, infos)


def hours_by_day(hours: Any) -> dict[str, list[str]]:
    """Working intervals per weekday (`mon` … `sun`) from a calendar's `hours`."""
    week: dict[str, list[str]] = {day: [] for day in WEEKDAYS}
    if not isinstance(hours, Mapping):
        return week
    for spec, intervals in hours.items():
        first, _, last = str(spec).partition("-")
        if first not in WEEKDAYS or (last or first) not in WEEKDAYS:
            continue
        for day in WEEKDAYS[WEEKDAYS.index(first) : WEEKDAYS.index(last or first) + 1]:
            week[day] = [str(i) for i in intervals or ()]
    return week


def _hours_of(week: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """Days with the same hours joined into ranges (`mon-fri`)."""
    out: dict[str, list[str]] = {}
    start = 0
    for index in range(1, len(WEEKDAYS) + 1):
        if index < len(WEEKDAYS) and week[WEEKDAYS[index]] == week[WEEKDAYS[start]]:
            continue
        if week[WEEKDAYS[start]]:
            last = index - 1
            key = WEEKDAYS[start] if last == start else f"{WEEKDAYS[start]}-{WEEKDAYS[last]}"
            out[key] = week[WEEKDAYS[start]]
        start = index
    return out


def _dates(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [d.strip() for d in text.replace(",", "\n").splitlines() if d.strip()]


def apply_calendar(
    doc: CommentedMap, posted: Posted, op: str, infos: Mapping[str, FieldInfo]
) -> None:
    set_posted(doc, posted, ("id", "timezone"))
    typed = {day: posted.items(f"hours.{day}") for day in WEEKDAYS}
    if all(v is not None for v in typed.values()):
        week = {day: v or [] for day, v in typed.items()}
        if week != hours_by_day(doc.get("hours")):
            set_value(doc, "hours", _hours_of(week), style=False)
            for value in doc["hours"].values():
                if isinstance(value, CommentedSeq):
                    value.fa.set_flow_style()
    for key in ("holidays", "workdays"):
        dates = _dates(posted.text(key))
        if dates is None:
            continue
        old = doc.get(key)
        if isinstance(old, CommentedSeq) and [str(d) for d in old] == dates:
            continue  # untouched: its comments stay
        if isinstance(old, CommentedSeq) and dates and [str(d) for d in old] == dates[: len(old)]:
            old.extend(dates[len(old) :])  # dates added at the end: the others keep their comments
            continue
        set_value(doc, key, CommentedSeq(dates) if dates else None, style=False)
