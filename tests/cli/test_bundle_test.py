"""`gongdan test`: a bundle's own declarative tests (`tests/*.yaml`, `kind: Test`), run
against the real engine, failing with expected vs actual at file:line."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from gongdan.cli import main, scenarios
from gongdan.engine import SCHEDULED_JOBS
from tests.bundles import EXAMPLE, make_bundle
from tests.helpers import run_gongdan


def _bundle_with_test(tmp_path: Path, text: str, name: str = "tests/mine.yaml") -> Path:
    """The example bundle with `text` as its only test file."""
    root = make_bundle(tmp_path, {}, EXAMPLE)
    shutil.rmtree(root / "tests")
    (root / "tests").mkdir()
    (root / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def _line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text("utf-8").splitlines(), 1) if text in line)


def test_the_example_bundle_passes_its_own_tests() -> None:
    result = run_gongdan("test", "config")
    assert result.returncode == 0, result.stdout + result.stderr
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("config: ") and last.endswith("all passed"), last
    cases = int(last.split(": ")[1].split(" case")[0])
    assert cases >= 15  # every ticket type of the example has several
    for type_id in ("it_incident", "access_request", "after_sales", "complaint"):
        assert (EXAMPLE / "tests" / f"{type_id}.yaml").is_file()
    assert (EXAMPLE / "tests" / "equipment_maintenance.yaml").is_file()


WRONG = """\
    kind: Test
    cases:
      - name: Software faults go to the service desk
        ticket:
          type: it_incident
          fields: {category: software, impact: me}
        expect:
          priority: normal
          team: field_service
          sla:
            first_response: 2026-11-02T14:30+08:00
      - name: A correct case still passes
        ticket:
          type: it_incident
          fields: {category: software, impact: team}
        expect: {priority: high}
"""


def test_a_wrong_expectation_fails_with_expected_and_actual_at_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _bundle_with_test(tmp_path, WRONG)
    path = root / "tests/mine.yaml"
    assert main(["test", str(root)]) == 1
    out = capsys.readouterr().out.splitlines()
    team, sla = _line_of(path, "team: field_service"), _line_of(path, "first_response:")
    assert out == [
        f"FAIL {path}: Software faults go to the service desk",
        f"  {path}:{team}:13: cases[0].expect.team: expected 'field_service', got 'service_desk'",
        f"  {path}:{sla}:25: cases[0].expect.sla.first_response: expected "
        "2026-11-02T14:30:00+08:00, got 2026-11-02T15:30:00+08:00",
        f"{root}: 2 cases, 4 checks: 1 failed",
    ]


def test_steps_time_and_refusals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A step the engine refuses stops the case at its line; a refusal the test expects
    but that does not happen fails; `after:` runs the workflow's timed transitions."""
    root = _bundle_with_test(
        tmp_path,
        """\
        kind: Test
        cases:
          - name: Resolved incidents close by themselves after 72 hours
            ticket: {type: it_incident, fields: {category: software, impact: me}}
            steps:
              - transition: resolve
                by: agent
                fields: {resolution_code: fixed}
                comment: Done.
              - after: 71h59m
                expect: {state: resolved}
              - after: 1m
                expect: {state: closed}
          - name: A requester may not resolve
            ticket: {type: it_incident, fields: {category: software, impact: me}}
            steps:
              - transition: resolve
                by: requester
                comment: Fixed it myself.
                fields: {resolution_code: fixed}
                expect: {state: resolved}
              - comment: never reached
          - name: Agents may start work
            ticket: {type: it_incident, fields: {category: software, impact: me}}
            steps:
              - transition: start
                by: agent
                refused: true
        """,
    )
    path = root / "tests/mine.yaml"
    assert main(["test", str(root)]) == 1
    out = capsys.readouterr().out.splitlines()
    resolve = _line_of(path, "by: requester") - 1
    start = _line_of(path, "transition: start")
    assert out[0] == f"FAIL {path}: A requester may not resolve"
    assert out[1].startswith(f"  {path}:{resolve}:9: cases[1].steps[0]: the transition was ")
    assert out[2] == f"FAIL {path}: Agents may start work"
    assert out[3] == (
        f"  {path}:{start}:9: cases[2].steps[0]: expected the transition to be refused"
    )
    assert out[4] == f"{root}: 3 cases, 3 checks: 2 failed"


def test_requester_attributes_reach_routing(tmp_path: Path) -> None:
    """`requester.tier` in the routing rules reads the test's requester attributes."""
    root = _bundle_with_test(
        tmp_path,
        """\
        kind: Test
        cases:
          - name: VIP
            ticket:
              type: it_incident
              requester: {email: boss@example.com, tier: vip, department: finance}
              fields: {category: software, impact: me}
            expect: {priority: high, tags: [vip]}
          - name: Not VIP
            ticket:
              type: it_incident
              requester: {email: clerk@example.com, department: finance}
              fields: {category: software, impact: me}
            expect: {priority: normal, tags: []}
        """,
    )
    result = run_gongdan("test", str(root))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith(": 2 cases, 4 checks: all passed")


