"""A proposed change to a config folder's files, as values: which files get which new
text (or are deleted), each with the hash of the content it was based on, and the
bundle sources the folder would have with the change applied.

Pure: reading the folder and writing it are the engine's (`engine.lifecycle.editor`);
checking the would-be sources is the loader's, like any bundle.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from gongdan.bundle.loader import SKIPPED_DIRS
from gongdan.bundle.roundtrip import content_hash
from gongdan.errors import ValidationFailed

__all__ = ["FileChange", "apply_changes", "check_config_path"]


@dataclass(frozen=True, slots=True)
class FileChange:
    """One file of a change: `path` inside the config folder (POSIX, e.g.
    `ticket_types/office_move.yaml`), its new `text` (None: delete the file) and `base`,
    the `content_hash` of the content the change was made from (None: the file must
    not exist yet). A file whose content no longer has that hash is a conflict."""

    path: str
    text: str | None
    base: str | None

    @classmethod
    def new_file(cls, path: str, text: str) -> FileChange:
        return cls(path, text, None)

    @property
    def deleted(self) -> bool:
        return self.text is None


def check_config_path(path: str) -> str:
    """`path` as a bundle file's path inside a config folder (normalised), or
    `ValidationFailed`: relative, inside the folder, a `.yaml`/`.yml` file, no hidden
    part and not in a folder the loader skips."""
    cleaned = path.strip().replace("\\", "/")
    normal = posixpath.normpath(cleaned) if cleaned else ""
    parts = normal.split("/")
    problem = None
    if not cleaned or normal in (".", ""):
        problem = "is empty"
    elif cleaned.startswith("/") or normal.startswith("../") or normal == "..":
        problem = "must be a path inside the config folder"
    elif any(part.startswith(".") for part in parts):
        problem = "must not name a hidden file or folder"
    elif not normal.endswith((".yaml", ".yml")):
        problem = "must name a .yaml or .yml file"
    elif len(parts) > 1 and parts[0] in SKIPPED_DIRS:
        problem = f"is in {parts[0]}/, which is not part of the bundle"
    if problem is not None:
        raise ValidationFailed(f"config file '{path}' {problem}", {"path": problem})
    return normal


def apply_changes(
    files: Sequence[tuple[str, bytes]], changes: Iterable[FileChange]
) -> list[tuple[str, bytes]]:
    """The files (path inside the folder, bytes) of a folder after `changes`, in the
    loader's order (sorted paths, as `load_sources` walks them). Does not check bases."""
    by_path = dict(files)
    for change in changes:
        path = check_config_path(change.path)
        if change.text is None:
            by_path.pop(path, None)
        else:
            by_path[path] = change.text.encode("utf-8")
    return sorted(by_path.items(), key=lambda item: _walk_order(item[0]))


def _walk_order(path: str) -> tuple[tuple[int, str], ...]:
    # `load_sources` walks a folder's files before its sub-folders, each sorted.
    parts = path.split("/")
    return tuple((0 if n == len(parts) - 1 else 1, part) for n, part in enumerate(parts))


def base_of(files: Sequence[tuple[str, bytes]], path: str) -> str | None:
    """The `content_hash` of `path` among `files` (None: not there)."""
    return content_hash(dict(files).get(path))
