"""`bundle_changes` names every kind of change a candidate bundle makes, with what
changed: one case per kind, each an edit of the example bundle and the changes a plan
must list for it, exactly."""

from __future__ import annotations

from pathlib import Path

import pytest

from gongdan.bundle.compiled import Bundle
from gongdan.bundle.diff import bundle_changes
from gongdan.bundle.loader import load_bundle
from tests.bundles import EXAMPLE, edit_bundle, make_bundle

Edits = dict[str, list[tuple[str, str]]]

PRINTER = """\
kind: TicketType
id: printer
name: {en: Printer, zh-CN: 打印机}
key_prefix: PRN
workflow: incident
fields:
  - {id: floor, type: integer, label: {en: Floor, zh-CN: 楼层}}
  - {id: resolution_code, type: text, label: {en: Resolution, zh-CN: 解决方式}}
"""

CASES: list[tuple[str, Edits, dict[str, str | None], list[tuple[str, str, str, str]]]] = [
    (
        "a ticket type added",
        {},
        {"ticket_types/printer.yaml": PRINTER},
        [("TicketType", "printer", "added", "")],
    ),
    (
        "a ticket type changed",
        {"ticket_types/it_incident.yaml": [("key_prefix: INC", "key_prefix: ITI")]},
        {},
        [("TicketType", "it_incident", "changed", "key_prefix: INC → ITI")],
    ),
    (
        "a field removed, one retyped, one added",
        {
            "ticket_types/it_incident.yaml": [
                (
                    "      fields: [title, description, category, device_serial, impact]",
                    "      fields: [title, description, category, device_serial]",
                ),
                (
                    "      fields: [category, device_serial, impact, screenshots]",
                    "      fields: [category, device_serial, screenshots]",
                ),
                (
                    "    - when: {impact: company}\n      set: urgent\n"
                    "    - when: {impact: team}\n      set: high\n",
                    "",
                ),
                ("  rules:\n", "  rules: []\n"),
                ("  - id: impact\n", "  - id: impact_gone\n"),
                (
                    "  - id: device_serial\n    type: text",
                    "  - id: device_serial\n    type: textarea",
                ),
            ],
            "routing/default.yaml": [
                ("when: {type: it_incident, impact: company}", "when: {type: it_incident}")
            ],
            "mailboxes/it_support.yaml": [
                ("fields: {category: software, impact: me}", "fields: {category: software}")
            ],
        },
        {},
        [
            ("TicketType", "it_incident", "changed", "*"),
            ("Field", "it_incident.device_serial", "changed", "type: text → textarea"),
            ("Field", "it_incident.impact", "removed", ""),
            ("Field", "it_incident.impact_gone", "added", "type select"),
            (
                "RoutingRule",
                "default: Company-wide IT outages are major incidents",
                "changed",
                "when.impact: removed",
            ),
            ("Mailbox", "it_support", "changed", "fields.impact: removed"),
        ],
    ),
    (
        "a state added, a transition added and two changed",
        {
            "workflows/incident.yaml": [
                (
                    "  resolved:         {category: resolved",
                    "  on_hold:          {category: pending}\n  resolved:         {category: resolved",
                ),
                (
                    "    from: [resolved]\n    to: in_progress",
                    "    from: [resolved, on_hold]\n    to: in_progress",
                ),
                (
                    "    roles: [requester]\n    comment: optional",
                    "    roles: [requester, agent]\n    comment: optional",
                ),
                (
                    "  - id: withdraw\n",
                    "  - id: hold\n    from: [in_progress]\n    to: on_hold\n  - id: withdraw\n",
                ),
            ],
        },
        {},
        [
            ("State", "incident.on_hold", "added", "category pending"),
            ("Transition", "incident.hold", "added", "in_progress → on_hold"),
            (
                "Transition",
                "incident.reopen",
                "changed",
                "sources: + on_hold",
            ),
            (
                "Transition",
                "incident.withdraw",
                "changed",
                "roles: + agent",
            ),
        ],
    ),
    (
        "an SLA target changed and one removed",
        {
            "sla/policies.yaml": [
                (
                    "{urgent: 4h, high: 1d, normal: 3d, low: 5d}",
                    "{urgent: 2h, high: 1d, normal: 3d}",
                )
            ]
        },
        {},
        [
            ("SLATarget", "it_standard.resolution.low", "removed", "5d"),
            ("SLATarget", "it_standard.resolution.urgent", "changed", "4h → 2h"),
        ],
    ),
    (
        "an SLA policy's pause states changed",
        {"sla/policies.yaml": [("pause_in: [pending]", "pause_in: [pending, resolved]")]},
        {},
        [
            (
                "SLAPolicy",
                "it_standard",
                "changed",
                "pause_in: + resolved",
            )
        ],
    ),
    (
        "a calendar's hours changed",
        {
            "sla/calendars.yaml": [
                ("mon-fri: [09:00-12:00, 13:30-18:00]", "mon-fri: [08:00-12:00, 13:00-17:00]")
            ]
        },
        {},
        [("Calendar", "cn_business", "changed", "*")],
    ),
    (
        "routing rules reordered",
        {
            "routing/default.yaml": [
                (
                    "  - name: {en: Stopped production lines, zh-CN: 产线停线}\n"
                    "    when: {type: equipment_maintenance, line_stopped: true}\n"
                    "    add_tags: [line_down]\n    continue: true\n",
                    "",
                ),
                (
                    "  - name: {en: Company-wide IT outages",
                    "  - name: {en: Stopped production lines, zh-CN: 产线停线}\n"
                    "    when: {type: equipment_maintenance, line_stopped: true}\n"
                    "    add_tags: [line_down]\n    continue: true\n"
                    "  - name: {en: Company-wide IT outages",
                ),
            ]
        },
        {},
        [("RoutingRules", "default", "changed", "its rules are tried in another order")],
    ),
    (
        "an automation disabled, one added",
        {
            "routing/automations.yaml": [
                ("on: sla.breached\n", "on: sla.breached\nenabled: false\n")
            ]
        },
        {
            "routing/nudge.yaml": "kind: Automation\non: ticket.created\nactions: [{add_tags: [new]}]\n"
        },
        [
            ("Automation", "notify_team_on_breach", "changed", "enabled: true → false"),
            ("Automation", "nudge", "added", ""),
        ],
    ),
    (
        "a team member's capacity changed and a member added",
        {
            "teams/service_desk.yaml": [
                ("capacity: 20}", "capacity: 25}"),
                ("  - {user: zhang.min", "  - {user: new.agent@example.com}\n  - {user: zhang.min"),
            ]
        },
        {},
        [
            (
                "Team",
                "service_desk",
                "changed",
                "members.li.wei@example.com.capacity: 20 → 25; "
                "members.new.agent@example.com: added",
            )
        ],
    ),
    (
        "a view, a template, a mailbox and the portal changed",
        {
            "views/urgent_incidents.yaml": [("direction: asc", "direction: desc")],
            "templates/created.yaml": [("We received your request:", "Request received:")],
            "mailboxes/it_support.yaml": [("max_size_mb: 25", "max_size_mb: 10")],
            "portal.yaml": [("self_signup: true", "self_signup: false")],
        },
        {},
        [
            ("View", "urgent_incidents", "changed", "descending: false → true"),
            ("Template", "created", "changed", "*"),
            ("Mailbox", "it_support", "changed", "max_size_mb: 25 → 10"),
            ("Portal", "portal", "changed", "self_signup: true → false"),
        ],
    ),
]


