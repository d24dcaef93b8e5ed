"""The loader parses (and schema-checks) again only the files whose bytes changed: a
reload re-reads every file but pays for the changed ones, and what it reports is what
a fresh `gongdan check` reports, file:line included."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gongdan.bundle import loader
from gongdan.bundle.loader import PARSE_CACHE, check_bundle, check_bundle_sources
from gongdan.bundle.yamlio import parse_documents
from tests.bundles import EXAMPLE, make_bundle


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The names of the files the loader parses, in order."""
    names: list[str] = []

    def counting(content: bytes | str, name: str) -> list[object]:
        names.append(Path(name).name)
        return parse_documents(content, name)  # type: ignore[return-value]

    PARSE_CACHE.clear()
    monkeypatch.setattr(loader, "parse_documents", counting)
    yield names
    PARSE_CACHE.clear()


def test_only_a_changed_file_is_parsed_again(tmp_path: Path, parsed: list[str]) -> None:
    root = make_bundle(tmp_path)
    files = sorted(p.name for p in root.rglob("*.yaml"))
    first, issues = check_bundle(root)
    assert first is not None, issues
    assert sorted(parsed) == files
    parsed.clear()
    # Nothing changed: nothing parsed, the same bundle.
    again, _ = check_bundle(root)
    assert parsed == [] and again is not None
    assert again.summary() == first.summary() and again.version == first.version
    # One file changed: that one only, and the change is seen.
    team = next(root.rglob("teams/*.yaml"))
    team.write_text(team.read_text("utf-8").replace("name:", "name: Renamed #", 1), "utf-8")
    changed, _ = check_bundle(root)
    assert parsed == [team.name]
    assert changed is not None and changed.version != first.version


def test_a_broken_file_reports_its_line_every_time(tmp_path: Path, parsed: list[str]) -> None:
    root = make_bundle(tmp_path)
    good, _ = check_bundle(root)
    assert good is not None
    workflow = next(root.rglob("workflows/*.yaml"))
    text = workflow.read_text("utf-8")
    lines = text.splitlines()
    broken_line = next(i for i, line in enumerate(lines) if line.startswith("initial:"))
    lines[broken_line] = "initial: [unclosed"
    workflow.write_text("\n".join(lines) + "\n", "utf-8")
    PARSE_CACHE.clear()
    cold = [str(i) for i in check_bundle(root)[1]]
    # With the other files cached, the same messages, twice (a broken file is never
    # cached: it is parsed, and located, each time).
    parsed.clear()
    warm = [str(i) for i in check_bundle(root)[1]]
    again = [str(i) for i in check_bundle(root)[1]]
    assert warm == again == cold
    assert parsed == [workflow.name, workflow.name]
    assert any(m.startswith(f"{workflow}:{broken_line + 2}:") for m in cold), cold
    # A schema error in a cached file's new version is located as well.
    lines[broken_line] = "initial: 42"
    workflow.write_text("\n".join(lines) + "\n", "utf-8")
    located = [str(i) for i in check_bundle(root)[1]]
    PARSE_CACHE.clear()
    assert located == [str(i) for i in check_bundle(root)[1]]
    assert any(m.startswith(f"{workflow}:{broken_line + 1}:") for m in located), located
    # Fixed: valid again, the same version as before.
    workflow.write_text(text, "utf-8")
    fixed, _ = check_bundle(root)
    assert fixed is not None and fixed.version == good.version


def test_the_same_bytes_under_another_name_report_that_name(parsed: list[str]) -> None:
    """A process serves a folder, then a stored version of it (paths relative to the
    folder): the files are not parsed again, and every message names the file as given."""
    sources = [
        (str(path.relative_to(EXAMPLE)), path.read_bytes())
        for path in sorted(EXAMPLE.rglob("*.yaml"))
        if "tests" not in path.relative_to(EXAMPLE).parts
    ]
    _bundle, issues = check_bundle_sources([(f"/srv/config/{n}", b) for n, b in sources])
    count = len(parsed)
    # An unused workflow makes a warning located in its file.
    extra = (
        b"kind: Workflow\nid: spare\ninitial: a\nstates:\n  a: {category: new}\n"
        b"  b: {category: closed}\ntransitions:\n  - {id: done, from: [a], to: b}\n"
    )
    bundle, issues = check_bundle_sources([*sources, ("workflows/spare.yaml", extra)])
    assert bundle is not None
    assert len(parsed) == count + 1  # the new file only
    spare = [i for i in issues if "spare" in i.message]
    assert [i.file for i in spare] == ["workflows/spare.yaml"]
    cold_names = {i.file for i in issues}
    assert not any(name.startswith("/srv/") for name in cold_names)
    PARSE_CACHE.clear()
    fresh_bundle, fresh = check_bundle_sources([*sources, ("workflows/spare.yaml", extra)])
    assert [str(i) for i in fresh] == [str(i) for i in issues]
    assert fresh_bundle is not None and fresh_bundle.summary() == bundle.summary()


def test_the_cache_keeps_the_last_two_loads_only(tmp_path: Path, parsed: list[str]) -> None:
    a = make_bundle(tmp_path / "a")
    check_bundle(a)
    for n in range(2):  # two other bundles of other bytes
        other = make_bundle(tmp_path / f"o{n}")
        for path in other.rglob("*.yaml"):
            path.write_bytes(path.read_bytes() + f"\n# other {n}\n".encode())
        check_bundle(other)
    parsed.clear()
    check_bundle(a)
    assert len(parsed) == len(list(a.rglob("*.yaml")))  # forgotten: parsed again


def test_an_unchanged_types_fields_are_not_compiled_again(
    tmp_path: Path, parsed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    compiled: list[str] = []
    original = loader.compile_fields  # type: ignore[attr-defined]

    def counting(entry: Any, report: Any) -> Any:
        compiled.append(entry.id)
        return original(entry, report)

    monkeypatch.setattr(loader, "compile_fields", counting)
    root = make_bundle(tmp_path, base=EXAMPLE)
    first, _ = check_bundle(root)
    assert first is not None and sorted(compiled) == sorted(first.ticket_types)
    compiled.clear()
    incident = root / "ticket_types" / "it_incident.yaml"
    incident.write_text(incident.read_text("utf-8") + "\n# changed\n", "utf-8")
    again, _ = check_bundle(root)
    assert compiled == ["it_incident"]
    assert again is not None
    kept, before = again.ticket_types["access_request"], first.ticket_types["access_request"]
    assert [(f.id, f.type) for f in kept.fields] == [(f.id, f.type) for f in before.fields]
    # A field without conditions is the very value compiled the first time.
    assert any(f is g for f, g in zip(kept.fields, before.fields, strict=True))
    changed = again.ticket_types["it_incident"].fields
    assert [f.id for f in changed] == [f.id for f in first.ticket_types["it_incident"].fields]
