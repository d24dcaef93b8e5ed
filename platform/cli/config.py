"""`gongdan check` and `gongdan schema export`: the config language from the shell.

`check` is the CI gate of a config bundle: every error at once, one per line as
`file:line:col: path: message`, exit 1 when there is any. It needs no database; when
one is named (`$GONGDAN_DATABASE_URL` set, reachable, with its schema), it also warns
of team members who have no account yet.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from gongdan.bundle import schemas
from gongdan.bundle.compile_tests import load_tests
from gongdan.bundle.compiled import Bundle
from gongdan.bundle.loader import check_bundle
from gongdan.cli.lifecycle import members_without_account
from gongdan.errors import ConfigIssue

__all__ = ["add_config_commands"]


def with_template_issues(
    bundle: Bundle | None, issues: list[ConfigIssue]
) -> tuple[Bundle | None, list[ConfigIssue]]:
    """A checked bundle as `gongdan check` judges it: its mail templates checked too
    (Jinja2), the issues sorted, and no bundle when any of them is an error."""
    if bundle is not None:
        from gongdan.channels.email.templates import check_templates  # Jinja2: only here

        issues = sorted([*issues, *check_templates(bundle)])
    if any(i.severity == "error" for i in issues):
        bundle = None
    return bundle, issues


def cmd_check(args: argparse.Namespace) -> int:
    directory = args.directory or args.config
    bundle, issues = check_bundle(directory)
    # The bundle's own tests (tests/): checked against it, run by `gongdan test`.
    suites, test_issues = load_tests(directory, bundle)
    bundle, issues = with_template_issues(bundle, [*issues, *test_issues])
    for issue in issues:
        print(issue)
    errors = sum(1 for i in issues if i.severity == "error")
    warnings = len(issues) - errors
    if bundle is None:
        print(
            f"{directory}: {errors} error{'s' * (errors != 1)}, "
            f"{warnings} warning{'s' * (warnings != 1)}",
            file=sys.stderr,
        )
        return 1
    for line in members_without_account(bundle) or ():  # (only with a database)
        print(line)
    suffix = f" ({warnings} warning{'s' * (warnings != 1)})" if warnings else ""
    cases = sum(len(suite.cases) for suite in suites)
    tests = f", {cases} test case{'s' * (cases != 1)}" if cases else ""
    print(f"{directory}: OK: {bundle.summary()}{tests}{suffix}")
    return 0


def cmd_schema_export(args: argparse.Namespace) -> int:
    out = Path(args.directory)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in schemas.KINDS:
        target = out / schemas.schema_file_name(kind)
        target.write_text(
            json.dumps(schemas.kind_schema(kind), indent=2, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )
        written.append(target.name)
    (out / "gongdan.schema.json").write_text(
        json.dumps(schemas.bundle_schema(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    written.append("gongdan.schema.json")
    print(f"wrote {len(written)} schemas to {out}: {', '.join(written)}")
    return 0


def add_config_commands(commands: Any) -> list[argparse.ArgumentParser]:
    """Register `check` and `schema export`; returns the leaf parsers."""
    check = commands.add_parser("check", help="validate a config bundle; exit 1 with every error")
    check.add_argument("directory", nargs="?", help="config directory (default: --config)")
    check.set_defaults(handler=cmd_check)

    schema = commands.add_parser("schema", help="JSON Schemas of the config language")
    schema_commands = schema.add_subparsers(dest="schema_command", required=True)
    export = schema_commands.add_parser("export", help="write the JSON Schemas to DIR")
    export.add_argument("directory")
    export.set_defaults(handler=cmd_schema_export)
    return [check, export]
