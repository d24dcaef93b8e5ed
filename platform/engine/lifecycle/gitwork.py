"""Commit an edited config folder's files when the folder is in a git work tree.

The admin console's saves (`editor.ConfigEditor.save`) become commits with the admin
as author and the message they typed, so IT teams review the browser's changes like
their own. Only the saved files are committed (other changes in the work tree are left
as they are). The committer is git's configured identity, or the author when the
repository has none. Runs the `git` program; no git, or a folder outside a work tree,
is simply no commit.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["GitCommit", "commit_files", "in_work_tree"]

_TIMEOUT = 30


@dataclass(frozen=True, slots=True)
class GitCommit:
    """A commit made: its hash, author and subject."""

    sha: str
    author: str
    subject: str


def _git(directory: Path, *args: str, env: dict[str, str] | None = None) -> str:
    git = shutil.which("git")
    if git is None:
        raise OSError("git is not installed")
    done = subprocess.run(  # noqa: S603 - fixed program and arguments
        [git, "-C", str(directory), *args],
        capture_output=True,
        text=True,
        timeout=_TIMEOUT,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise OSError(f"git {args[0]}: {(done.stderr or done.stdout).strip()}")
    return done.stdout


def in_work_tree(directory: Path) -> bool:
    """Whether `directory` is inside a git work tree (False without git)."""
    try:
        return _git(directory, "rev-parse", "--is-inside-work-tree").strip() == "true"
    except OSError:
        return False


def commit_files(
    directory: Path, paths: Sequence[str], name: str, email: str, message: str
) -> GitCommit | None:
    """Commit `paths` (inside `directory`, new, changed or deleted) with `name <email>`
    as author and `message`; None when `directory` is not in a work tree. `OSError`
    when git fails (a hook refused, the files are ignored...)."""
    if not paths or not in_work_tree(directory):
        return None
    author = f"{name or email} <{email}>"
    env = dict(os.environ)
    env.update({"GIT_AUTHOR_NAME": name or email, "GIT_AUTHOR_EMAIL": email})
    if not _configured(directory, "user.email"):
        env.update({"GIT_COMMITTER_NAME": name or email, "GIT_COMMITTER_EMAIL": email})
    _git(directory, "add", "-A", "--", *paths, env=env)
    _git(directory, "commit", "--quiet", "-m", message, "--", *paths, env=env)
    sha = _git(directory, "rev-parse", "HEAD").strip()
    return GitCommit(sha, author, message.splitlines()[0] if message else "")


def _configured(directory: Path, key: str) -> bool:
    try:
        return bool(_git(directory, "config", "--get", key).strip())
    except OSError:
        return False
