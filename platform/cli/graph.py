"""`gongdan graph WORKFLOW`: a workflow's state machine as a diagram, for a pull request
to show the picture next to the YAML.

`--format mermaid` (the default) prints a Mermaid `stateDiagram-v2`, which GitHub and
GitLab render in Markdown: states styled by category (new, open, pending, resolved,
closed), the initial state entered from the start, closed states leading to the end,
each transition labelled with its id, who may take it, a short summary of its guard
and its `after:` delay. `--format dot` prints the same graph in Graphviz's language
(`dot -Tsvg` draws it). `--format svg` draws it here, in plain Python (no Graphviz, no
browser), as a self-contained SVG with labels in `--language` (en or zh-CN).

The drawing lives in `gongdan.rules.workflow_graph`, where the web UI imports it too.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from gongdan.bundle.loader import check_bundle
from gongdan.rules.workflow_graph import (
    guard_summary,
    workflow_dot,
    workflow_mermaid,
    workflow_svg,
)

__all__ = [
    "add_graph_commands",
    "guard_summary",
    "workflow_dot",
    "workflow_mermaid",
    "workflow_svg",
]


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
    if args.format == "svg":
        sys.stdout.write(workflow_svg(workflow, args.language))
    elif args.format == "dot":
        sys.stdout.write(workflow_dot(workflow))
    else:
        sys.stdout.write(workflow_mermaid(workflow))
    return 0


def add_graph_commands(commands: Any) -> list[argparse.ArgumentParser]:
    """Register `graph`; returns the leaf parsers."""
    graph = commands.add_parser(
        "graph", help="print a workflow's state machine (Mermaid stateDiagram-v2, dot or SVG)"
    )
    graph.add_argument("workflow", help="the workflow id (a file in config/workflows/)")
    graph.add_argument(
        "--format",
        choices=("mermaid", "dot", "svg"),
        default="mermaid",
        help="mermaid (default; GitHub renders it in Markdown), dot (Graphviz) or svg "
        "(a drawing, made here: no Graphviz needed)",
    )
    graph.add_argument(
        "--language",
        default="en",
        help="the language of the SVG's labels: en (default) or zh-CN",
    )
    graph.set_defaults(handler=cmd_graph)
    return [graph]
