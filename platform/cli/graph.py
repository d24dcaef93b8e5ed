"""`gongdan graph WORKFLOW`: a workflow's state machine as a diagram, for a pull request
to show the picture next to the YAML.

`--format mermaid` (the default) prints a Mermaid `stateDiagram-v2`, which GitHub and
GitLab render in Markdown: states styled by category (new, open, pending, resolved,
closed), the initial state entered from the start, closed states leading to the end,
each transition labelled with its id, who may take it, a short summary of its guard
and its `after:` delay. `--format dot` prints the same graph in Graphviz's language
(`dot -Tsvg` draws it). No SVG is drawn here: that needs Graphviz's program or a
browser, neither of which the platform depends on.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import Any

from gongdan.bundle.loader import check_bundle
from gongdan.rules.workflow import TransitionDef, WorkflowDef
from gongdan.vocabulary import STATE_CATEGORIES, StateCategory

__all__ = ["add_graph_commands", "guard_summary", "workflow_dot", "workflow_mermaid"]

# One colour per state category (fill, stroke), the same in both formats.
CATEGORY_STYLE: Mapping[str, tuple[str, str]] = {
    StateCategory.NEW: ("#e3f2fd", "#1e88e5"),
    StateCategory.OPEN: ("#fff8e1", "#f9a825"),
    StateCategory.PENDING: ("#f3e5f5", "#8e24aa"),
    StateCategory.RESOLVED: ("#e8f5e9", "#43a047"),
    StateCategory.CLOSED: ("#eceff1", "#546e7a"),
}
_OPERATORS = {
    "ne": "≠",
    "gt": ">",
    "gte": "≥",
    "lt": "<",
    "lte": "≤",
    "in": "in",
    "not_in": "not in",
    "contains": "contains",
    "starts_with": "starts with",
    "older_than": "older than",
    "newer_than": "newer than",
    "changed_to": "changed to",
}
MAX_GUARD = 60


def _value(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return "nothing" if value is None else str(value)


def _test(key: str, value: Any) -> str:
    if isinstance(value, list):
        return f"{key} in {_value(value)}"
    if not isinstance(value, dict):
        return f"{key} = {_value(value)}"
    parts = []
    for op, operand in value.items():
        if op == "empty":
            parts.append(f"{key} {'empty' if operand else 'set'}")
        elif op == "changed":
            parts.append(f"{key} changed" if operand else f"{key} unchanged")
        else:
            parts.append(f"{key} {_OPERATORS.get(op, op)} {_value(operand)}")
    return " and ".join(parts)


def guard_summary(source: Any) -> str:
    """A condition in a few words: `assignee set`, `request_kind = repair`,
    `any(category = network, impact = company)`; cut short past a line's length."""
    if not isinstance(source, dict):
        return _value(source)
    parts = []
    for key, value in source.items():
        if key in ("any", "all") and isinstance(value, list):
            parts.append(f"{key}(" + ", ".join(guard_summary(v) for v in value) + ")")
        elif key == "not":
            parts.append(f"not({guard_summary(value)})")
        else:
            parts.append(_test(key, value))
    text = " and ".join(parts)
    return text if len(text) <= MAX_GUARD else text[: MAX_GUARD - 1] + "…"


def _label(transition: TransitionDef) -> str:
    parts = [transition.id]
    roles = sorted(transition.roles) if transition.roles else ["agent"]
    parts.append("(" + ", ".join(roles) + ")")
    if transition.after is not None:
        parts.append(f"after {transition.after}")
    if transition.guard is not None:
        parts.append(f"[{guard_summary(transition.guard.source)}]")
    return " ".join(parts)


def _state_label(workflow: WorkflowDef, state: str) -> str:
    label = workflow.states[state].label
    if isinstance(label, dict):
        label = label.get("en") or next(iter(label.values()), None)
    return str(label) if label else state


