"""Notification templates: compiled once per bundle in Jinja2's sandbox, syntax errors
reported like other config errors, rendered in the recipient's language."""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2.exceptions import TemplateError

from gongdan.bundle.loader import load_bundle
from gongdan.channels.email.templates import check_templates, mail_templates
from gongdan.cli import main
from gongdan.errors import ConfigError
from tests.bundles import EXAMPLE
from tests.channels.email.conftest import mail_bundle_dir

CONTEXT = {
    "recipient": {"name": "Chen Jing", "email": "chen.jing@customer.cn", "language": "zh-CN"},
    "ticket": {
        "key": "INC-7",
        "title": "Laptop does not boot",
        "description": "Black screen.",
        "state_label": "In progress",
        "priority": "high",
        "type_name": "IT incident",
        "requester_name": "Chen Jing",
        "assignee": "li.wei@example.com",
        "assignee_name": "Li Wei",
        "fields": {},
        "url": "https://desk.test/portal/tickets/INC-7",
    },
    "comment": {"author": "Li Wei", "body": "Please restart.", "public": True},
    "sla": {"target": "resolution", "target_label": "resolution", "due": "2026-11-02T17:00"},
    "survey_url": "https://desk.test/portal/tickets/INC-7/survey",
}


def test_every_example_template_renders_in_both_languages() -> None:
    bundle = load_bundle(EXAMPLE)
    templates = mail_templates(bundle)
    assert check_templates(bundle) == []
    for template_id in bundle.templates:
        english = templates.render(template_id, "en", CONTEXT)
        chinese = templates.render(template_id, "zh-CN", CONTEXT)
        assert english.locale == "en" and chinese.locale == "zh-CN"
        assert english.subject and "\n" not in english.subject
        if template_id != "password_reset":  # about an account, not a ticket
            assert "INC-7" in english.body + english.subject, template_id
        assert english.body != chinese.body


def test_a_template_without_the_recipients_language_falls_back_to_english(tmp_path: Path) -> None:
    root = mail_bundle_dir(
        tmp_path,
        {"templates/reminder.yaml": "kind: Template\nsubject: Reminder\nbody: Please answer.\n"},
    )
    rendered = mail_templates(load_bundle(root)).render("reminder", "zh-CN", CONTEXT)
    assert (rendered.subject, rendered.body, rendered.locale) == (
        "Reminder",
        "Please answer.",
        "en",
    )


def test_a_syntax_error_is_reported_at_its_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = 'kind: Template\nsubject: {en: "Hi", zh-CN: "嗨"}\nbody:\n  en: "Hello {{ ticket.title"\n  zh-CN: "好"\n'
    root = mail_bundle_dir(tmp_path, {"templates/reminder.yaml": broken})
    bundle = load_bundle(root)  # the engine cannot see Jinja2 syntax ...
    (issue,) = check_templates(bundle)  # ... the mail channel can
    assert str(issue).replace(f"{root}/", "") == (
        "templates/reminder.yaml:4:7: body.en: template syntax error at line 1 of the text: "
        "unexpected end of template, expected 'end of print statement'."
    )
    with pytest.raises(ConfigError):
        mail_templates(bundle)

    assert main(["check", str(root)]) == 1
    out = capsys.readouterr().out
    assert "templates/reminder.yaml:4:7: body.en: template syntax error" in out


def test_the_sandbox_stops_a_template_reaching_python_internals(tmp_path: Path) -> None:
    evil = (
        "kind: Template\nsubject: x\n"
        "body: \"{{ ''.__class__.__mro__[1].__subclasses__() }}{{ ticket.title.__globals__ }}\"\n"
    )
    bundle = load_bundle(mail_bundle_dir(tmp_path, {"templates/reminder.yaml": evil}))
    with pytest.raises(TemplateError):
        mail_templates(bundle).render("reminder", "en", CONTEXT)


def test_subjects_stay_on_one_line(tmp_path: Path) -> None:
    multi = 'kind: Template\nsubject: "{{ ticket.title }}\\nBcc: victim@example.com"\nbody: x\n'
    bundle = load_bundle(mail_bundle_dir(tmp_path, {"templates/reminder.yaml": multi}))
    rendered = mail_templates(bundle).render("reminder", "en", CONTEXT)
    assert rendered.subject == "Laptop does not boot Bcc: victim@example.com"
