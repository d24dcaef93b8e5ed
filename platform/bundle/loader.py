"""Load a config directory into a compiled, immutable `Bundle`.

The pipeline (CONVENTIONS.md, "One config pipeline"):

1. parse every `*.yaml`/`*.yml` file with line marks (YAML 1.2, duplicate keys are errors);
2. validate each document against its kind's JSON Schema;
3. check references across files and the sanity of what they declare;
4. compile into frozen values.

Every problem of every file is collected; `load_bundle` raises one `ConfigError` with
all errors, `check_bundle` returns them with the warnings for the CLI.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import os
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path as FsPath
from types import MappingProxyType
from typing import Any

from gongdan.bundle import schemas
from gongdan.bundle.compile_macros import compile_macros
from gongdan.bundle.compile_mail import TemplateNames, compile_mailboxes, compile_templates
from gongdan.bundle.compile_portal import compile_portal
from gongdan.bundle.compile_reports import compile_reports
from gongdan.bundle.compile_rules import (
    ActionChecker,
    compile_automation,
    compile_calendars,
    compile_routing,
    compile_sla_policy,
    compile_team,
)
from gongdan.bundle.compile_ticket_type import (
    CORE_FIELD_KEYS,
    TypeFields,
    build_field,
    check_field,
    check_type_against_workflow,
    compile_fields,
    compile_ticket_type,
)
from gongdan.bundle.compile_views import compile_views
from gongdan.bundle.compile_workflow import compile_workflow
from gongdan.bundle.compiled import Bundle, TicketTypeDef
from gongdan.bundle.context import Catalog, Entry, Reporter
from gongdan.bundle.validate import check_document_schema
from gongdan.bundle.yamlio import Document, parse_documents
from gongdan.errors import ConfigError, ConfigIssue, did_you_mean
from gongdan.forms.shapes import Holds
from gongdan.rules.conditions import FieldInfo
from gongdan.rules.routing import RoutingRule
from gongdan.rules.workflow import WorkflowDef
from gongdan.vocabulary import BUILTIN_FIELDS

__all__ = [
    "bundle_version",
    "check_bundle",
    "check_bundle_sources",
    "config_files",
    "load_bundle",
    "load_sources",
    "relative_sources",
]

# Sub-folders that hold other things than bundle documents.
SKIPPED_DIRS = frozenset({"tests"})
ID_PATTERN = schemas.DEFS["id"]["pattern"]


def _files(root: FsPath) -> list[FsPath]:
    found: list[FsPath] = []
    for folder, dirs, names in os.walk(root):
        here = FsPath(folder)
        dirs[:] = sorted(
            d for d in dirs if not d.startswith(".") and not (here == root and d in SKIPPED_DIRS)
        )
        found.extend(here / n for n in sorted(names) if n.endswith((".yaml", ".yml")))
    return found


def config_files(directory: str | os.PathLike[str]) -> list[FsPath]:
    """The bundle files of a config directory (what `load_sources` reads), in order."""
    root = FsPath(directory)
    return _files(root) if root.is_dir() else []


def load_sources(directory: str | os.PathLike[str]) -> list[tuple[str, bytes]]:
    """(display name, bytes) of every YAML file of a config directory, in a stable order."""
    root = FsPath(directory)
    if not root.is_dir():
        raise ConfigError(
            [ConfigIssue(str(directory), 1, 1, "(directory)", "no such config directory")]
        )
    return [
        (str(FsPath(directory) / path.relative_to(root)), path.read_bytes())
        for path in _files(root)
    ]


class _ParseCache:
    """Files already parsed (and their documents already found schema-valid), by the
    hash of their bytes: a reload re-reads every file but parses and validates again
    only those that changed. Parsing depends on nothing but the bytes, so a hit is
    exactly what parsing again would give (the documents are renamed when the same
    bytes come under another name: a folder's path, then a stored version's).

    Only files that parsed are kept, so a broken file is read again, and reports its
    line, every time. The cache holds the files of the last two loads, no more (a
    process's folder and the version it serves); the documents' values are shared
    between the bundles built from them: no compile step may ever change a document's
    data (`entry.data`), or the next reload would compile the changed value."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._older: dict[bytes, _ParsedFile] = {}
        self._newer: dict[bytes, _ParsedFile] = {}
        self.parsed = 0  # files parsed (misses), for tests and benches
        self.reused = 0  # files taken from the cache (hits)

    def get(self, digest: bytes) -> _ParsedFile | None:
        with self._lock:
            return self._newer.get(digest) or self._older.get(digest)

    def keep(self, used: dict[bytes, _ParsedFile]) -> None:
        """The files of a load just done become the newest generation."""
        with self._lock:
            self._older, self._newer = self._newer, used

    def clear(self) -> None:
        with self._lock:
            self._older, self._newer = {}, {}
            self.parsed = self.reused = 0


@dataclass(frozen=True, slots=True)
class _ParsedFile:
    """A file's documents (those that are not empty) and, per document, the kind it
    was found valid as (None: not checked, or not valid)."""

    documents: tuple[Document, ...]
    valid_as: tuple[str | None, ...]


PARSE_CACHE = _ParseCache()


def _parsed(name: str, content: bytes, used: dict[bytes, _ParsedFile]) -> tuple[bytes, _ParsedFile]:
    """The hash of one file and its documents, from the cache when its bytes were
    parsed before (`ConfigError` when it cannot be parsed)."""
    digest = hashlib.blake2b(content, digest_size=20).digest()
    cached = used.get(digest) or PARSE_CACHE.get(digest)
    if cached is None:
        documents = tuple(d for d in parse_documents(content, name) if d.data is not None)
        cached = _ParsedFile(documents, (None,) * len(documents))
        PARSE_CACHE.parsed += 1
    else:
        PARSE_CACHE.reused += 1
        if cached.documents and cached.documents[0].file != name:
            cached = _ParsedFile(
                tuple(dataclasses.replace(d, file=name) for d in cached.documents),
                cached.valid_as,
            )
    used[digest] = cached
    return digest, cached


def _entries(
    sources: Iterable[tuple[str, bytes]], issues: list[ConfigIssue], unreadable: list[str]
) -> list[Entry]:
    """Pass 1: parse and schema-check every document. Files that cannot be parsed add
    their name to `unreadable`."""
    entries: list[Entry] = []
    first_seen: dict[tuple[str, str], Document] = {}
    used: dict[bytes, _ParsedFile] = {}
    for name, content in sources:
        try:
            digest, parsed = _parsed(name, content, used)
        except ConfigError as error:
            issues.extend(error.issues)
            unreadable.append(FsPath(name).stem)
            continue
        documents = parsed.documents
        valid_as = list(parsed.valid_as)
        stem = FsPath(name).stem
        for index, doc in enumerate(documents):
            data = doc.data
            if not isinstance(data, dict):
                issues.append(
                    doc.issue((), "a config document must be a mapping with kind: and id:")
                )
                continue
            kind = data.get("kind")
            if kind not in schemas.KINDS:
                message = (
                    "missing required key 'kind'"
                    if kind is None
                    else f"unknown kind '{kind}'{did_you_mean(str(kind), schemas.KINDS)}"
                )
                issues.append(doc.issue(("kind",) if kind is not None else (), message))
                continue
            if kind == "Test":  # run by `gongdan test`, never part of the running bundle
                issues.append(doc.issue(("kind",), "a Test belongs in the tests/ folder"))
                continue
            if valid_as[index] == kind:
                problems: list[ConfigIssue] = []
            else:
                problems = check_document_schema(doc, kind)
                if not problems:
                    valid_as[index] = kind
            if "id" not in data:
                if len(documents) > 1:
                    problems.append(
                        doc.issue((), "a file with several documents needs an id: in each")
                    )
                elif not _is_id(stem):
                    problems.append(
                        doc.issue((), f"no id: given and the file name '{stem}' is not a valid id")
                    )
            issues.extend(problems)
            doc_id = str(data.get("id", stem))
            key = (str(kind), doc_id)
            if key in first_seen:
                other = first_seen[key]
                issues.append(
                    doc.issue(
                        ("id",) if "id" in data else (),
                        f"duplicate {kind} id '{doc_id}' (first defined at "
                        f"{other.file}:{other.position[0]})",
                    )
                )
                continue
            first_seen[key] = doc
            valid = not any(p.severity == "error" for p in problems)
            entries.append(Entry(kind, doc_id, doc, valid))
        if tuple(valid_as) != parsed.valid_as:
            used[digest] = _ParsedFile(documents, tuple(valid_as))
    PARSE_CACHE.keep(used)
    return entries


def _is_id(text: str) -> bool:
    import re

    return re.fullmatch(ID_PATTERN.strip("^$"), text) is not None


def _fields_of(entry: Entry, report: Reporter) -> TypeFields:
    """A schema-valid ticket type's fields compiled without their conditions: a pure
    function of the document's value, so kept with the document (a reload whose file
    did not change compiles them no more). Fields with any issue are compiled each
    time, so their messages are reported each time."""
    kept: TypeFields | None = entry.doc.memo.get("fields")
    if kept is not None:
        return kept
    before = len(report.issues)
    fields = compile_fields(entry, report)
    if len(report.issues) == before:
        entry.doc.memo["fields"] = fields
    return fields


def _salvage_fields(entry: Entry) -> TypeFields:
    """Fields of a ticket type that failed its schema, read without reporting anything,
    so the conditions of other documents that name them do not fail as well. `names`
    holds every field id the document declares, the unreadable fields' too."""
    fields = entry.data.get("fields")
    plain = {}
    names: set[str] = set()
    for raw in fields if isinstance(fields, list) else ():
        try:
            if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
                continue
            names.add(raw["id"])
            core = {k: v for k, v in raw.items() if k in CORE_FIELD_KEYS}
            if not any(p.severity == "error" for p in check_field(core)):
                plain[raw["id"]] = build_field(core, required_if=None, visible_if=None)
        except Exception:  # noqa: S112 - best effort on a document already in error
            continue
    return TypeFields({}, plain, ok=False, names=names | set(plain))


def _opaque(entry: Entry) -> bool:
    """Whether a ticket type in error hides which fields it declares (its `fields` is
    not a list of mappings with an id): then any field name may be one of them."""
    fields = entry.data.get("fields", [])
    return not isinstance(fields, list) or any(
        not isinstance(f, dict) or not isinstance(f.get("id"), str) for f in fields
    )


def _tolerate(catalog: Catalog, names: Iterable[str]) -> Catalog:
    """`catalog` where the fields declared but in error (`names`) may be named by a
    condition, with any value: their own error is reported once, at their place."""
    for name in names:
        catalog.fields.setdefault(name, FieldInfo("any"))
    return catalog


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _compile(entries: list[Entry], version: str, report: Reporter, unreadable: list[str]) -> Bundle:
    """Pass 2: references, sanity and compilation of the schema-valid entries.

    Entries that failed their schema take part only by name (and by their fields or
    states where those can be read), so one mistake is reported once, not everywhere
    it is referenced. A file that could not be parsed at all may have declared anything:
    its name counts as a known id of every kind, and conditions accept unknown keys.
    """
    by_kind: dict[str, list[Entry]] = defaultdict(list)
    known: dict[str, list[str]] = defaultdict(lambda: list(unreadable))
    for entry in entries:
        known[entry.kind].append(entry.id)
        if entry.valid:
            by_kind[entry.kind].append(entry)
    # Lenient (conditions accept any key) only when some document may declare fields
    # that cannot be read at all; a type whose fields are merely in error names them.
    report.lenient = bool(unreadable) or any(
        _opaque(e) for e in entries if e.kind == "TicketType" and not e.valid
    )
    all_types = [e for e in entries if e.kind == "TicketType"]
    types_raw = by_kind["TicketType"]
    workflows_raw = {e.id: e for e in entries if e.kind == "Workflow"}
    teams = {e.id: compile_team(e, report) for e in by_kind["Team"]}
    calendars = compile_calendars(by_kind["Calendar"], report)
    all_states = sorted({s for e in workflows_raw.values() for s in _mapping(e.data.get("states"))})
    base = Catalog.builtins(type_ids=known["TicketType"], states=all_states, teams=known["Team"])

    type_fields: dict[str, TypeFields] = {
        e.id: _fields_of(e, report) if e.valid else _salvage_fields(e) for e in all_types
    }
    users_of: dict[str, list[Entry]] = defaultdict(list)
    prefixes: dict[str, Entry] = {}
    for entry in all_types:
        data = entry.data
        if isinstance(data.get("workflow"), str):
            users_of[data["workflow"]].append(entry)
        if not entry.valid:
            continue
        if data["workflow"] not in workflows_raw:
            report.unknown(entry.doc, ("workflow",), "workflow", data["workflow"], workflows_raw)
        if "sla" in data and data["sla"] not in known["SLAPolicy"]:
            report.unknown(entry.doc, ("sla",), "SLA policy", data["sla"], known["SLAPolicy"])
        if data["key_prefix"] in prefixes:
            report.error(
                entry.doc,
                ("key_prefix",),
                f"key prefix '{data['key_prefix']}' is "
                f"already used by ticket type '{prefixes[data['key_prefix']].id}'",
            )
        prefixes.setdefault(data["key_prefix"], entry)

    all_fields = [f for tf in type_fields.values() for f in tf.plain.values()]
    # Fields declared but in error: named elsewhere without a second error.
    broken = {t: tf.names - set(tf.plain) for t, tf in type_fields.items()}
    infos: dict[int, FieldInfo] = {}
    everything = _tolerate(base.with_fields(all_fields, infos), set().union(*broken.values()))
    user_fields = {f.id for f in all_fields if f.holds is Holds.PEOPLE}
    template_names = TemplateNames(
        frozenset(known["Template"]), strict=any(e.kind == "Template" for e in entries)
    )
    checker = ActionChecker(report, known["Team"], everything, user_fields, template_names)

    workflows: dict[str, WorkflowDef] = {}
    for wf_id, entry in workflows_raw.items():
        users = users_of.get(wf_id, [])
        if not entry.valid:
            continue
        if not users:
            report.warning(entry.doc, (), f"workflow '{wf_id}' is not used by any ticket type")
        wf_fields = [f for u in users for f in type_fields[u.id].plain.values()]
        wf_broken = {name for u in users for name in broken[u.id]}
        wf_catalog = _tolerate(base.with_fields(wf_fields, infos), wf_broken)
        wf_checker = ActionChecker(
            report,
            known["Team"],
            wf_catalog,
            {f.id for f in wf_fields if f.holds is Holds.PEOPLE},
            template_names,
        )
        for user in users:
            if user.valid:
                check_type_against_workflow(user, type_fields[user.id].plain, entry, report)
        # An unused workflow's guards may name fields of types yet to be written.
        lenient, report.lenient = report.lenient, report.lenient or not users
        compiled = compile_workflow(entry, wf_catalog, report, wf_checker.for_transitions)
        report.lenient = lenient
        if compiled is not None:
            workflows[wf_id] = compiled

    ticket_types: dict[str, TicketTypeDef] = {}
    for entry in types_raw:
        wf = workflows_raw.get(entry.data["workflow"])
        states = _mapping(wf.data.get("states")) if wf is not None else {}
        catalog = _tolerate(
            base.with_fields(type_fields[entry.id].plain.values(), infos), broken[entry.id]
        )
        catalog.fields["state"] = FieldInfo("string", frozenset(states))
        compiled_type = compile_ticket_type(entry, type_fields[entry.id], catalog, states, report)
        if compiled_type is not None:
            ticket_types[entry.id] = compiled_type

    policies = [
        compile_sla_policy(e, everything, known["Calendar"], checker) for e in by_kind["SLAPolicy"]
    ]
    rules: list[RoutingRule] = []
    reached_end = False
    names = {tid: set(tf.plain) | tf.names for tid, tf in type_fields.items()}
    for entry in by_kind["RoutingRules"]:
        more, reached_end = compile_routing(entry, everything, names, checker, reached_end)
        rules.extend(more)
    transition_ids = {
        t["id"]
        for e in workflows_raw.values()
        for t in _list(e.data.get("transitions"))
        if isinstance(t, dict) and isinstance(t.get("id"), str)
    }
    automations = {
        e.id: compile_automation(e, everything, transition_ids, checker)
        for e in by_kind["Automation"]
    }
    portal = compile_portal(by_kind["Portal"], report)
    templates = compile_templates(by_kind["Template"], report)
    mailboxes = compile_mailboxes(
        by_kind["Mailbox"],
        report,
        {t: tf.plain for t, tf in type_fields.items() if tf.ok},
        BUILTIN_FIELDS,
        unchecked=[t for t in known["TicketType"] if t not in ticket_types],
    )
    field_types: dict[str, set[str]] = defaultdict(set)
    for f in all_fields:
        field_types[f.id].add(f.type)
    for name in set().union(*broken.values()):
        field_types.setdefault(name, set())  # a column of unknown type: see compile_views
    state_categories: dict[str, set[str]] = defaultdict(set)
    for workflow in workflows.values():
        for state in workflow.states.values():
            state_categories[state.id].add(state.category)
    views = compile_views(
        by_kind["View"], everything, field_types, known["Team"], report, state_categories
    )
    reports = compile_reports(
        by_kind["Report"],
        everything,
        {t: tf.plain for t, tf in type_fields.items()},
        field_types,
        policies,
        report,
        declared={n for tf in type_fields.values() for n in tf.names if n not in tf.plain},
        teams=known["Team"],
    )
    macros = compile_macros(
        by_kind["Macro"], ticket_types, workflows, known["TicketType"], known["Team"], report,
        teams,
    )  # fmt: skip
    return Bundle(
        version=version,
        ticket_types=MappingProxyType(ticket_types),
        workflows=MappingProxyType(workflows),
        calendars=MappingProxyType(calendars),
        sla_policies=tuple(policies),
        routing_rules=tuple(rules),
        automations=MappingProxyType(automations),
        teams=MappingProxyType(teams),
        warnings=tuple(sorted(i for i in report.issues if i.severity == "warning")),
        approval_fields=frozenset(
            role.removeprefix("field:")
            for workflow in workflows.values()
            for transition in workflow.transitions
            for role in transition.roles
            if role.startswith("field:")
        ),
        portal=portal,
        templates=templates,
        mailboxes=mailboxes,
        views=MappingProxyType(dict(sorted(views.items()))),
        reports=MappingProxyType(reports),
        macros=macros,
    )


def bundle_version(sources: Iterable[tuple[str, bytes]]) -> str:
    """A content hash of the bundle: equal files give an equal version."""
    digest = hashlib.sha256()
    for name, content in sources:
        digest.update(FsPath(name).as_posix().encode() + b"\0" + content + b"\0")
    return digest.hexdigest()[:16]


def relative_sources(
    sources: Iterable[tuple[str, bytes]], directory: str | os.PathLike[str]
) -> list[tuple[str, bytes]]:
    """`sources` of `directory` named by their paths inside it (POSIX), in the same
    order: what a version is the hash of and what the database keeps, so a bundle has
    one version wherever its folder lies."""
    root = FsPath(directory)
    return [(FsPath(name).relative_to(root).as_posix(), content) for name, content in sources]


def check_bundle_sources(
    sources: list[tuple[str, bytes]], *, version: str | None = None
) -> tuple[Bundle | None, list[ConfigIssue]]:
    """Every problem (errors and warnings) of a bundle given as (name, bytes) pairs;
    its `version` is the hash of `sources` unless given."""
    issues: list[ConfigIssue] = []
    unreadable: list[str] = []
    # Loading allocates hundreds of thousands of small objects that all stay alive:
    # the cyclic garbage collector would rescan them again and again for nothing.
    collecting = gc.isenabled()
    gc.disable()
    try:
        entries = _entries(sources, issues, unreadable)
        report = Reporter()
        bundle = _compile(entries, version or bundle_version(sources), report, unreadable)
    finally:
        if collecting:
            # Hand what the load allocated straight to the oldest generation (freeze then
            # unfreeze moves objects without scanning them): the compiled bundle lives as
            # long as the process, so young-generation passes over it would be wasted.
            gc.freeze()
            gc.unfreeze()
            gc.enable()
    issues.extend(report.issues)
    issues.sort()
    if any(i.severity == "error" for i in issues):
        return None, issues
    return bundle, issues


def check_bundle(directory: str | os.PathLike[str]) -> tuple[Bundle | None, list[ConfigIssue]]:
    """Load and check a config directory; the bundle is None when there are errors."""
    try:
        sources = load_sources(directory)
    except ConfigError as error:
        return None, list(error.issues)
    return check_bundle_sources(
        sources, version=bundle_version(relative_sources(sources, directory))
    )


def load_bundle(directory: str | os.PathLike[str]) -> Bundle:
    """The compiled bundle of a config directory, or `ConfigError` with every error."""
    bundle, issues = check_bundle(directory)
    if bundle is None:
        raise ConfigError(issues)
    return bundle
