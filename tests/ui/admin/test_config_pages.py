"""The console's config pages, as an admin uses them: the tree of kinds and files with
their status and the active version; the YAML page's review (diff, plan summary) and
save (a new active version, recorded as the admin's edit); a conflicting save refused
with the file on disk untouched; an invalid one refused with file:line errors and
nothing written; the version history and a diff between two versions."""

from __future__ import annotations

import pytest

from gongdan.engine import ConfigEditor, version_log
from tests.ui.admin.conftest import Console

TEAM = "teams/escalation.yaml"


def test_the_tree_shows_kinds_files_status_and_the_active_version(console: Console) -> None:
    page = console.admin.get("/admin")
    assert page.status_code == 200
    html = page.text
    version = console.web.app.state.live.bundle.version
    assert version in html
    for kind in ("TicketType", "Workflow", "Team", "SLAPolicy"):
        assert f'<span class="kind">{kind}</span>' in html
    assert 'href="/admin/files/ticket_types/it_incident.yaml"' in html or "ticket_types/" in html
    assert html.count('class="status status-ok"') >= 10  # every file valid


def test_a_broken_file_on_disk_shows_its_errors_in_the_tree(console: Console) -> None:
    (console.root / "teams" / "broken.yaml").write_text("kind: Team\nid: broken\nmembers: 3\n")
    html = console.admin.get("/admin").text
    assert "2 error(s)" in html  # on the file, and in the folder's count
    assert "teams/broken.yaml:3:10</code> <code>members</code>: must be a list" in html


