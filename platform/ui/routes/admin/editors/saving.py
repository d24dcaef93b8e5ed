"""Saving an editor's draft: refused when the file changed on disk since the editor
read it (the conflict is shown, nothing is overwritten); first answered with the diff
to confirm, then written, committed when the config folder is a git work tree (the
admin as author, their message), and activated through the lifecycle's one path.

This is the editors' own small pipeline until the admin console's save pipeline
(issue 19, `admincore`) is merged; the editors call only `save_draft`.
"""

from __future__ import annotations

import difflib
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gongdan.engine import load_candidate
from gongdan.ui.routes.admin.editors.document import Draft, content_hash

__all__ = ["SaveOutcome", "save_draft"]


@dataclass(frozen=True)
class SaveOutcome:
    conflict: bool = False
    diff: str | None = None  # set when the save still awaits confirmation
    base: str = ""
    summary: str = ""


def _on_disk(directory: Path, path: str) -> bytes | None:
    target = directory / path
    return target.read_bytes() if target.is_file() else None


def save_draft(
    directory: Path,
    draft: Draft,
    *,
    message: str,
    author: tuple[str, str],
    live: Any,
    confirm: bool,
) -> SaveOutcome:
    old = _on_disk(directory, draft.path)
    if (old is None and draft.base) or (old is not None and content_hash(old) != draft.base):
        return SaveOutcome(conflict=True)
    before = old.decode("utf-8-sig") if old is not None else ""
    diff = "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            draft.text.splitlines(keepends=True),
            fromfile=f"a/{draft.path}",
            tofile=f"b/{draft.path}",
        )
    )
    if not confirm:
        return SaveOutcome(diff=diff or "(no change)", base=draft.base)
    target = directory / draft.path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(draft.text, encoding="utf-8")
    result = live.promote_candidate(load_candidate(directory, live.checks), "admin editor")
    if not result.ok:
        if old is None:
            target.unlink()
        else:
            target.write_bytes(old)
        return SaveOutcome(diff=result.refusal or "refused", base=draft.base)
    _commit(directory, draft.path, message or f"Edit {draft.path}", author)
    return SaveOutcome(base=content_hash(draft.text), summary=result.outcome)


def _commit(directory: Path, path: str, message: str, author: tuple[str, str]) -> None:
    """Commit the file when the config folder is a git work tree."""
    probe = subprocess.run(
        ["git", "rev-parse", "--is-inside-work-tree"],  # noqa: S607
        cwd=directory, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if probe.stdout.strip() != "true":
        return
    name, email = author
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email,
    }  # fmt: skip
    subprocess.run(["git", "add", "--", path], cwd=directory, env=env, check=True)  # noqa: S607
    subprocess.run(
        ["git", "commit", "-q", "-m", message, "--", path],  # noqa: S607
        cwd=directory, env=env, check=True, capture_output=True,
    )  # fmt: skip
