"""Compile the mail kinds: notification `Template`s and intake `Mailbox`es.

A `Template` holds a subject and a body per locale as Jinja2 text. The engine never
imports Jinja2 (DESIGN.md: layers), so the loader checks what it can see here (ids,
locales, references to templates) and keeps each template's `Document`, so that
`gongdan.channels.email.templates` can compile the text once per bundle and report a syntax
error at its file, line and column like any other config error.

A `Mailbox` says what intake does with mail sent to an address: which ticket type a
new mail becomes, with which default fields, where attachments go and how large a
mail may be.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from gongdan.bundle.context import Entry, Reporter
from gongdan.bundle.yamlio import Document, Path
from gongdan.errors import ConfigIssue, did_you_mean
from gongdan.forms.fields import FieldDef
from gongdan.forms.shapes import Holds

__all__ = [
    "DEFAULT_MAX_SIZE_MB",
    "MailboxDef",
    "TemplateDef",
    "TemplateNames",
    "compile_mailboxes",
    "compile_templates",
]

DEFAULT_MAX_SIZE_MB = 25
DEFAULT_LOCALE = "en"


@dataclass(frozen=True, slots=True)
class TemplateDef:
    """A notification template: Jinja2 text per locale for the subject and the body.
    A plain string in YAML is stored as the English (and only) text."""

    id: str
    subject: Mapping[str, str]
    body: Mapping[str, str]
    doc: Document | None = field(default=None, compare=False, repr=False)

    def text(self, part: str, locale: str) -> tuple[str, str]:
        """(locale used, text) of `part` (subject or body) in `locale`, falling back to
        English, then to the first locale given."""
        texts = self.subject if part == "subject" else self.body
        for candidate in (locale, locale.split("-")[0], DEFAULT_LOCALE):
            if candidate in texts:
                return candidate, texts[candidate]
        first = next(iter(texts))
        return first, texts[first]

    def issue(self, part: str, locale: str, message: str) -> ConfigIssue:
        """A problem in the text of `part` in `locale`, located in its file."""
        if self.doc is None:
            return ConfigIssue(f"template {self.id}", 1, 1, f"{part}.{locale}", message)
        texts = self.doc.data.get(part)
        path: Path = (part, locale) if isinstance(texts, dict) else (part,)
        return self.doc.issue(path, message)


@dataclass(frozen=True, slots=True)
class MailboxDef:
    """Where mail to `address` goes: a new mail becomes a ticket of `ticket_type` with
    the `fields` given; its attachments go into `attachment_field` (None: the type has
    no attachment field and attachments are listed in the description, not kept)."""

    id: str
    address: str
    ticket_type: str
    fields: Mapping[str, Any]
    priority: str | None
    attachment_field: str | None
    max_size_mb: int
    language: str
    # Mail authenticity (docs/security.md): the receiving host whose
    # Authentication-Results count (None: the From address is taken as it is), and
    # what an unverified mail becomes ("hold" or "new_ticket").
    authserv_id: str | None = None
    unverified: str = "hold"
    # Whether a new ticket copies in the mail's Cc'd addresses (issue 21: CC).
    add_cc: bool = False


@dataclass(frozen=True, slots=True)
class TemplateNames:
    """The templates `notify` actions may name. Once a bundle declares templates, a
    name that is not one of them is an error; a bundle that declares none (a test
    bundle, a first draft) sends every notification with the built-in text."""

    known: Collection[str]
    strict: bool  # the bundle declares templates

    def check(self, report: Reporter, doc: Document, path: Path, name: str | None) -> None:
        if name is not None and self.strict and name not in self.known:
            report.unknown(doc, (*path, "template"), "template", name, self.known)


def _texts(value: Any) -> Mapping[str, str]:
    if isinstance(value, str):
        return MappingProxyType({DEFAULT_LOCALE: value})
    return MappingProxyType({str(k): str(v) for k, v in dict(value).items()})


def compile_templates(entries: list[Entry], report: Reporter) -> Mapping[str, TemplateDef]:
    """The schema-valid templates by id. A template that gives the subject and the body
    in different locales is an error: a recipient would get a mail half in one
    language."""
    templates: dict[str, TemplateDef] = {}
    for entry in entries:
        subject, body = _texts(entry.data["subject"]), _texts(entry.data["body"])
        if set(subject) != set(body):
            report.error(
                entry.doc,
                ("body",),
                "the subject and the body must be given in the same languages "
                f"(subject: {', '.join(sorted(subject))}; body: {', '.join(sorted(body))})",
            )
            continue
        templates[entry.id] = TemplateDef(entry.id, subject, body, entry.doc)
    return MappingProxyType(templates)


def compile_mailboxes(
    entries: list[Entry],
    report: Reporter,
    type_fields: Mapping[str, Mapping[str, FieldDef]],
    builtins: Collection[str],
    unchecked: Collection[str] = (),
) -> Mapping[str, MailboxDef]:
    """The schema-valid mailboxes by id, with their ticket type, default fields and
    attachment field checked against the types (`type_fields`: type id → its fields;
    `unchecked`: types known by name only, whose documents have errors of their own)."""
    mailboxes: dict[str, MailboxDef] = {}
    addresses: dict[str, str] = {}
    for entry in entries:
        data, doc = entry.data, entry.doc
        address = str(data["address"]).strip().lower()
        if address in addresses:
            report.error(
                doc,
                ("address",),
                f"address '{address}' is already used by mailbox '{addresses[address]}'",
            )
            continue
        addresses[address] = entry.id
        type_id = str(data["ticket_type"])
        fields = type_fields.get(type_id)
        if type_id in unchecked:
            continue
        if fields is None:
            report.unknown(doc, ("ticket_type",), "ticket type", type_id, type_fields)
            continue
        defaults = dict(data.get("fields") or {})
        if not _check_defaults(report, doc, type_id, fields, defaults, builtins):
            continue
        attachment_field = _attachment_field(report, doc, type_id, fields, data)
        mailboxes[entry.id] = MailboxDef(
            id=entry.id,
            address=address,
            ticket_type=type_id,
            fields=MappingProxyType(defaults),
            priority=data.get("priority"),
            attachment_field=attachment_field,
            max_size_mb=int(data.get("max_size_mb", DEFAULT_MAX_SIZE_MB)),
            language=str(data.get("language", DEFAULT_LOCALE)),
            authserv_id=(data.get("authentication") or {}).get("authserv_id"),
            unverified=str((data.get("authentication") or {}).get("unverified", "hold")),
            add_cc=bool(data.get("add_cc", False)),
        )
    return MappingProxyType(mailboxes)


def _check_defaults(
    report: Reporter,
    doc: Document,
    type_id: str,
    fields: Mapping[str, FieldDef],
    defaults: dict[str, Any],
    builtins: Collection[str],
) -> bool:
    ok = True
    for name in defaults:
        if name not in fields:
            hint = " (built-in fields are not set here)" if name in builtins else ""
            report.error(
                doc,
                ("fields", name),
                f"ticket type '{type_id}' has no field '{name}'{hint}{did_you_mean(name, fields)}",
                key=True,
            )
            ok = False
    for f in fields.values():
        if f.required and f.default is None and f.id not in defaults and f.holds is not Holds.FILES:
            report.error(
                doc,
                ("fields",) if "fields" in doc.data else (),
                f"ticket type '{type_id}' requires field '{f.id}': give mail intake a value "
                f"for it under fields:",
            )
            ok = False
    return ok


def _attachment_field(
    report: Reporter,
    doc: Document,
    type_id: str,
    fields: Mapping[str, FieldDef],
    data: Mapping[str, Any],
) -> str | None:
    named = data.get("attachment_field")
    candidates = [f.id for f in fields.values() if f.holds is Holds.FILES and not f.internal]
    if named is None:
        multiple = [c for c in candidates if fields[c].params.get("multiple")]
        chosen = multiple or candidates
        return chosen[0] if chosen else None
    if named not in candidates:
        report.error(
            doc,
            ("attachment_field",),
            f"'{named}' is not a public attachment field of ticket type '{type_id}'"
            f"{did_you_mean(str(named), candidates)}",
        )
        return None
    return str(named)