@pytest.fixture(scope="module")
def example() -> Bundle:
    return load_bundle(EXAMPLE)


def test_the_same_files_make_no_change(example: Bundle, tmp_path: Path) -> None:
    assert bundle_changes(example, load_bundle(make_bundle(tmp_path, base=EXAMPLE))) == ()


@pytest.mark.parametrize(
    ("edits", "files", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_each_kind_of_change_is_named_with_what_changed(
    example: Bundle,
    tmp_path: Path,
    edits: Edits,
    files: dict[str, str | None],
    expected: list[tuple[str, str, str, str]],
) -> None:
    candidate = load_bundle(edit_bundle(make_bundle(tmp_path, files, base=EXAMPLE), edits))
    got = [(c.kind, c.id, c.what, c.detail) for c in bundle_changes(example, candidate)]
    # A detail of "*" is long (labels, nested values): it only has to be there.
    shown = [
        (*g[:3], "*" if e[3] == "*" and g[3] else g[3]) for g, e in zip(got, expected, strict=False)
    ]
    assert shown == expected[: len(got)]
    assert len(got) == len(expected), got


def test_reverse_changes_mirror(example: Bundle, tmp_path: Path) -> None:
    candidate = load_bundle(
        make_bundle(tmp_path, {"ticket_types/printer.yaml": PRINTER}, base=EXAMPLE)
    )
    assert [(c.kind, c.id, c.what) for c in bundle_changes(candidate, example)] == [
        ("TicketType", "printer", "removed")
    ]
