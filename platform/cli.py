"""The `gongdan` command line: check and export config, serve the platform.

Every command takes `--config DIR` (default `$GONGDAN_CONFIG_DIR` or `./config`).
Exit codes: 0 success, 1 the input is invalid (every error printed, one per line as
`file:line:col: path: message`), 2 wrong usage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from gongdan.engine.config import schemas
from gongdan.engine.config.loader import check_bundle
from gongdan.errors import ConfigError

__all__ = ["main", "run"]


def _default_config() -> str:
    return os.environ.get("GONGDAN_CONFIG_DIR", "config")


def cmd_check(args: argparse.Namespace) -> int:
    directory = args.directory or args.config
    bundle, issues = check_bundle(directory)
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
    suffix = f" ({warnings} warning{'s' * (warnings != 1)})" if warnings else ""
    print(f"{directory}: OK: {bundle.summary()}{suffix}")
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


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from gongdan.ui.app import create_app

    try:
        app = create_app(config_dir=args.config)
    except ConfigError as error:
        for issue in error.issues:
            print(issue, file=sys.stderr)
        return 1
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gongdan", description="Gongdan (工单) ticketing platform"
    )
    parser.add_argument(
        "--config",
        default=_default_config(),
        help="config directory (default: $GONGDAN_CONFIG_DIR or ./config)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser("check", help="validate a config bundle; exit 1 with every error")
    check.add_argument("directory", nargs="?", help="config directory (default: --config)")
    check.set_defaults(handler=cmd_check)

    schema = commands.add_parser("schema", help="JSON Schemas of the config language")
    schema_commands = schema.add_subparsers(dest="schema_command", required=True)
    export = schema_commands.add_parser("export", help="write the JSON Schemas to DIR")
    export.add_argument("directory")
    export.set_defaults(handler=cmd_schema_export)

    serve = commands.add_parser("serve", help="run the web platform")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(handler=cmd_serve)

    for sub in (check, export, serve):
        sub.add_argument("--config", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.handler(args)
    return code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())


def run() -> None:
    """Console-script entry point."""
    raise SystemExit(main())
