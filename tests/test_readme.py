"""README's first commands are what CI runs, and the docs point only inside the repository."""

from __future__ import annotations

import re

from tests.helpers import REPO


def _first_commands() -> list[str]:
    readme = (REPO / "README.md").read_text("utf-8")
    block = re.search(r"```sh\n(.*?)```", readme, flags=re.DOTALL)
    assert block is not None
    return [line.split("  #")[0].strip() for line in block.group(1).splitlines()]


def test_readme_commands_make_and_use_a_virtual_environment() -> None:
    """On Debian and Ubuntu the system Python refuses `pip install` (PEP 668): both
    commands make `.venv` and run everything from it."""
    serve, test = _first_commands()
    for command in (serve, test):
        assert command.startswith("python3 -m venv .venv && .venv/bin/pip install -e ")
    assert serve.endswith("&& .venv/bin/gongdan serve")
    assert test.endswith("&& .venv/bin/python -m pytest")


def test_ci_runs_exactly_the_readme_test_command_then_checks_and_tests_the_bundle() -> None:
    script = (REPO / ".ci/run").read_text("utf-8").splitlines()
    test = _first_commands()[1]
    assert test in script
    after = script[script.index(test) + 1 :]
    assert ".venv/bin/gongdan check config" in after
    assert ".venv/bin/gongdan test config" in after
    assert "export GONGDAN_REQUIRE_SERVICES=1" in script[: script.index(test)]


def test_markdown_links_stay_inside_the_repository() -> None:
    pages = [REPO / "README.md", REPO / "config/README.md", *sorted(REPO.glob("docs/**/*.md"))]
    for page in pages:
        text = page.read_text("utf-8")
        assert "../shared" not in text and "DESIGN.md" not in text, page
        for target in re.findall(r"\]\(([^)#]+)\)", text):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            assert (page.parent / target).exists(), f"{page}: {target}"
