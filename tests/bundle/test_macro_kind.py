"""`kind: Macro` (issue 21): its schema and cross-file checks, each mistake at its file,
line and column; reply syntax errors found by `gongdan check`'s template pass; and the
example bundle's macros and transition labels (no name twice in one workflow, so the
bulk transition list never repeats one)."""

from __future__ import annotations

from pathlib import Path

from gongdan.bundle.loader import check_bundle, load_bundle
from gongdan.channels.email.templates import check_templates
from gongdan.ui.i18n import localise
from tests.bundles import EXAMPLE, make_bundle

GOOD = """kind: Macro
name: {en: Ask, zh-CN: 询问}
applies_to: {types: [it_incident]}
reply: {en: "Hi {{ requester.name }}", zh-CN: "您好"}
set: {impact: me}
transition: ask_requester
"""


def _issues(tmp_path: Path, text: str) -> list[str]:
    root = make_bundle(tmp_path, {"macros/ask.yaml": text}, base=EXAMPLE)
    bundle, issues = check_bundle(root)
    if bundle is not None:
        issues = check_templates(bundle)
    return [str(i).replace(f"{root}/", "", 1) for i in issues if i.severity == "error"]


def test_a_good_macro_loads(tmp_path: Path) -> None:
    assert _issues(tmp_path, GOOD) == []


def test_unknown_names_are_errors_at_their_place(tmp_path: Path) -> None:
    text = GOOD.replace("set: {impact: me}", "set: {impakt: me}").replace(
        "transition: ask_requester", "transition: ask_requestor"
    )
    got = _issues(
        tmp_path, text.replace("types: [it_incident]", "types: [it_incident], teams: [nobody]")
    )
    assert any(g.startswith("macros/ask.yaml:3:") and "unknown team 'nobody'" in g for g in got), (
        got
    )
    assert any(
        g.startswith("macros/ask.yaml:5:") and "has no field 'impakt'" in g and "impact" in g
        for g in got
    ), got
    assert any(
        g.startswith("macros/ask.yaml:6:")
        and "the workflow of 'it_incident' has no transition 'ask_requestor'" in g
        and "did you mean 'ask_requester'" in g
        for g in got
    ), got


def test_a_macro_must_do_something_and_keys_are_checked(tmp_path: Path) -> None:
    got = _issues(tmp_path, "kind: Macro\nname: Nothing\nrepley: hi\n")
    assert got and all(g.startswith("macros/ask.yaml:") for g in got)


def test_a_reply_syntax_error_is_reported_at_its_text(tmp_path: Path) -> None:
    got = _issues(tmp_path, GOOD.replace('"Hi {{ requester.name }}"', '"Hi {{ requester.name "'))
    assert len(got) == 1 and got[0].startswith("macros/ask.yaml:4:") and "syntax" in got[0]


def test_the_example_bundle_ships_macros_in_both_languages() -> None:
    bundle = load_bundle(EXAMPLE)
    assert set(bundle.macros) >= {"ask_for_serial", "resolved_with_guidance", "thanks_for_patience"}
    for macro in bundle.macros.values():
        assert set(macro.reply) == {"en", "zh-CN"}, macro.id
        assert set(macro.name) == {"en", "zh-CN"}, macro.id
    assert check_templates(bundle) == []


def test_no_workflow_of_the_example_names_two_transitions_alike() -> None:
    bundle = load_bundle(EXAMPLE)
    for workflow in bundle.workflows.values():
        for language in ("en", "zh-CN"):
            shown = [
                localise(t.label or t.id, language)
                for t in {t.id: t for t in workflow.transitions}.values()
            ]
            assert len(shown) == len(set(shown)), (workflow.id, language, shown)


def test_a_value_the_field_refuses_is_an_error_at_its_place(tmp_path: Path) -> None:
    got = _issues(tmp_path, GOOD.replace("set: {impact: me}", "set: {impact: everyone}"))
    assert len(got) == 1 and got[0].startswith("macros/ask.yaml:5:"), got
    assert "'everyone' is not one of: me, team, company" in got[0]


def test_a_macro_sets_a_declared_team_and_a_member_as_assignee(tmp_path: Path) -> None:
    good = GOOD.replace(
        "set: {impact: me}", "set: {team: service_desk, assignee: wang.fang@example.com}"
    )
    assert _issues(tmp_path, good) == []
    for who in ("me", "none"):
        assert (
            _issues(tmp_path, GOOD.replace("set: {impact: me}", f"set: {{assignee: {who}}}")) == []
        )


def test_an_unknown_team_or_user_is_an_error_at_its_place(tmp_path: Path) -> None:
    got = _issues(tmp_path, GOOD.replace("set: {impact: me}", "set: {team: servce_desk}"))
    assert len(got) == 1 and got[0].startswith("macros/ask.yaml:5:"), got
    assert "unknown team 'servce_desk'" in got[0] and "service_desk" in got[0]
    got = _issues(
        tmp_path, GOOD.replace("set: {impact: me}", "set: {assignee: nobody@example.com}")
    )
    assert len(got) == 1 and got[0].startswith("macros/ask.yaml:5:"), got
    assert "unknown user 'nobody@example.com': not a member of any team" in got[0]
    # A member of another team than the one the macro sets is refused too.
    got = _issues(
        tmp_path,
        GOOD.replace(
            "set: {impact: me}", "set: {team: field_service, assignee: li.wei@example.com}"
        ),
    )
    assert len(got) == 1 and "not a member of team 'field_service'" in got[0], got
