"""Build real config bundles on disk for tests: the minimal fixture bundle plus edits."""

from __future__ import annotations

import shutil
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
MINIMAL = FIXTURES / "bundles" / "minimal"
EXAMPLE = Path(__file__).parent.parent / "config"


def make_bundle(
    root: Path, files: dict[str, str | None] | None = None, base: Path | None = MINIMAL
) -> Path:
    """Copy `base` to `root/config`, then write (or, for None, delete) `files`."""
    target = root / "config"
    if target.exists():
        shutil.rmtree(target)
    if base is not None:
        shutil.copytree(base, target)
    else:
        target.mkdir(parents=True)
    for name, content in (files or {}).items():
        path = target / name
        if content is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return target


def edit_bundle(root: Path, edits: dict[str, list[tuple[str, str]]]) -> Path:
    """Replace text in the files of the bundle at `root` (each old text must be there
    once at least; its first occurrence is replaced)."""
    for name, replacements in edits.items():
        path = root / name
        text = path.read_text("utf-8")
        for old, new in replacements:
            assert old in text, f"{old!r} is not in {name}"
            text = text.replace(old, new, 1)
        path.write_text(text, "utf-8")
    return root