def test_the_tree_is_not_checked_again_until_a_file_changes(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real = ConfigEditor.check
    monkeypatch.setattr(ConfigEditor, "check", lambda self, c: calls.append(1) or real(self, c))
    assert "2 error(s)" not in console.admin.get("/admin").text
    assert "2 error(s)" not in console.admin.get("/admin").text
    assert len(calls) == 1  # the second view answers from the kept check
    (console.root / "teams" / "broken.yaml").write_text("kind: Team\nid: broken\nmembers: 3\n")
    html = console.admin.get("/admin").text
    assert len(calls) == 2 and "2 error(s)" in html  # an edit on disk shows at once


def test_review_shows_the_diff_and_the_plan_without_saving(console: Console) -> None:
    page = console.admin.get(f"/admin/files/{TEAM}")
    assert page.status_code == 200
    text = (console.root / TEAM).read_text(encoding="utf-8")
    base = _field(page.text, "base")
    changed = text.replace("capacity: ", "capacity: 1", 1)
    review = console.admin.send_form(
        "/admin/files/review",
        {"path": TEAM, "base": base, "text": changed},
        headers={"HX-Request": "true"},
    )
    assert review.status_code == 200, review.text
    assert '<div id="proposal"' in review.text and "<html" not in review.text
    assert "<del>" in review.text and "<ins>" in review.text
    assert "What it changes" in review.text and "No open ticket is affected." in review.text
    assert (console.root / TEAM).read_text(encoding="utf-8") == text


def test_save_makes_a_new_active_version_recorded_as_the_admins_edit(console: Console) -> None:
    page = console.admin.get(f"/admin/files/{TEAM}")
    text = (console.root / TEAM).read_text(encoding="utf-8")
    changed = text.replace("capacity: ", "capacity: 1", 1)
    saved = console.admin.send_form(
        "/admin/files/save",
        {
            "path": TEAM,
            "base": _field(page.text, "base"),
            "text": changed.replace("\n", "\r\n"),
            "message": "More capacity",
        },
    )
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"].startswith(f"/admin/files/{TEAM}?saved=")
    assert (console.root / TEAM).read_text(encoding="utf-8") == changed  # LF, as typed
    latest = version_log(console.web.db)[0]
    assert latest.source == "editor" and latest.activated_by.endswith("<wang.fang@example.com>")
    assert console.web.app.state.live.bundle.version == latest.version
    shown = console.admin.get(saved.headers["location"])
    assert f"version {latest.version} is active" in shown.text


def test_a_conflicting_save_is_refused_and_the_file_on_disk_is_untouched(console: Console) -> None:
    page = console.admin.get(f"/admin/files/{TEAM}")
    base = _field(page.text, "base")
    theirs = (console.root / TEAM).read_text(encoding="utf-8") + "# edited by someone else\n"
    (console.root / TEAM).write_text(theirs, encoding="utf-8")
    versions = len(version_log(console.web.db))

    saved = console.admin.send_form(
        "/admin/files/save",
        {
            "path": TEAM,
            "base": base,
            "text": theirs.replace("capacity: ", "capacity: 1", 1),
            "message": "Mine",
        },
    )
    assert saved.status_code == 409
    assert "Changed on disk meanwhile" in saved.text and TEAM in saved.text
    assert (console.root / TEAM).read_text(encoding="utf-8") == theirs
    assert len(version_log(console.web.db)) == versions


def test_an_invalid_save_is_refused_with_file_line_errors_and_nothing_is_written(
    console: Console,
) -> None:
    page = console.admin.get(f"/admin/files/{TEAM}")
    text = (console.root / TEAM).read_text(encoding="utf-8")
    broken = text.replace("kind: Team", "kind: Teem")
    saved = console.admin.send_form(
        "/admin/files/save",
        {"path": TEAM, "base": _field(page.text, "base"), "text": broken, "message": "Oops"},
        headers={"HX-Request": "true"},
    )
    assert saved.status_code == 422
    line = next(n for n, row in enumerate(text.splitlines(), 1) if row.startswith("kind:"))
    assert f"{TEAM}:{line}:7" in saved.text and "did you mean &#39;Team&#39;" in saved.text
    assert (console.root / TEAM).read_text(encoding="utf-8") == text


def test_a_new_file_and_its_deletion_go_through_the_pipeline(console: Console) -> None:
    assert console.admin.get("/admin/files-new").status_code == 200
    team = "kind: Team\nid: facilities\nname: {en: Facilities, zh-CN: 行政后勤}\n"
    saved = console.admin.send_form(
        "/admin/files/save", {"path": "teams/facilities.yaml", "base": "", "text": team, "new": "1"}
    )
    assert saved.status_code == 303, saved.text
    assert "facilities" in console.web.app.state.live.bundle.teams
    page = console.admin.get("/admin/files/teams/facilities.yaml")
    gone = console.admin.send_form(
        "/admin/files/save",
        {
            "path": "teams/facilities.yaml",
            "base": _field(page.text, "base"),
            "text": "",
            "delete": "1",
        },
    )
    assert gone.status_code == 303 and not (console.root / "teams/facilities.yaml").exists()
    assert "facilities" not in console.web.app.state.live.bundle.teams
    outside = console.admin.send_form(
        "/admin/files/save", {"path": "../outside.yaml", "base": "", "text": team, "new": "1"}
    )
    assert outside.status_code == 422 and "must be a path inside the config folder" in outside.text


def test_the_history_lists_versions_and_diffs_any_two(console: Console) -> None:
    page = console.admin.get(f"/admin/files/{TEAM}")
    text = (console.root / TEAM).read_text(encoding="utf-8")
    console.admin.send_form(
        "/admin/files/save",
        {
            "path": TEAM,
            "base": _field(page.text, "base"),
            "text": text.replace("capacity: ", "capacity: 1", 1),
            "message": "More",
        },
    )
    records = version_log(console.web.db)
    history = console.admin.get("/admin/versions").text
    assert records[0].version in history and records[1].version in history
    assert "admin console" in history and "wang.fang@example.com" in history
    diff = console.admin.get(
        f"/admin/versions/diff?old={records[1].version[:8]}&new={records[0].version}"
    )
    assert diff.status_code == 200
    assert f"a/{TEAM}" in diff.text and "<ins>" in diff.text
    unknown = console.admin.get("/admin/versions/diff?old=ffffffff&new=eeeeeeee")
    assert unknown.status_code == 404 and "no config version" in unknown.text


def test_the_console_speaks_chinese(console: Console) -> None:
    console.admin.send_form("/language", {"language": "zh-CN", "next": "/admin"})
    html = console.admin.get("/admin").text
    assert "当前生效版本" in html and "按类别列出的文件" in html


def _field(html: str, name: str) -> str:
    import re

    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no field {name}"
    return match.group(1)
