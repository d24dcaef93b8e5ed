"""The mail kinds of the config language: `Template` and `Mailbox`, their schema and
cross-file checks, each mistake reported at its file, line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from gongdan.bundle.loader import check_bundle
from tests.bundles import EXAMPLE, make_bundle

TEMPLATE = 'kind: Template\nsubject: {en: "Done: {{ ticket.title }}", zh-CN: "完成"}\nbody: {en: "Hi", zh-CN: "您好"}\n'
MAILBOX = "kind: Mailbox\naddress: help@example.com\nticket_type: incident\nfields: {category: software}\n"


def issues_of(tmp_path: Path, files: dict[str, str | None]) -> list[str]:
    root = make_bundle(tmp_path, files)
    _, issues = check_bundle(root)
    return [str(i).replace(f"{root}/", "", 1) for i in issues]


def test_the_example_bundle_declares_every_template_it_names() -> None:
    bundle, issues = check_bundle(EXAMPLE)
    assert bundle is not None, issues
    assert {"created", "replied", "requester_replied", "resolved", "sla_warning", "survey"} <= set(
        bundle.templates
    )
    for template in bundle.templates.values():
        assert set(template.subject) == set(template.body) == {"en", "zh-CN"}, template.id
    (box,) = bundle.mailboxes.values()
    assert (box.address, box.ticket_type, box.attachment_field) == (
        "it-support@example.com",
        "it_incident",
        "screenshots",
    )


def test_a_bundle_without_templates_may_name_any(tmp_path: Path) -> None:
    # The minimal bundle names `resolved` and `reminder` and declares no template:
    # those notifications use the built-in text.
    assert issues_of(tmp_path, {}) == []


def test_an_unknown_template_is_an_error_once_templates_are_declared(tmp_path: Path) -> None:
    got = issues_of(tmp_path, {"templates/resolved.yaml": TEMPLATE})
    assert got == ["routing/default.yaml:19:41: actions[0].template: unknown template 'reminder'"]
    got = issues_of(
        tmp_path, {"templates/resolvd.yaml": TEMPLATE, "templates/reminder.yaml": TEMPLATE}
    )
    assert got == [
        "workflows/basic.yaml:34:40: on_enter.done[0].template: unknown template 'resolved' "
        "(did you mean 'resolvd'?)"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "kind: Template\nsubject: Hi\n",
            ["templates/resolved.yaml:1:1: (document): missing required key 'body'"],
        ),
        (
            'kind: Template\nsubject: {en: "Hi", zh-CN: "嗨"}\nbody: {en: "Hello"}\n',
            [
                "templates/resolved.yaml:3:7: body: the subject and the body must be given in "
                "the same languages (subject: en, zh-CN; body: en)"
            ],
        ),
    ],
    ids=["missing body", "languages differ"],
)
def test_template_mistakes(tmp_path: Path, text: str, expected: list[str]) -> None:
    files = {"templates/resolved.yaml": text, "templates/reminder.yaml": TEMPLATE}
    assert issues_of(tmp_path, files) == expected


@pytest.mark.parametrize(
    ("mailbox", "expected"),
    [
        (MAILBOX, []),
        (
            MAILBOX.replace("ticket_type: incident", "ticket_type: incidnt"),
            [
                "mail/help.yaml:3:14: ticket_type: unknown ticket type 'incidnt' (did you mean 'incident'?)"
            ],
        ),
        (
            MAILBOX.replace("fields: {category: software}\n", ""),
            [
                "mail/help.yaml:1:1: (document): ticket type 'incident' requires field 'category': "
                "give mail intake a value for it under fields:"
            ],
        ),
        (
            MAILBOX.replace("category: software", "category: software, titel: x"),
            ["mail/help.yaml:4:30: fields.titel: ticket type 'incident' has no field 'titel'"],
        ),
        (
            MAILBOX + "attachment_field: category\n",
            [
                "mail/help.yaml:5:19: attachment_field: 'category' is not a public attachment "
                "field of ticket type 'incident'"
            ],
        ),
        (
            MAILBOX + "max_size_mb: 0\n",
            ["mail/help.yaml:5:14: max_size_mb: 0 is less than the minimum of 1"],
        ),
    ],
    ids=["valid", "unknown type", "required field", "unknown field", "attachment field", "size"],
)
def test_mailbox_mistakes(tmp_path: Path, mailbox: str, expected: list[str]) -> None:
    assert issues_of(tmp_path, {"mail/help.yaml": mailbox}) == expected


def test_two_mailboxes_may_not_share_an_address(tmp_path: Path) -> None:
    got = issues_of(tmp_path, {"mail/help.yaml": MAILBOX, "mail/other.yaml": MAILBOX})
    assert got == [
        "mail/other.yaml:2:10: address: address 'help@example.com' is already used by mailbox 'help'"
    ]
