"""Build real config bundles on disk for tests: the minimal fixture bundle plus edits."""

from __future__ import annotations

import shutil
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
MINIMAL = FIXTURES / "bundles" / "minimal"
EXAMPLE = Path(__file__).parent.parent / "config"

# Text replacements in a bundle's files (`edit_bundle`), by file.
Edits = dict[str, list[tuple[str, str]]]
# The example without its routing rules and automations (as the `example_bundle`
# fixture), as files for `make_bundle`.
NO_ROUTING: dict[str, str | None] = {"routing/default.yaml": None, "routing/automations.yaml": None}
# The example incident workflow without its waiting_customer state (tickets waiting
# there are stranded), and the migrate that moves them to in_progress (whose
# on_enter then tags them `migrated`).
NO_WAITING_WORKFLOW = """\
kind: Workflow
id: incident
initial: new
states:
  new: {category: new}
  in_progress: {category: open}
  resolved: {category: resolved}
  closed: {category: closed}
transitions:
  - {id: start, from: [new], to: in_progress}
  - id: resolve
    from: [new, in_progress]
    to: resolved
    when: {assignee: {empty: false}}
    fields: [resolution_code]
    comment: required
  - {id: reopen, from: [resolved], to: in_progress, roles: [requester, agent]}
  - {id: withdraw, from: [new], to: closed, roles: [requester]}
  - {id: close, from: [resolved], to: closed, roles: [requester, agent], after: 72h}
on_enter:
  resolved: [{notify: requester, template: resolved}]
"""
# (Its macro that asks the requester and waits goes too: it names `ask_requester`.)
NO_WAITING: dict[str, str | None] = {
    "workflows/incident.yaml": NO_WAITING_WORKFLOW,
    "macros/ask_for_serial.yaml": None,
}
MIGRATE_TO_IN_PROGRESS: Edits = {
    "workflows/incident.yaml": [
        (
            "on_enter:\n",
            "migrate:\n  waiting_customer: in_progress\non_enter:\n"
            "  in_progress: [{add_tags: [migrated]}]\n",
        )
    ]
}


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


def edit_bundle(root: Path, edits: Edits) -> Path:
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
