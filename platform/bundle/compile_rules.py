"""Compile the kinds that act across ticket types: teams, calendars, SLA policies,
routing rules and automations, and check the actions they (and workflows) run.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from gongdan.bundle.compile_mail import TemplateNames
from gongdan.bundle.context import BUILTIN_KEYS, Catalog, Entry, Reporter
from gongdan.bundle.yamlio import Document, Path
from gongdan.errors import did_you_mean
from gongdan.rules.actions import Action, Assignment
from gongdan.rules.calendar import Calendar, compile_calendar
from gongdan.rules.durations import parse_duration
from gongdan.rules.routing import Automation, RoutingRule
from gongdan.rules.sla import Escalation, SLAPolicy
from gongdan.rules.teams import Member, Team

__all__ = [
    "ActionChecker",
    "compile_automation",
    "compile_calendars",
    "compile_routing",
    "compile_sla_policy",
    "compile_team",
]

SETTABLE_BUILTINS = ("assignee", "description", "priority", "tags", "team", "title")


class ActionChecker:
    """Checks the references inside actions: teams, fields, transitions, notify targets."""

    def __init__(
        self,
        report: Reporter,
        teams: Collection[str],
        catalog: Catalog,
        user_fields: Collection[str],
        templates: TemplateNames | None = None,
    ) -> None:
        self.report, self.teams, self.catalog, self.user_fields = (
            report,
            teams,
            catalog,
            user_fields,
        )
        self.templates = templates

    def for_transitions(
        self, transition_ids: Collection[str]
    ) -> Callable[[Document, Path, Action], None]:
        def check(doc: Document, path: Path, action: Action) -> None:
            self.check(doc, path, action, transition_ids)

        return check

    def check(
        self, doc: Document, path: Path, action: Action, transition_ids: Collection[str]
    ) -> None:
        report, where = self.report, (*path, action.kind)
        if action.kind == "notify" and self.templates is not None:
            self.templates.check(report, doc, path, action.template)
        if action.kind == "assign":
            self.check_assignment(doc, where, action.value)
        elif action.kind == "set":
            self.check_set(doc, where, action.value)
        elif action.kind == "transition" and action.value not in transition_ids:
            report.unknown(doc, where, "transition", action.value, transition_ids)
        elif action.kind == "notify" and str(action.value).startswith("field:"):
            name = str(action.value).removeprefix("field:")
            if name not in self.user_fields:
                report.error(
                    doc,
                    where,
                    f"'{action.value}' needs a user field '{name}'"
                    f"{did_you_mean(name, self.user_fields)}",
                )

    def check_assignment(self, doc: Document, path: Path, assignment: Assignment) -> None:
        if assignment.team is not None and assignment.team not in self.teams:
            self.report.unknown(doc, (*path, "team"), "team", assignment.team, self.teams)
        if assignment.strategy == "skills" and not assignment.skills:
            self.report.error(doc, (*path, "strategy"), "strategy 'skills' needs a list of skills")
        if assignment.strategy != "manual" and assignment.team is None and assignment.user is None:
            self.report.error(doc, path, f"strategy '{assignment.strategy}' needs a team")

    def check_set(self, doc: Document, path: Path, values: Mapping[str, Any]) -> None:
        fields = self.catalog.fields
        for name, value in values.items():
            info = fields.get(name)
            if info is None or (name not in SETTABLE_BUILTINS and name in _READ_ONLY):
                known = [k for k in fields if k not in _READ_ONLY]
                self.report.error(
                    doc,
                    (*path, name),
                    f"cannot set '{name}': not a settable field{did_you_mean(name, known)}",
                )
            elif (
                info.options is not None
                and not isinstance(value, (list, tuple))
                and (str(value) not in info.options)
            ):
                self.report.error(
                    doc,
                    (*path, name),
                    f"'{value}' is not an option of "
                    f"'{name}'{did_you_mean(str(value), info.options)}",
                )


_READ_ONLY = frozenset(
    {"key", "state", "state_category", "type", "created_at", "updated_at", "requester"}
)


def compile_team(entry: Entry, report: Reporter) -> Team:
    members: list[Member] = []
    seen: set[str] = set()
    for index, raw in enumerate(entry.data.get("members", ())):
        user = raw["user"].strip().lower()
        if user in seen:
            report.error(entry.doc, ("members", index, "user"), f"'{user}' is listed twice")
            continue
        seen.add(user)
        members.append(Member(user, frozenset(raw.get("skills", ())), raw.get("capacity")))
    return Team(entry.id, entry.data["name"], entry.data.get("email"), tuple(members))


def compile_calendars(entries: list[Entry], report: Reporter) -> dict[str, Calendar]:
    calendars: dict[str, Calendar] = {}
    for entry in entries:
        calendar, problems = compile_calendar(entry.id, entry.data)
        for path, message in problems:
            report.error(entry.doc, path, message)
        if calendar is not None:
            calendars[entry.id] = calendar
    return calendars


def compile_sla_policy(
    entry: Entry, catalog: Catalog, calendars: Collection[str], checker: ActionChecker
) -> SLAPolicy:
    doc, data, report = entry.doc, entry.data, checker.report
    if data["calendar"] not in calendars:
        report.unknown(doc, ("calendar",), "calendar", data["calendar"], calendars)
    escalations = []
    for index, raw in enumerate(data.get("escalations", ())):
        if raw["target"] not in data["targets"]:
            report.error(
                doc,
                ("escalations", index, "target"),
                f"this policy has no '{raw['target']}' target",
            )
        at = raw["at"]
        escalations.append(
            Escalation(
                at_percent=None if at == "breach" else int(at.rstrip("%")),
                target=raw["target"],
                actions=report.actions(
                    doc,
                    ("escalations", index, "actions"),
                    raw["actions"],
                    checker.for_transitions(()),
                ),
            )
        )
    return SLAPolicy(
        id=entry.id,
        name=data.get("name", entry.id),
        applies_when=report.condition(doc, ("applies_when",), data.get("applies_when"), catalog),
        calendar=data["calendar"],
        targets={
            t: {p: parse_duration(d) for p, d in by.items()} for t, by in data["targets"].items()
        },
        pause_in=frozenset(data.get("pause_in", ())),
        escalations=tuple(escalations),
    )


def _constrained_types(source: Any) -> list[str] | None:
    """The ticket types a condition's top level pins with `type:`, if any."""
    if not isinstance(source, Mapping) or "type" not in source:
        return None
    value = source["type"]
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value]
    return None