def _mermaid_text(text: str) -> str:
    # A colon ends a Mermaid transition label and # starts an entity: keep them out.
    return text.replace(":", "∶").replace("#", "♯").replace(";", ",")


def workflow_mermaid(workflow: WorkflowDef) -> str:
    """The workflow as a Mermaid `stateDiagram-v2`."""
    lines = ["stateDiagram-v2", "    direction LR"]
    for category in STATE_CATEGORIES:
        fill, stroke = CATEGORY_STYLE[category]
        lines.append(f"    classDef cat_{category} fill:{fill},stroke:{stroke},color:#000")
    for state_id in workflow.states:
        label = _mermaid_text(_state_label(workflow, state_id))
        lines.append(f'    state "{label}" as {state_id}')
    lines.append(f"    [*] --> {workflow.initial}")
    for transition in workflow.transitions:
        for source in sorted(transition.sources):
            label = _mermaid_text(_label(transition))
            lines.append(f"    {source} --> {transition.target}: {label}")
    for state_id, state in workflow.states.items():
        if state.category == StateCategory.CLOSED:
            lines.append(f"    {state_id} --> [*]")
    for category in STATE_CATEGORIES:
        members = [s for s, d in workflow.states.items() if d.category == category]
        if members:
            lines.append(f"    class {','.join(members)} cat_{category}")
    return "\n".join(lines) + "\n"


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def workflow_dot(workflow: WorkflowDef) -> str:
    """The workflow in Graphviz's DOT language (`dot -Tsvg` draws it)."""
    lines = [
        f'digraph "{_dot_text(workflow.id)}" {{',
        "  rankdir=LR;",
        '  node [shape=box, style="rounded,filled", fontname="sans-serif"];',
        '  edge [fontname="sans-serif", fontsize=10];',
        '  start [shape=circle, label="", width=0.2, style=filled, fillcolor=black];',
    ]
    for category in STATE_CATEGORIES:
        members = [s for s, d in workflow.states.items() if d.category == category]
        if not members:
            continue
        fill, stroke = CATEGORY_STYLE[category]
        lines.append(f"  subgraph cluster_{category} {{")
        lines.append(f'    label="{category}"; style=dashed; color="{stroke}";')
        for state_id in members:
            label = _dot_text(_state_label(workflow, state_id))
            lines.append(f'    {state_id} [label="{label}", fillcolor="{fill}", color="{stroke}"];')
        lines.append("  }")
    lines.append(f"  start -> {workflow.initial};")
    for transition in workflow.transitions:
        for source in sorted(transition.sources):
            label = _dot_text(_label(transition))
            lines.append(f'  {source} -> {transition.target} [label="{label}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def cmd_graph(args: argparse.Namespace) -> int:
    bundle, issues = check_bundle(args.config)
    if bundle is None:
        for issue in issues:
            if issue.severity == "error":
                print(issue, file=sys.stderr)
        print(f"{args.config}: the bundle has errors: run gongdan check", file=sys.stderr)
        return 1
    workflow = bundle.workflows.get(args.workflow)
    if workflow is None:
        known = ", ".join(sorted(bundle.workflows)) or "none"
        print(f"gongdan graph: no workflow '{args.workflow}' (known: {known})", file=sys.stderr)
        return 1
    render = workflow_dot if args.format == "dot" else workflow_mermaid
    sys.stdout.write(render(workflow))
    return 0


def add_graph_commands(commands: Any) -> list[argparse.ArgumentParser]:
    """Register `graph`; returns the leaf parsers."""
    graph = commands.add_parser(
        "graph", help="print a workflow's state machine (Mermaid stateDiagram-v2, or dot)"
    )
    graph.add_argument("workflow", help="the workflow id (a file in config/workflows/)")
    graph.add_argument(
        "--format",
        choices=("mermaid", "dot"),
        default="mermaid",
        help="mermaid (default; GitHub renders it in Markdown) or dot (Graphviz)",
    )
    graph.set_defaults(handler=cmd_graph)
    return [graph]
