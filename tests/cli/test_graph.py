"""`gongdan graph WORKFLOW`: the state machine as Mermaid (and DOT), and the README's
diagrams kept equal to what the command prints."""

from __future__ import annotations

import re

import pytest

from gongdan.cli import main
from gongdan.cli.graph import guard_summary
from tests.helpers import REPO


def test_mermaid_of_the_incident_workflow(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(REPO / "config"), "graph", "incident"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "stateDiagram-v2"
    # States carry their labels and are styled by category.
    assert '    state "Waiting for requester" as waiting_customer' in lines
    assert "    classDef cat_pending fill:#f3e5f5,stroke:#8e24aa,color:#000" in lines
    assert "    class waiting_customer cat_pending" in lines
    assert "    class closed cat_closed" in lines
    # Start and end, every transition from each of its sources with roles, guard, delay.
    assert "    [*] --> new" in lines and "    closed --> [*]" in lines
    assert "    in_progress --> resolved: resolve (agent) [assignee set]" in lines
    assert "    new --> resolved: resolve (agent) [assignee set]" in lines
    assert "    waiting_customer --> in_progress: requester_replied (agent, requester)" in lines
    assert "    resolved --> closed: close (agent, requester) after 72h" in lines
    assert "    new --> closed: withdraw (requester)" in lines
    assert sum(1 for line in lines if " --> " in line and "[*]" not in line) == 10


def test_approver_roles_and_guards_read_plainly(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(REPO / "config"), "graph", "approval"]) == 0
    out = capsys.readouterr().out
    # A colon would end a Mermaid label: field:approver keeps a look-alike.
    assert "awaiting_approval --> approved: approve (field∶approver)\n" in out
    assert main(["--config", str(REPO / "config"), "graph", "after_sales"]) == 0
    out = capsys.readouterr().out
    assert "inspection --> refunding: approve_refund (agent) [request_kind = return]" in out


def test_guard_summaries() -> None:
    assert guard_summary({"assignee": {"empty": False}}) == "assignee set"
    assert guard_summary({"priority": ["high", "urgent"]}) == "priority in [high, urgent]"
    assert guard_summary({"amount": {"gt": 1000}, "impact": {"ne": "me"}}) == (
        "amount > 1000 and impact ≠ me"
    )
    assert guard_summary({"any": [{"a": 1}, {"not": {"b": True}}]}) == "any(a = 1, not(b = true))"
    assert len(guard_summary({f"field_{i}": "some value" for i in range(10)})) == 60


def test_dot_format_and_unknown_workflow(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(REPO / "config"), "graph", "maintenance", "--format", "dot"]) == 0
    out = capsys.readouterr().out
    assert out.startswith('digraph "maintenance" {')
    assert "  subgraph cluster_pending {" in out
    assert '  verification -> closed [label="auto_close (agent) after 24h"];' in out
    assert main(["--config", str(REPO / "config"), "graph", "incidnet"]) == 1
    assert "no workflow 'incidnet'" in capsys.readouterr().err


def test_readme_embeds_each_example_workflow_as_the_command_prints_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    readme = (REPO / "README.md").read_text("utf-8")
    blocks = re.findall(r"```mermaid\n(.*?)```", readme, flags=re.DOTALL)
    workflows = sorted(p.stem for p in (REPO / "config/workflows").glob("*.yaml"))
    printed = []
    for workflow in workflows:
        assert main(["--config", str(REPO / "config"), "graph", workflow]) == 0
        printed.append(capsys.readouterr().out)
    assert sorted(blocks) == sorted(printed)


def test_svg_format_draws_the_workflow(capsys: pytest.CaptureFixture[str]) -> None:
    import xml.etree.ElementTree as ET

    assert main(["--config", str(REPO / "config"), "graph", "incident", "--format", "svg"]) == 0
    out = capsys.readouterr().out
    root = ET.fromstring(out)  # noqa: S314 (the command's own output)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    states = {g.get("data-state") for g in root.iter("{http://www.w3.org/2000/svg}g")}
    assert {"new", "in_progress", "waiting_customer", "resolved", "closed"} <= states
    assert "Waiting for requester" in out and "Resolve · resolve" in out
    args = ["graph", "incident", "--format", "svg", "--language", "zh-CN"]
    assert main(["--config", str(REPO / "config"), *args]) == 0
    assert "等待" in capsys.readouterr().out


@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_the_drawings_in_docs_are_what_the_command_draws(
    language: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["graph", "incident", "--format", "svg", "--language", language]
    assert main(["--config", str(REPO / "config"), *args]) == 0
    suffix = "" if language == "en" else f".{language}"
    drawn = (REPO / f"docs/workflows/incident{suffix}.svg").read_text("utf-8")
    assert capsys.readouterr().out == drawn, (
        "regenerate with: gongdan graph incident --format svg "
        f"--language {language} > docs/workflows/incident{suffix}.svg"
    )
