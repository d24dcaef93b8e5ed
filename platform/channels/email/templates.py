"""Notification templates: admin-written Jinja2 text, run in Jinja2's sandbox.

The loader (`bundle.compile_mail`) has checked each `kind: Template` document;
here its texts are compiled once per bundle, in a `SandboxedEnvironment` (a template
cannot reach Python internals, call unsafe methods or run for ever on big ranges),
with autoescaping off: the mail is plain text. A syntax error becomes a `ConfigIssue`
at the template's file, line and column, like any other config error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import TemplateSyntaxError, Undefined
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from gongdan.bundle.compile_mail import TemplateDef
from gongdan.bundle.compiled import Bundle
from gongdan.bundle.derived import PerBundle
from gongdan.errors import ConfigError, ConfigIssue

__all__ = [
    "BUILTIN",
    "MAX_RENDERED",
    "MailTemplates",
    "Rendered",
    "check_templates",
    "mail_templates",
    "sandbox",
]

MAX_RENDERED = 200_000  # characters of one rendered body: a sandbox guard on loops


@dataclass(frozen=True, slots=True)
class Rendered:
    """A rendered notification: its subject line and plain-text body, and the locale
    actually used (the recipient's, or English when the template lacks it)."""

    subject: str
    body: str
    locale: str


# The text a notification gets when the bundle declares no templates at all.
BUILTIN = TemplateDef(
    id="builtin",
    subject={"en": "{{ ticket.title }}", "zh-CN": "{{ ticket.title }}"},
    body={
        "en": "{{ ticket.key }}: {{ ticket.title }}\nState: {{ ticket.state_label }}\n"
        "{% if comment %}\n{{ comment.author }}:\n{{ comment.body }}\n"
        "{% for f in comment.files %}Attached: {{ f.name }} <{{ f.url }}>\n{% endfor %}{% endif %}"
        "\n--\n{{ ticket.url }}\n",
        "zh-CN": "{{ ticket.key }}：{{ ticket.title }}\n状态：{{ ticket.state_label }}\n"
        "{% if comment %}\n{{ comment.author }}：\n{{ comment.body }}\n"
        "{% for f in comment.files %}附件：{{ f.name }} <{{ f.url }}>\n{% endfor %}{% endif %}"
        "\n--\n{{ ticket.url }}\n",
    },
)


def sandbox() -> SandboxedEnvironment:
    """The sandboxed environment every admin-written text runs in (mails, macros)."""
    return SandboxedEnvironment(
        autoescape=False,  # plain-text mail; nothing here is ever put into HTML
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=Undefined,  # a missing value renders as nothing, never an error
    )


class MailTemplates:
    """The compiled templates of one bundle."""

    def __init__(self, bundle: Bundle) -> None:
        self.version = bundle.version
        self.declared = bool(bundle.templates)
        self.issues: list[ConfigIssue] = []
        self._env = sandbox()
        self._compiled: dict[tuple[str, str, str], Any] = {}
        for template in (*bundle.templates.values(), BUILTIN):
            self._compile(template)
        self._defs = {**bundle.templates, BUILTIN.id: BUILTIN}

    def _compile(self, template: TemplateDef) -> None:
        for part in ("subject", "body"):
            texts = template.subject if part == "subject" else template.body
            for locale, text in texts.items():
                try:
                    self._compiled[template.id, part, locale] = self._env.from_string(text)
                except TemplateSyntaxError as error:
                    self.issues.append(
                        template.issue(
                            part,
                            locale,
                            f"template syntax error at line {error.lineno} of the text: "
                            f"{error.message}",
                        )
                    )

    def has(self, template_id: str) -> bool:
        return template_id in self._defs and template_id != BUILTIN.id

    def render(self, template_id: str | None, locale: str, context: Mapping[str, Any]) -> Rendered:
        """Render `template_id` (the built-in text when the bundle lacks it) in the
        recipient's `locale`, falling back to English. Raises `TemplateError` when the
        template fails at run time (a sandbox violation, a bad filter argument)."""
        template = self._defs.get(template_id or "", BUILTIN)
        used, _ = template.text("body", locale)
        subject = self._run(template, "subject", used, context)
        body = self._run(template, "body", used, context)
        # A subject is one line: a template spanning lines must not inject headers.
        subject = " ".join(subject.split())[:200]
        return Rendered(subject, body, used)

    def _run(
        self, template: TemplateDef, part: str, locale: str, context: Mapping[str, Any]
    ) -> str:
        compiled = self._compiled.get((template.id, part, locale))
        if compiled is None:  # its syntax error was reported at load
            raise TemplateError(f"template '{template.id}' ({part}, {locale}) does not compile")
        try:
            text = str(compiled.render(dict(context)))
        except SecurityError as error:
            raise TemplateError(f"template '{template.id}' was stopped: {error}") from error
        return text[:MAX_RENDERED]


_compiled: PerBundle[MailTemplates] = PerBundle(MailTemplates)


def mail_templates(bundle: Bundle) -> MailTemplates:
    """The compiled templates of `bundle`, compiled once per bundle version; raises
    `ConfigError` with every template syntax error."""
    compiled = _compiled(bundle)
    if compiled.issues:
        raise ConfigError(sorted(compiled.issues))
    return compiled


def check_templates(bundle: Bundle) -> list[ConfigIssue]:
    """Every syntax error of the bundle's templates and macro replies (for `gongdan
    check`, `apply` and start-up)."""
    from gongdan.channels.macro_texts import macro_issues  # (it imports this module)

    return sorted([*MailTemplates(bundle).issues, *macro_issues(bundle)])
