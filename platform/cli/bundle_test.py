"""`gongdan test [DIR]`: run a bundle's own declarative tests (`DIR/tests/*.yaml`,
`kind: Test`).

The bundle and its tests are checked first (every error, as `gongdan check` prints
them); then each case runs on its own throwaway in-memory database through the real
engine (`cli.scenarios`). A failed expectation prints as
`file:line:col: path: expected …, got …` under the case's name; a summary line ends
the output. Exit 0 when every case passes, 1 on any failure or error.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from gongdan.bundle.compile_tests import TESTS_DIR, load_tests
from gongdan.bundle.loader import check_bundle
from gongdan.cli.scenarios import run_case

__all__ = ["add_test_commands"]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' * (count != 1)}"


def cmd_test(args: argparse.Namespace) -> int:
    directory = args.directory or args.config
    bundle, issues = check_bundle(directory)
    suites, test_issues = load_tests(directory, bundle)
    errors = [i for i in [*issues, *test_issues] if i.severity == "error"]
    if bundle is None or errors:
        for issue in errors:
            print(issue)
        print(f"{directory}: {_plural(len(errors), 'error')}: no test was run", file=sys.stderr)
        return 1
    cases = failed = checks = 0
    for suite in suites:
        for case in suite.cases:
            if args.filter and args.filter.lower() not in case.name.lower():
                continue
            result = run_case(bundle, suite, case)
            cases += 1
            checks += result.checks
            if not result.passed:
                failed += 1
                print(f"FAIL {suite.file}: {case.name}")
                for failure in result.failures:
                    print(f"  {failure}")
            elif args.verbose:
                print(f"ok   {suite.file}: {case.name}")
    if cases == 0:
        print(f"{directory}: no tests (write them in {directory}/{TESTS_DIR}/, kind: Test)")
        return 0
    summary = f"{directory}: {_plural(cases, 'case')}, {_plural(checks, 'check')}"
    if failed:
        print(f"{summary}: {failed} failed")
        return 1
    print(f"{summary}: all passed")
    return 0


def add_test_commands(commands: Any) -> list[argparse.ArgumentParser]:
    """Register `test`; returns the leaf parsers."""
    test = commands.add_parser(
        "test", help="run the bundle's own tests (DIR/tests/*.yaml); exit 1 on any failure"
    )
    test.add_argument("directory", nargs="?", help="config directory (default: --config)")
    test.add_argument("-k", dest="filter", help="only the cases whose name contains this text")
    test.add_argument("-v", "--verbose", action="store_true", help="list the cases that pass")
    test.set_defaults(handler=cmd_test)
    return [test]