BROKEN = """\
    kind: Test
    cases:
      - name: Broken
        ticket:
          type: it_incidnet
          created_at: 2026-11-02 10:00
        colour: blue
        expect: {sla: {resolution: soon}}
      - name: Unknown references
        ticket: {type: it_incident, fields: {categroy: software}}
        expect:
          state: closd
          transitions: {agent: [resolv]}
        steps:
          - {transition: start, after: 2h}
"""


def test_check_and_test_report_every_error_in_tests_at_its_line(tmp_path: Path) -> None:
    root = _bundle_with_test(tmp_path, BROKEN)
    path = root / "tests/mine.yaml"
    for command in ("check", "test"):
        result = run_gongdan(command, str(root))
        assert result.returncode == 1, result.stdout
        lines = result.stdout.strip().splitlines()
        assert lines == [
            f"{path}:6:19: cases[0].ticket.created_at: '2026-11-02 10:00' is not an instant: "
            "use ISO 8601 with its offset, like 2026-11-02T10:00+08:00",
            f"{path}:7:5: cases[0].colour: unknown key 'colour' (expected one of: expect, "
            "name, steps, ticket)",
            f"{path}:8:32: cases[0].expect.sla.resolution: 'soon' is not an instant: use "
            "ISO 8601 with its offset, like 2026-11-02T10:00+08:00",
            f"{path}:15:9: cases[1].steps[0]: a step takes one of: transition, comment, "
            "update, assign, after, macro; found transition and after",
        ], lines
    # Once the schema errors are fixed, the references are checked against the bundle.
    text = path.read_text("utf-8").replace("created_at: 2026-11-02 10:00", "title: Broken")
    text = text.replace("    colour: blue\n", "").replace("resolution: soon", "resolution: null")
    path.write_text(text.replace(", after: 2h", ""), encoding="utf-8")
    result = run_gongdan("check", str(root))
    assert result.returncode == 1
    assert result.stdout.strip().splitlines() == [
        f"{path}:5:13: cases[0].ticket.type: unknown ticket type 'it_incidnet' "
        "(did you mean 'it_incident'?)",
        f"{path}:9:42: cases[1].ticket.fields.categroy: unknown field 'categroy' of "
        "'it_incident' (did you mean 'category'?)",
        f"{path}:11:14: cases[1].expect.state: unknown state 'closd' of workflow 'incident' "
        "(did you mean 'closed'?)",
        f"{path}:12:29: cases[1].expect.transitions.agent[0]: unknown transition 'resolv' "
        "of workflow 'incident' (did you mean 'resolve'?)",
    ]


def test_a_test_document_outside_tests_is_an_error(tmp_path: Path) -> None:
    root = make_bundle(tmp_path, {"misplaced.yaml": "kind: Test\ncases: []\n"}, EXAMPLE)
    result = run_gongdan("check", str(root))
    assert result.returncode == 1
    assert f"{root}/misplaced.yaml:1:7: kind: a Test belongs in the tests/ folder" in (
        result.stdout
    )


def test_time_passing_knows_the_scheduler_jobs() -> None:
    """The runner runs each scheduled job only when something of its kind is due: the
    names it uses must be the scheduler's."""
    names = {job.name for job in SCHEDULED_JOBS}
    # Mailed reports change no ticket: a bundle's tests have nothing of theirs to run.
    simulated = {scenarios._SLA_JOB, scenarios._AFTER_JOB, scenarios._SCHEDULE_JOB}
    assert simulated | {"report_mail"} == names


def test_the_example_in_config_readme_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = (EXAMPLE / "README.md").read_text("utf-8")
    section = readme[readme.index("## Testing the bundle") :]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    root = _bundle_with_test(tmp_path, example)
    assert main(["test", str(root)]) == 0
    assert capsys.readouterr().out.endswith(": 1 case, 13 checks: all passed\n")


def test_a_macro_step_applies_the_macro_and_names_an_unknown_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`macro:` (issue 21) applies a macro as the desk does (its reply filled in, or the
    step's `comment`); an unassigned incident cannot be resolved by one; an unknown
    macro is an error at its line."""
    root = _bundle_with_test(
        tmp_path,
        """\
        kind: Test
        cases:
          - name: Thanks, then resolved with guidance
            ticket: {type: it_incident, fields: {category: software, impact: me}}
            steps:
              - macro: thanks_for_patience
                by: agent
                expect: {tags: [patience_sent], state: new}
              - assign: {assignee: null}
                by: agent
              - macro: resolved_with_guidance
                by: agent
                refused: true
        """,
    )
    assert main(["test", str(root)]) == 0, capsys.readouterr().out
    capsys.readouterr()
    path = root / "tests/mine.yaml"
    path.write_text(path.read_text("utf-8").replace("thanks_for_patience", "thanks_for_patiense"))
    assert main(["check", str(root)]) == 1
    out = capsys.readouterr().out
    line = _line_of(path, "thanks_for_patiense")
    assert f"{path}:{line}:" in out and "unknown macro 'thanks_for_patiense'" in out
    assert "did you mean 'thanks_for_patience'" in out