def compile_routing(
    entry: Entry,
    catalog: Catalog,
    type_fields: Mapping[str, Collection[str]],
    checker: ActionChecker,
    reached_end: bool,
) -> tuple[list[RoutingRule], bool]:
    """Compile one RoutingRules document. `reached_end`: an earlier catch-all stops all."""
    doc, report = entry.doc, checker.report
    rules: list[RoutingRule] = []
    for index, raw in enumerate(entry.data["rules"]):
        path: Path = ("rules", index)
        name = raw["name"]
        if reached_end:
            report.warning(
                doc,
                path,
                "this rule is never reached: an earlier rule matches every "
                "ticket and does not `continue`",
            )
        when = report.condition(doc, (*path, "when"), raw.get("when"), catalog)
        pinned = _constrained_types(raw.get("when"))
        if pinned is not None:
            for key in raw["when"]:
                if (
                    key in catalog.fields
                    and key not in BUILTIN_KEYS
                    and not any(key in type_fields.get(t, ()) for t in pinned)
                ):
                    report.warning(
                        doc,
                        (*path, "when", key),
                        f"this rule can never match: {', '.join(pinned)} has no field '{key}'",
                    )
        assign = Assignment.from_config(raw["assign"]) if "assign" in raw else None
        if assign is not None:
            checker.check_assignment(doc, (*path, "assign"), assign)
        if "set" in raw:
            checker.check_set(doc, (*path, "set"), raw["set"])
        continues = raw.get("continue", False)
        if not raw.get("when") and not continues:
            reached_end = True
        rules.append(
            RoutingRule(
                name,
                when,
                assign,
                dict(raw.get("set", {})),
                tuple(raw.get("add_tags", ())),
                continues,
                entry.id,
            )
        )
    return rules, reached_end


def compile_automation(
    entry: Entry, catalog: Catalog, transition_ids: Collection[str], checker: ActionChecker
) -> Automation:
    doc, data, report = entry.doc, entry.data, checker.report
    return Automation(
        id=entry.id,
        name=data.get("name", entry.id),
        on=data["on"],
        every=parse_duration(data["every"]) if "every" in data else None,
        when=report.condition(doc, ("when",), data.get("when"), catalog),
        actions=report.actions(
            doc, ("actions",), data["actions"], checker.for_transitions(transition_ids)
        ),
        enabled=data.get("enabled", True),
    )
