"""A bundle's own declarative tests (`kind: Test`, in the bundle's `tests/` folder),
checked and compiled.

The same pipeline as every kind: parse with line marks, each document against the
`Test` JSON Schema, then the references against the compiled bundle (ticket types,
fields, states, transitions, teams, user fields), every problem at once with file,
line and column. What comes out is plain frozen values that keep where each
expectation was written (`Where`), so `gongdan test` reports a failure at its line.
The tests are not part of the `Bundle`: changing one never changes the running
bundle or its version. Running them is the CLI's business (`gongdan.cli.bundle_test`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path as FsPath
from typing import Any

from gongdan.bundle.compiled import Bundle, TicketTypeDef
from gongdan.bundle.validate import check_document_schema
from gongdan.bundle.yamlio import Document, Path, parse_documents
from gongdan.errors import ConfigError, ConfigIssue, did_you_mean
from gongdan.rules.durations import Duration, parse_duration
from gongdan.vocabulary import EDITABLE_BUILTINS

__all__ = [
    "DEFAULT_CREATED_AT",
    "TESTS_DIR",
    "Case",
    "Check",
    "Person",
    "Step",
    "Suite",
    "TicketSpec",
    "Where",
    "load_tests",
]

TESTS_DIR = "tests"
# When a test's ticket does not say `created_at`: a Monday morning in Shanghai.
DEFAULT_CREATED_AT = "2026-11-02T10:00:00+08:00"
DEFAULT_REQUESTER = "requester@example.com"
_PERSON_COLUMNS = ("email", "role", "name", "organization", "language")


@dataclass(frozen=True, slots=True)
class Where:
    """Where something was written: a document and the path inside it."""

    doc: Document
    path: Path

    def issue(self, message: str, *, key: bool = False) -> ConfigIssue:
        return self.doc.issue(self.path, message, key=key)

    def __truediv__(self, part: str | int) -> Where:
        return Where(self.doc, (*self.path, part))


@dataclass(frozen=True, slots=True)
class Person:
    """An account a test needs: role, profile columns and attributes (tier, …)."""

    email: str
    role: str = "requester"
    name: str | None = None
    organization: str | None = None
    language: str = "en"
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Check:
    """One expectation: `what` (state, priority, tags, team, assignee, strategy,
    sla_policy, sla.<target>, fields.<id>, transitions) and the value expected; for
    transitions, `who` names the actor."""

    what: str
    expected: Any
    where: Where
    who: str | None = None


@dataclass(frozen=True, slots=True)
class Step:
    """One thing that happens to the ticket: `transition`, `macro`, `comment`,
    `update`, `assign` or `after` (time passes), by `by`, then its checks."""

    action: str
    value: Any
    by: str | None
    fields: Mapping[str, Any]
    comment: str | None
    internal: bool
    refused: bool | str
    checks: tuple[Check, ...]
    where: Where
    duration: Duration | None = None


@dataclass(frozen=True, slots=True)
class TicketSpec:
    type: str
    values: Mapping[str, Any]  # title, description, fields, priority for `create_ticket`
    requester: Person
    by: str | None
    created_at: datetime
    where: Where
    refused: bool | str = False  # the create must be refused (text: the error says it)


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    ticket: TicketSpec
    checks: tuple[Check, ...]
    steps: tuple[Step, ...]
    where: Where


@dataclass(frozen=True, slots=True)
class Suite:
    """One `kind: Test` document."""

    id: str
    file: str
    people: tuple[Person, ...]
    cases: tuple[Case, ...]


def tests_sources(directory: str | os.PathLike[str]) -> list[tuple[str, bytes]]:
    """(display name, bytes) of every YAML file under the bundle's `tests/` folder."""
    root = FsPath(directory) / TESTS_DIR
    if not root.is_dir():
        return []
    paths = sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    return [
        (str(FsPath(directory) / p.relative_to(FsPath(directory))), p.read_bytes()) for p in paths
    ]


