"""The admin console's save pipeline (`ConfigEditor`): a file edited as data keeps every
line it did not change; an invalid edit is refused with `gongdan check`'s file:line
errors and nothing is written; a file changed on disk since it was opened is never
overwritten; a change that would strand open tickets is refused as `apply` refuses it;
a save promotes the new version (source `editor`, by the admin), writes the files and,
in a git work tree, commits them with the admin as author and their message."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from gongdan.bundle.edits import FileChange
from gongdan.bundle.roundtrip import unified_diff
from gongdan.engine import (
    Author,
    ConfigEditor,
    EditConflict,
    LiveConfig,
    SaveRefused,
    start_config,
    version_log,
)
from gongdan.engine.lifecycle.promote import read_folder
from gongdan.engine.store.database import Database
from tests.bundles import EXAMPLE, NO_ROUTING, NO_WAITING_WORKFLOW, make_bundle
from tests.engine.lifecycle.test_refuse_and_migrate import waiting_tickets

ADMIN = Author("Wang Fang", "wang.fang@example.com")
# A hand-written file: comments, flow mappings, aligned values, quotes, a blank line.
HAND_WRITTEN = """\
# The incident form. Keep the labels short: the desk shows them in narrow columns.
kind: TicketType
id: incident
name: {en: Incident, zh-CN: 故障}   # shown in the portal's list
key_prefix: "INC"
workflow: basic

fields:
  # What broke.
  - id: category
    type: select
    label: {en: Category, zh-CN: 类别}
    options: [hardware, software]
    required: true
  - id: serial
    type: text
    pattern: "^[A-Z0-9-]{6,20}$"
    visible_if: {category: hardware}
    required_if: {category: hardware}
  - id: amount
    type: number
    min: 0
  - id: approver
    type: user
forms:
  create: [title, description, category, serial]
  agent:  [priority, category, amount]   # aligned by hand
priority:
  default: normal
  rules:
    - when: {amount: {gt: 1000}}
      set: high
