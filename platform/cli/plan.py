"""`gongdan plan [DIR]`: what making a bundle active would change, like `terraform plan`.

Compares the bundle in DIR (default: `--config`) with the active version (`--active
DIR`, else the version the database stores, else the `--config` folder) and with the
live tickets of `$GONGDAN_DATABASE_URL`. Exit codes: 0 nothing changes, 2 something
does, 1 errors (an invalid bundle, printed as `gongdan check` prints it; a database
with no tables). `--format json` prints one JSON document, for CI bots.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from gongdan.bundle.loader import check_bundle
from gongdan.cli.config import with_template_issues
from gongdan.engine import Database, active_bundle_for_plan, database_url, plan_against
from gongdan.errors import ConfigError, NotFound

__all__ = ["add_plan_commands"]

EXIT_ERRORS = 1


def _fail(args: argparse.Namespace, where: str, errors: list[str]) -> int:
    if args.format == "json":
        print(json.dumps({"exit_code": EXIT_ERRORS, "errors": errors}, ensure_ascii=False))
    else:
        for line in errors:
            print(line)
        print(f"{where}: {len(errors)} error{'s' * (len(errors) != 1)}", file=sys.stderr)
    return EXIT_ERRORS


def cmd_plan(args: argparse.Namespace) -> int:
    directory = args.directory or args.config
    candidate, issues = with_template_issues(*check_bundle(directory))
    if candidate is None:
        return _fail(args, directory, [str(i) for i in issues if i.severity == "error"])
    db = Database(database_url())
    try:
        try:
            active = active_bundle_for_plan(db, args.config, args.active)
        except ConfigError as error:
            where = args.active or args.config
            return _fail(args, f"active bundle {where}", [str(i) for i in error.errors])
        try:
            plan = plan_against(db, active.bundle, candidate)
        except NotFound as error:
            return _fail(args, "gongdan plan", [str(error)])
    finally:
        db.dispose()
    if args.format == "json":
        out: dict[str, Any] = {
            "candidate": str(Path(directory)),
            "active": active.source,
            **plan.as_json(),
        }
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        print(f"Comparing {directory} with the active bundle ({active.source}).")
        print(plan.render())
    return plan.exit_code


def add_plan_commands(commands: Any) -> list[argparse.ArgumentParser]:
    """Register `plan`; returns the leaf parsers."""
    plan = commands.add_parser(
        "plan",
        help="what making a bundle active would change (config and live tickets); "
        "exit 0 no change, 2 changes, 1 errors",
    )
    plan.add_argument("directory", nargs="?", help="the bundle to plan (default: --config)")
    plan.add_argument(
        "--active",
        metavar="DIR",
        help="compare with this folder instead of the active version",
    )
    plan.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text for people (default), json for CI bots",
    )
    plan.set_defaults(handler=cmd_plan)
    return [plan]