def load_tests(
    directory: str | os.PathLike[str], bundle: Bundle | None
) -> tuple[list[Suite], list[ConfigIssue]]:
    """The test suites of a bundle directory and every problem in them. Without a
    bundle (it has errors of its own) only the schema is checked."""
    issues: list[ConfigIssue] = []
    suites: list[Suite] = []
    seen: dict[str, Document] = {}
    for name, content in tests_sources(directory):
        try:
            documents = [d for d in parse_documents(content, name) if d.data is not None]
        except ConfigError as error:
            issues.extend(error.issues)
            continue
        for doc in documents:
            data = doc.data
            if not isinstance(data, dict) or data.get("kind") != "Test":
                kind = data.get("kind") if isinstance(data, dict) else None
                issues.append(
                    doc.issue(
                        ("kind",) if kind is not None else (),
                        f"only kind: Test belongs in {TESTS_DIR}/"
                        + (f" (found '{kind}')" if kind is not None else ""),
                    )
                )
                continue
            problems = check_document_schema(doc, "Test")
            issues.extend(problems)
            if any(p.severity == "error" for p in problems):
                continue
            suite_id = str(data.get("id", FsPath(name).stem))
            if suite_id in seen:
                issues.append(
                    doc.issue(
                        ("id",) if "id" in data else (),
                        f"duplicate Test id '{suite_id}' (first defined at "
                        f"{seen[suite_id].file}:{seen[suite_id].position[0]})",
                    )
                )
                continue
            seen[suite_id] = doc
            suite = _compile_suite(doc, suite_id, bundle, issues)
            if suite is not None:
                suites.append(suite)
    issues.sort()
    return suites, issues


def _person(raw: Any, where: Where, default_role: str = "requester") -> Person:
    if isinstance(raw, str):
        return Person(raw.strip().lower(), default_role)
    return Person(
        email=str(raw["email"]).strip().lower(),
        role=str(raw.get("role", default_role)),
        name=raw.get("name"),
        organization=raw.get("organization"),
        language=str(raw.get("language", "en")),
        attributes={k: v for k, v in raw.items() if k not in _PERSON_COLUMNS},
    )


