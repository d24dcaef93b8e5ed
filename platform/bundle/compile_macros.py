"""Compile `kind: Macro` documents: canned responses an agent applies to tickets.

A macro fills in a reply (Jinja2 text per locale, compiled and run in the sandbox by
`gongdan.channels.macro_texts`, which reports its syntax errors at file:line like a
mail template's), changes fields, adds tags and takes a transition, for the ticket
types and teams it names. Checked here, with the place of each problem in its file:
the types and teams exist, every field it sets belongs to each type it applies to (or
is `priority`, `team` or `assignee`) and takes the value given (as the field checks
typed input), its priority is a built-in one, its team is declared, its assignee is
`me` (whoever applies it), `none` (unassigned) or a member of a declared team (of the
team it sets, when it sets one), and the transition is declared by the workflow of each
type it applies to (by at least one when it names no type).

Pure: no Jinja2 (the engine never imports it; `compile_mail` does the same for
templates).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from gongdan.bundle.compiled import TicketTypeDef
from gongdan.bundle.context import Entry, Reporter
from gongdan.bundle.yamlio import Document
from gongdan.errors import ValidationFailed, did_you_mean
from gongdan.forms.data import check_ticket_data
from gongdan.rules.teams import Team
from gongdan.rules.workflow import WorkflowDef
from gongdan.vocabulary import PRIORITIES

__all__ = ["MACRO_BUILTINS", "MacroDef", "compile_macros"]

# Built-ins a macro may set besides a type's custom fields (team and assignee go through
# the engine's assignment, `tickets.macros`).
MACRO_BUILTINS = ("priority", "team", "assignee")
ME, NOBODY = "me", "none"  # an assignee: whoever applies the macro; nobody
DEFAULT_LOCALE = "en"


@dataclass(frozen=True, slots=True)
class MacroDef:
    """One compiled macro. `types`/`teams` empty: every type, every team."""

    id: str
    name: Any
    description: Any
    reply: Mapping[str, str]  # locale → Jinja2 text; empty: no reply
    public: bool
    set: Mapping[str, Any]
    add_tags: tuple[str, ...]
    transition: str | None
    types: frozenset[str]
    teams: frozenset[str]
    doc: Document | None = field(default=None, compare=False, repr=False)

    def applies_to(self, type_id: str, team_id: str | None) -> bool:
        """Whether the macro is offered for a ticket of `type_id` in `team_id`."""
        if self.types and type_id not in self.types:
            return False
        return not self.teams or team_id in self.teams

    def reply_text(self, locale: str) -> tuple[str, str]:
        """(locale used, text) of the reply in `locale`, falling back to English, then to
        the first locale given; ("", "") when the macro has no reply."""
        if not self.reply:
            return "", ""
        for candidate in (locale, locale.split("-")[0], DEFAULT_LOCALE):
            if candidate in self.reply:
                return candidate, self.reply[candidate]
        first = next(iter(self.reply))
        return first, self.reply[first]


def _check_value(
    report: Reporter, doc: Document, name: str, value: Any, types: list[TicketTypeDef]
) -> None:
    """The value a macro sets, checked as the field checks typed input (an option of a
    select, a number in range…), once: the first type that refuses it says why."""
    for ticket_type in types:
        try:
            check_ticket_data(ticket_type.fields, {name: value}, partial=True)
        except ValidationFailed as error:
            why = error.fields.get(name) or error.detail
            report.error(doc, ("set", name), f"{why} (field '{name}' of '{ticket_type.id}')")
            return


def _check_assignment(
    report: Reporter,
    doc: Document,
    name: str,
    changes: Mapping[str, Any],
    teams: Mapping[str, Team],
) -> None:
    """A macro's `team` is a declared team; its `assignee` is `me`, `none` or a member
    of a declared team (of the team it sets, when it sets one)."""
    value = changes[name]
    if name == "team":
        if str(value) not in teams:
            report.unknown(doc, ("set", "team"), "team", str(value), teams)
        return
    if value in (ME, NOBODY):
        return
    team = teams.get(str(changes.get("team", "")))
    members = (
        {m.user for m in team.members}
        if team
        else {m.user for t in teams.values() for m in t.members}
    )
    if value not in members:
        where = f"of team '{team.id}'" if team else "of any team"
        report.error(
            doc,
            ("set", "assignee"),
            f"unknown user '{value}': not a member {where}"
            f"{did_you_mean(str(value), sorted(members))} (or use '{ME}' or '{NOBODY}')",
        )


def _texts(value: Any) -> Mapping[str, str]:
    if value is None:
        return MappingProxyType({})
    if isinstance(value, str):
        return MappingProxyType({DEFAULT_LOCALE: value})
    return MappingProxyType({str(k): str(v) for k, v in dict(value).items()})


def compile_macros(
    entries: list[Entry],
    ticket_types: Mapping[str, TicketTypeDef],
    workflows: Mapping[str, WorkflowDef],
    known_types: Collection[str],
    known_teams: Collection[str],
    report: Reporter,
    teams: Mapping[str, Team] | None = None,
) -> Mapping[str, MacroDef]:
    """The schema-valid macros by id, in id order; problems go to `report`. Types known
    only by name (their documents have errors of their own) are not checked against."""
    macros: dict[str, MacroDef] = {}
    for entry in sorted(entries, key=lambda e: e.id):
        macro = _compile_macro(
            entry, ticket_types, workflows, known_types, known_teams, report, teams or {}
        )
        if macro is not None:
            macros[entry.id] = macro
    return MappingProxyType(macros)


def _compile_macro(
    entry: Entry,
    ticket_types: Mapping[str, TicketTypeDef],
    workflows: Mapping[str, WorkflowDef],
    known_types: Collection[str],
    known_teams: Collection[str],
    report: Reporter,
    teams: Mapping[str, Team],
) -> MacroDef | None:
    doc, data = entry.doc, entry.data
    before = sum(1 for i in report.issues if i.severity == "error")
    scope = data.get("applies_to") or {}
    types = list(scope.get("types", ()))
    for index, type_id in enumerate(types):
        if type_id not in known_types:
            report.unknown(doc, ("applies_to", "types", index), "ticket type", type_id, known_types)
    for index, team_id in enumerate(scope.get("teams", ())):
        if team_id not in known_teams:
            report.unknown(doc, ("applies_to", "teams", index), "team", team_id, known_teams)
    checked = [ticket_types[t] for t in (types or sorted(ticket_types)) if t in ticket_types]
    changes = dict(data.get("set") or {})
    if "assignee" in changes:
        changes["assignee"] = str(changes["assignee"] or NOBODY).strip().lower()
    for name, value in changes.items():
        if name in ("team", "assignee"):
            _check_assignment(report, doc, name, changes, teams)
            continue
        if name in MACRO_BUILTINS:
            if str(value) not in [str(p) for p in PRIORITIES]:
                report.error(
                    doc,
                    ("set", name),
                    f"unknown priority '{value}'{did_you_mean(str(value), map(str, PRIORITIES))}",
                )
            continue
        lacking = [t.id for t in checked if name not in t.field_map]
        if lacking and (types or len(lacking) == len(checked)):
            names = sorted({f for t in checked for f in t.field_map} | set(MACRO_BUILTINS))
            report.error(
                doc,
                ("set", name),
                f"ticket type '{lacking[0]}' has no field '{name}'{did_you_mean(name, names)}",
                key=True,
            )
            continue
        _check_value(report, doc, name, value, [t for t in checked if name in t.field_map])
    transition = data.get("transition")
    if transition is not None:
        declared = {
            t.workflow: {x.id for x in workflows[t.workflow].transitions}
            for t in checked
            if t.workflow in workflows
        }
        every = sorted({x for ids in declared.values() for x in ids})
        # A type whose workflow is in error is left out: its error is reported there.
        readable = [t for t in checked if t.workflow in declared]
        missing = [t.id for t in readable if transition not in declared[t.workflow]]
        if (types and missing) or (not types and readable and len(missing) == len(readable)):
            where = f"the workflow of '{missing[0]}' has no" if types else "no workflow has a"
            report.error(
                doc,
                ("transition",),
                f"{where} transition '{transition}'{did_you_mean(transition, every)}",
            )
    reply = _texts(data.get("reply"))
    if sum(1 for i in report.issues if i.severity == "error") > before:
        return None
    return MacroDef(
        id=entry.id,
        name=data["name"],
        description=data.get("description"),
        reply=reply,
        public=bool(data.get("public", True)),
        set=MappingProxyType(changes),
        add_tags=tuple(dict.fromkeys(str(t) for t in data.get("add_tags", ()))),
        transition=transition,
        types=frozenset(types),
        teams=frozenset(scope.get("teams", ())),
        doc=doc,
    )