"""


def changed_lines(old: str, new: str) -> list[str]:
    diff = unified_diff("f.yaml", old, new).splitlines()
    return [line for line in diff[2:] if line[:1] in "+-"]


@pytest.fixture
def live(db: Database, tmp_path: Path) -> LiveConfig:
    root = make_bundle(tmp_path, {"ticket_types/incident.yaml": HAND_WRITTEN})
    return start_config(db, root, mode="manual")


def test_a_hand_written_file_edited_as_data_differs_on_the_changed_line_only(
    live: LiveConfig,
) -> None:
    editor = ConfigEditor(live)
    opened = editor.open("ticket_types/incident.yaml")
    assert opened.yaml is not None and opened.yaml.dump() == HAND_WRITTEN
    opened.yaml.documents[0]["fields"][0]["label"]["en"] = "Kind of problem"

    saved = editor.save([opened.change(opened.yaml.dump())], ADMIN, "Rename the category")

    written = (live.directory / "ticket_types/incident.yaml").read_text(encoding="utf-8")  # type: ignore[operator]
    assert changed_lines(HAND_WRITTEN, written) == [
        "-    label: {en: Category, zh-CN: 类别}",
        "+    label: {en: Kind of problem, zh-CN: 类别}",
    ]
    assert saved.promotion.outcome == "activated" and saved.commit is None
    assert (
        live.bundle.ticket_types["incident"].field_map["category"].label["en"] == "Kind of problem"
    )
    assert saved.promotion.version == read_folder(live.directory).version  # type: ignore[arg-type]


def test_every_example_file_reads_back_as_written(tmp_path: Path) -> None:
    from gongdan.bundle.roundtrip import YamlFile

    for path in sorted(EXAMPLE.rglob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        assert YamlFile.parse(text, path.name).dump() == text, path


def test_an_invalid_edit_is_refused_with_file_line_errors_and_nothing_is_written(
    live: LiveConfig,
) -> None:
    editor = ConfigEditor(live)
    opened = editor.open("ticket_types/incident.yaml")
    broken = HAND_WRITTEN.replace("workflow: basic", "workflow: basics")
    proposal = editor.check([opened.change(broken)])
    assert not proposal.ok and proposal.bundle is None
    shown = [str(e) for e in proposal.errors]
    assert any(s.startswith("ticket_types/incident.yaml:6:11: workflow: ") for s in shown), shown
    assert any("did you mean 'basic'" in s for s in shown)

    mistyped = HAND_WRITTEN.replace("    type: number", "    type: numbr")
    typed = editor.check([opened.change(mistyped)]).issues_at(
        "ticket_types/incident.yaml", "fields", 2
    )
    assert [(i.line, i.parts) for i in typed] == [(21, ("fields", 2, "type"))]
    assert "did you mean 'number'" in typed[0].message

    versions = len(version_log(live.db))
    with pytest.raises(SaveRefused) as refused:
        editor.save([opened.change(broken)], ADMIN, "Break it")
    assert refused.value.proposal.errors
    assert (live.directory / "ticket_types/incident.yaml").read_text(  # type: ignore[operator]
        encoding="utf-8"
    ) == HAND_WRITTEN
    assert len(version_log(live.db)) == versions


def test_a_file_changed_on_disk_since_it_was_opened_is_never_overwritten(
    live: LiveConfig,
) -> None:
    editor = ConfigEditor(live)
    opened = editor.open("ticket_types/incident.yaml")
    target = live.directory / "ticket_types/incident.yaml"  # type: ignore[operator]
    theirs = HAND_WRITTEN.replace('key_prefix: "INC"', 'key_prefix: "INS"')
    target.write_text(theirs, encoding="utf-8")

    mine = HAND_WRITTEN.replace("en: Incident,", "en: Breakdown,")
    assert editor.propose([opened.change(mine)]).conflicts == ("ticket_types/incident.yaml",)
    with pytest.raises(EditConflict) as conflict:
        editor.save([opened.change(mine)], ADMIN, "Rename")
    assert conflict.value.paths == ("ticket_types/incident.yaml",)
    assert target.read_text(encoding="utf-8") == theirs
    # A new file where one has appeared meanwhile is a conflict too.
    (live.directory / "teams/extra.yaml").write_text("kind: Team\nid: extra\n")  # type: ignore[operator]
    with pytest.raises(EditConflict):
        editor.save([FileChange.new_file("teams/extra.yaml", "kind: Team\nid: x\n")], ADMIN)


def test_the_proposal_shows_the_diff_and_the_plan(live: LiveConfig) -> None:
    editor = ConfigEditor(live)
    opened = editor.open("ticket_types/incident.yaml")
    proposal = editor.propose(
        [opened.change(HAND_WRITTEN.replace("en: Incident,", "en: Breakdown,"))]
    )
    assert proposal.ok and proposal.plan is not None and proposal.refusal is None
    (diff,) = proposal.diffs
    assert "-name: {en: Incident, zh-CN: 故障}" in diff.diff
    assert "+name: {en: Breakdown, zh-CN: 故障}" in diff.diff
    assert any(c.kind == "ticket type" or "incident" in c.id for c in proposal.plan.changes)


def test_a_change_that_strands_open_tickets_is_refused_as_apply_refuses_it(
    db: Database, tmp_path: Path
) -> None:
    # (The macro that asks the requester and waits names the transition the change
    # removes.)
    edits = {**NO_ROUTING, "macros/ask_for_serial.yaml": None}
    root = make_bundle(tmp_path / "live", edits, base=EXAMPLE)
    shutil.rmtree(root / "tests")  # (its cases name the state the change removes)
    live = start_config(db, root, mode="manual")
    waiting_tickets(db, live.bundle, 2)
    editor = ConfigEditor(live)
    opened = editor.read("workflows/incident.yaml")
    change = opened.change(NO_WAITING_WORKFLOW)

    proposal = editor.propose([change])
    assert proposal.refusal is not None and "2 tickets not closed" in proposal.refusal
    with pytest.raises(SaveRefused) as refused:
        editor.save([change], ADMIN, "Drop waiting")
    assert "2 tickets not closed" in str(refused.value)
    assert (root / "workflows/incident.yaml").read_text(encoding="utf-8") == opened.text


def test_new_and_deleted_files_are_saved_and_recorded_as_the_admins_edit(
    live: LiveConfig,
) -> None:
    editor = ConfigEditor(live)
    team = "kind: Team\nid: facilities\nname: {en: Facilities, zh-CN: 行政后勤}\n"
    saved = editor.save([FileChange.new_file("teams/facilities.yaml", team)], ADMIN, "Add")
    assert "facilities" in live.bundle.teams
    assert saved.paths == ("teams/facilities.yaml",)
    latest = version_log(live.db)[0]
    assert (latest.source, latest.activated_by) == ("editor", "Wang Fang <wang.fang@example.com>")

    gone = editor.read("teams/facilities.yaml").change(None)
    editor.save([gone], ADMIN, "Remove")
    assert not (live.directory / "teams/facilities.yaml").exists()  # type: ignore[operator]
    assert "facilities" not in live.bundle.teams


@pytest.mark.parametrize(
    "path", ["../outside.yaml", "/etc/x.yaml", ".git/x.yaml", "a.txt", "tests/t.yaml"]
)
def test_only_bundle_files_inside_the_folder_can_be_edited(live: LiveConfig, path: str) -> None:
    from gongdan.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        ConfigEditor(live).save([FileChange.new_file(path, "kind: Team\nid: x\n")], ADMIN)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_a_save_in_a_git_work_tree_commits_with_the_admin_as_author(
    live: LiveConfig,
) -> None:
    root = live.directory
    assert root is not None
    git = ["git", "-C", str(root)]
    subprocess.run([*git, "init", "--quiet"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run(
        [*git, "-c", "user.name=Ops", "-c", "user.email=ops@example.com", "commit", "-qm", "Start"],
        check=True,
    )
    (root / "notes.txt").write_text("not part of the save\n")

    editor = ConfigEditor(live)
    opened = editor.read("ticket_types/incident.yaml")
    saved = editor.save(
        [opened.change(HAND_WRITTEN.replace("en: Incident,", "en: Breakdown,"))],
        ADMIN,
        "Call incidents breakdowns\n\nAsked by the plant.",
    )

    assert saved.commit is not None and saved.commit_error is None
    shown = subprocess.run(
        [*git, "log", "-1", "--format=%an <%ae>|%s|%b", "--name-only"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert shown.startswith("Wang Fang <wang.fang@example.com>|Call incidents breakdowns|")
    assert "Asked by the plant." in shown and "ticket_types/incident.yaml" in shown
    status = subprocess.run(
        [*git, "status", "--porcelain"], check=True, capture_output=True, text=True
    ).stdout
    assert status.strip() == "?? notes.txt"


def test_a_change_that_breaks_the_bundles_own_tests_is_refused_as_check_refuses_it(
    db: Database, tmp_path: Path
) -> None:
    edits = {**NO_ROUTING, "macros/ask_for_serial.yaml": None}  # (it names the transition)
    root = make_bundle(tmp_path / "live", edits, base=EXAMPLE)
    live = start_config(db, root, mode="manual")
    editor = ConfigEditor(live)
    opened = editor.read("workflows/incident.yaml")
    proposal = editor.check([opened.change(NO_WAITING_WORKFLOW)])
    assert any(e.file.startswith("tests/") for e in proposal.errors), proposal.errors
    assert not proposal.ok


def test_check_gives_the_draft_bundle_compiled_for_previews(live: LiveConfig) -> None:
    editor = ConfigEditor(live)
    opened = editor.open("ticket_types/incident.yaml")
    renamed = HAND_WRITTEN.replace("{en: Category, zh-CN: 类别}", "{en: Kind, zh-CN: 种类}")
    proposal = editor.check([opened.change(renamed)])
    assert proposal.ok and proposal.bundle is not None
    assert proposal.bundle.ticket_types["incident"].field_map["category"].label["en"] == "Kind"
    # Only checked: the active bundle and the file are as they were.
    assert live.bundle.ticket_types["incident"].field_map["category"].label["en"] == "Category"


def test_the_folder_status_is_checked_again_only_when_the_folder_changes(
    live: LiveConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks = []
    real = ConfigEditor.check
    monkeypatch.setattr(ConfigEditor, "check", lambda self, c: checks.append(1) or real(self, c))
    first = ConfigEditor(live).status()
    again = ConfigEditor(live).status()  # a new editor, as each request makes
    assert again is first and len(checks) == 1 and first.errors == 0
    path = live.directory / "ticket_types/incident.yaml"  # type: ignore[operator]
    path.write_text(HAND_WRITTEN.replace("workflow: basic", "workflow: basics"), encoding="utf-8")
    changed = ConfigEditor(live).status()
    assert len(checks) == 2 and changed.errors == 1
    assert ConfigEditor(live).status() is changed and len(checks) == 2