class _SuiteCompiler:
    """Checks one Test document against the bundle, reporting into `issues`."""

    def __init__(self, bundle: Bundle | None, issues: list[ConfigIssue]) -> None:
        self.bundle, self.issues = bundle, issues
        self.failed = False

    def error(self, where: Where, message: str, *, key: bool = False) -> None:
        self.issues.append(where.issue(message, key=key))
        self.failed = True

    def unknown(
        self, where: Where, what: str, name: str, known: Any, *, of: str = "", key: bool = False
    ) -> None:
        hint = did_you_mean(name, list(known))
        self.error(where, f"unknown {what} '{name}'{f' of {of}' if of else ''}{hint}", key=key)

    # References ----------------------------------------------------------------------

    def fields(self, ttype: TicketTypeDef | None, values: Mapping[str, Any], where: Where) -> None:
        if ttype is None:
            return
        for key in values:
            if key not in ttype.field_map:
                self.unknown(
                    where / key, "field", key, ttype.field_map, of=f"'{ttype.id}'", key=True
                )

    def actor(self, ttype: TicketTypeDef | None, who: str | None, where: Where) -> None:
        if who is None or ttype is None or not who.startswith("field:"):
            return
        name = who.removeprefix("field:")
        if name not in ttype.field_map:
            self.unknown(where, "field", name, ttype.field_map, of=f"'{ttype.id}'")

    def transition(self, ttype: TicketTypeDef | None, name: str, where: Where) -> None:
        if ttype is None or self.bundle is None:
            return
        workflow = self.bundle.workflows.get(ttype.workflow)
        if workflow is not None and name not in {t.id for t in workflow.transitions}:
            self.unknown(
                where,
                "transition",
                name,
                [t.id for t in workflow.transitions],
                of=f"workflow '{workflow.id}'",
            )

    def checks(
        self, ttype: TicketTypeDef | None, raw: Mapping[str, Any], where: Where
    ) -> tuple[Check, ...]:
        out: list[Check] = []
        bundle = self.bundle
        workflow = bundle.workflows.get(ttype.workflow) if bundle and ttype else None
        for what, expected in raw.items():
            at = where / what
            if what == "state" and workflow is not None and expected not in workflow.states:
                self.unknown(at, "state", expected, workflow.states, of=f"workflow '{workflow.id}'")
            if what == "team" and bundle and expected is not None and expected not in bundle.teams:
                self.unknown(at, "team", expected, bundle.teams)
            if what == "sla_policy" and bundle and expected and not bundle.sla_policy(expected):
                self.unknown(at, "SLA policy", expected, [p.id for p in bundle.sla_policies])
            if what == "fields":
                self.fields(ttype, expected, at)
                out.extend(Check(f"fields.{k}", v, at / k) for k, v in expected.items())
            elif what == "sla":
                for target, instant in expected.items():
                    value = _instant(instant) if instant is not None else None
                    out.append(Check(f"sla.{target}", value, at / target))
            elif what == "transitions":
                for who, ids in expected.items():
                    self.actor(ttype, who, at / who)
                    for index, name in enumerate(ids):
                        self.transition(ttype, name, at / who / index)
                    out.append(Check("transitions", tuple(ids), at / who, who=who))
            else:
                out.append(Check(what, expected, at))
        return tuple(out)

    def step(self, ttype: TicketTypeDef | None, raw: Mapping[str, Any], where: Where) -> Step:
        by = raw.get("by")
        self.actor(ttype, by, where / "by")
        fields = raw.get("fields", {})
        self.fields(ttype, fields, where / "fields")
        duration = None
        if "transition" in raw:
            action, value = "transition", raw["transition"]
            self.transition(ttype, value, where / "transition")
        elif "macro" in raw:  # a canned response (`kind: Macro`), its reply as written
            action, value = "macro", raw["macro"]
            if self.bundle is not None and value not in self.bundle.macros:
                self.unknown(where / "macro", "macro", value, self.bundle.macros)
        elif "update" in raw:
            action, value = "update", raw["update"]
            if ttype is not None:
                for key in value:
                    if key not in ttype.field_map and key not in EDITABLE_BUILTINS:
                        known = [*ttype.field_map, *EDITABLE_BUILTINS]
                        self.unknown(where / "update" / key, "field", key, known, key=True)
        elif "assign" in raw:
            action, value = "assign", raw["assign"]
            team = value.get("team")
            if self.bundle is not None and team is not None and team not in self.bundle.teams:
                self.unknown(where / "assign" / "team", "team", team, self.bundle.teams)
        elif "after" in raw:
            action, value = "after", raw["after"]
            duration = parse_duration(value)
        else:
            action, value = "comment", raw["comment"]
        if "fields" in raw and action != "transition":
            self.error(where / "fields", "fields: only goes with a transition", key=True)
        if action == "after" and ("by" in raw or "refused" in raw):
            self.error(where / "after", "time passing has no 'by' and cannot be refused")
        return Step(
            action=action,
            value=value,
            by=by,
            fields=fields,
            comment=raw.get("comment") if action in ("transition", "macro") else None,
            internal=bool(raw.get("internal", False)),
            refused=raw.get("refused", False),
            checks=self.checks(ttype, raw.get("expect", {}), where / "expect"),
            where=where,
            duration=duration,
        )

    def case(self, raw: Mapping[str, Any], where: Where) -> Case:
        spec = raw["ticket"]
        at = where / "ticket"
        ttype = None
        if self.bundle is not None:
            ttype = self.bundle.ticket_types.get(spec["type"])
            if ttype is None:
                self.unknown(at / "type", "ticket type", spec["type"], self.bundle.ticket_types)
        self.fields(ttype, spec.get("fields", {}), at / "fields")
        self.actor(ttype, spec.get("by"), at / "by")
        values = {k: spec[k] for k in ("title", "description", "fields", "priority") if k in spec}
        values.setdefault("title", raw["name"][:300])
        ticket = TicketSpec(
            type=spec["type"],
            values=values,
            requester=_person(spec.get("requester", DEFAULT_REQUESTER), at / "requester"),
            by=spec.get("by"),
            created_at=_instant(spec.get("created_at", DEFAULT_CREATED_AT)),
            where=at,
            refused=spec.get("refused", False),
        )
        if ticket.refused:
            for part in ("expect", "steps"):
                if part in raw:
                    self.error(where / part, f"a refused ticket has no {part}", key=True)
        steps = tuple(
            self.step(ttype, step, where / "steps" / index)
            for index, step in enumerate(raw.get("steps", ()))
        )
        return Case(
            name=raw["name"],
            ticket=ticket,
            checks=self.checks(ttype, raw.get("expect", {}), where / "expect"),
            steps=steps,
            where=where,
        )


def _instant(text: str) -> datetime:
    # The schema's pattern admits only ISO 8601 instants with an offset.
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _compile_suite(
    doc: Document, suite_id: str, bundle: Bundle | None, issues: list[ConfigIssue]
) -> Suite | None:
    data = doc.data
    top = Where(doc, ())
    compiler = _SuiteCompiler(bundle, issues)
    people: dict[str, Person] = {}
    for index, raw in enumerate(data.get("people", ())):
        person = _person(raw, top / "people" / index)
        if person.email in people:
            compiler.error(top / "people" / index / "email", f"'{person.email}' is listed twice")
        people[person.email] = person
    cases = tuple(
        compiler.case(raw, top / "cases" / index) for index, raw in enumerate(data["cases"])
    )
    if compiler.failed:
        return None
    return Suite(suite_id, doc.file, tuple(people.values()), cases)
