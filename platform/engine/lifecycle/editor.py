"""The save pipeline of the admin console: config files edited in the browser, checked,
shown and made live through the one promotion path.

```python
editor = ConfigEditor(live)                      # live: the process's LiveConfig
opened = editor.open("ticket_types/it_request.yaml")
opened.yaml.documents[0]["fields"][0]["label"]["en"] = "Summary"
change = opened.change(opened.yaml.dump())       # or FileChange(path, text, base)
proposal = editor.propose([change])              # errors, diffs, plan, refusal
saved = editor.save([change], Author("Ana", "ana@example.com"), "Rename the field")
```

- `open`/`read` give a file's text with the hash of its content (`base`): the change
  remembers what it was made from.
- `check` validates the folder as it would be with the changes, by the loader and
  checks `gongdan check` uses (the mail templates and the bundle's own tests too) (the same messages, file:line:col, mapped back to the file
  inside the folder, its document and the path in it); `propose` adds each file's
  unified diff and the `plan` against the active version (the open tickets affected,
  and whether `apply` would refuse it).
- `save`, under a lock on the folder: refuses a conflict (a file changed on disk since
  its base: nothing is written), an invalid bundle (`SaveRefused` with the errors) and
  a refused one (`SaveRefused` with the refusal); otherwise promotes the new bundle
  (source `editor`, activated by the admin), writes the files and, when the folder is
  in a git work tree, commits them with the admin as author and their message. The
  promotion comes first so the watching processes find the written folder already
  active (it is not promoted twice, and never as a `file change`); every process
  follows the database's active version (`live.LiveConfig`), so no restart.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from gongdan.bundle.compile_tests import load_tests
from gongdan.bundle.compiled import Bundle
from gongdan.bundle.edits import FileChange, apply_changes, base_of, check_config_path
from gongdan.bundle.loader import bundle_version, check_bundle_sources
from gongdan.bundle.roundtrip import YamlFile, content_hash, unified_diff
from gongdan.bundle.yamlio import parse_documents
from gongdan.engine.lifecycle.gitwork import GitCommit, commit_files
from gongdan.engine.lifecycle.live import LiveConfig
from gongdan.engine.lifecycle.promote import Candidate, Promotion, read_folder
from gongdan.engine.lifecycle.versions import version_files
from gongdan.engine.plan.active import plan_against
from gongdan.engine.plan.plan import Plan
from gongdan.engine.store.database import Database
from gongdan.errors import ConfigError, ConfigIssue, Conflict, GongdanError, NotFound

__all__ = [
    "Author",
    "ConfigEditor",
    "EditConflict",
    "EditIssue",
    "FileDiff",
    "FileStatus",
    "FolderStatus",
    "OpenedFile",
    "Proposal",
    "SaveRefused",
    "Saved",
    "diff_versions",
    "path_parts",
]

_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def path_parts(path: str) -> tuple[str | int, ...]:
    """A document path as `gongdan check` prints it (`fields[2].label.en`) as parts
    (`("fields", 2, "label", "en")`); `(document)` is the empty path."""
    if path == "(document)":
        return ()
    return tuple(int(index) if index else key for key, index in _PART.findall(path))


@dataclass(frozen=True, slots=True)
class Author:
    """Who saves: recorded as the activation's `activated_by` and the commit's author."""

    name: str
    email: str

    def __str__(self) -> str:
        return f"{self.name or self.email} <{self.email}>"


@dataclass(frozen=True, slots=True)
class EditIssue:
    """A `gongdan check` issue located for an editor: `file` is the path inside the
    config folder, `document` the index of the document in it (files may hold several),
    `parts` the path inside the document as parts (`path` as check prints it)."""

    file: str
    line: int
    column: int
    path: str
    message: str
    severity: str
    document: int = 0
    parts: tuple[str | int, ...] = ()

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{self.file}:{self.line}:{self.column}: {self.path}: {prefix}{self.message}"

    def at(self, file: str, *prefix: str | int) -> bool:
        """Whether the issue is in `file` at `prefix` or below (an editor's control)."""
        return self.file == file and self.parts[: len(prefix)] == prefix


@dataclass(frozen=True, slots=True)
class OpenedFile:
    """A config file as read for editing: `text`, its `base` hash, and (for `open`)
    the round-trip `yaml` to edit as data."""

    path: str
    text: str
    base: str | None
    yaml: YamlFile | None = None

    def change(self, text: str | None) -> FileChange:
        """A change of this file to `text` (None: delete it), based on what was read."""
        return FileChange(self.path, text, self.base)


@dataclass(frozen=True, slots=True)
class FileDiff:
    """One changed file: `old` (None: new) and `new` (None: deleted) text, and `diff`."""

    path: str
    old: str | None
    new: str | None
    diff: str


@dataclass(frozen=True, slots=True)
class Proposal:
    """What saving `changes` would do. `ok` when it may be saved: valid, no conflict,
    not refused."""

    changes: tuple[FileChange, ...]
    version: str
    issues: tuple[EditIssue, ...] = ()
    diffs: tuple[FileDiff, ...] = ()
    conflicts: tuple[str, ...] = ()
    plan: Plan | None = None
    refusal: str | None = None
    # The bundle as it would be, compiled (None while it has errors): what an editor
    # previews (a form, a diagram, which rule a ticket would hit) before saving.
    bundle: Bundle | None = field(default=None, repr=False, compare=False)

    @property
    def errors(self) -> tuple[EditIssue, ...]:
        return tuple(i for i in self.issues if i.severity == "error")

    @property
    def ok(self) -> bool:
        return not self.errors and not self.conflicts and self.refusal is None

    def issues_at(self, file: str, *prefix: str | int) -> list[EditIssue]:
        """The issues of `file` at `prefix` of a document's path or below."""
        return [i for i in self.issues if i.at(file, *prefix)]


@dataclass(frozen=True, slots=True)
class Saved:
    """A saved change: the promotion (`activated` or `unchanged`), the files written and
    the git commit (None when the folder is not in a git work tree; `commit_error` says
    why a commit failed: the change is live and written all the same)."""

    promotion: Promotion
    paths: tuple[str, ...]
    commit: GitCommit | None = None
    commit_error: str | None = None
    proposal: Proposal | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class FileStatus:
    """One file of the folder: its documents as (kind, id) and its issues."""

    path: str
    documents: tuple[tuple[str, str], ...]
    issues: tuple[EditIssue, ...]

    @property
    def errors(self) -> int:
        return sum(1 for i in self.issues if i.severity == "error")

    @property
    def warnings(self) -> int:
        return len(self.issues) - self.errors

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds of its documents, each once, in order ("" when unreadable)."""
        return tuple(dict.fromkeys(k for k, _ in self.documents)) or ("",)


@dataclass(frozen=True, slots=True)
class FolderStatus:
    """The folder on disk: its files, its version, the version this process serves
    (`active`), and the issues that belong to no file of it."""

    files: tuple[FileStatus, ...]
    version: str
    active: str
    other_issues: tuple[EditIssue, ...] = ()

    @property
    def errors(self) -> int:
        return sum(f.errors for f in self.files) + len(self.other_issues)

    def by_kind(self) -> dict[str, list[FileStatus]]:
        """The files under each kind they hold (a file of several kinds under each)."""
        kinds: dict[str, list[FileStatus]] = {}
        for status in self.files:
            for kind in status.kinds:
                kinds.setdefault(kind, []).append(status)
        return dict(sorted(kinds.items()))


def diff_versions(db: Database, old: str, new: str) -> tuple[str, str, tuple[FileDiff, ...]]:
    """The full ids of two stored versions (ids or prefixes) and the diff of every file
    that differs between them, by path. `NotFound`/`ValidationFailed` as `version_files`."""
    old_id, old_files = version_files(db, old)
    new_id, new_files = version_files(db, new)
    before, after = dict(old_files), dict(new_files)
    diffs = tuple(
        FileDiff(
            path,
            before.get(path),
            after.get(path),
            unified_diff(path, before.get(path), after.get(path)),
        )
        for path in sorted(set(before) | set(after))
        if before.get(path) != after.get(path)
    )
    return old_id, new_id, diffs


class EditConflict(Conflict):
    """Files changed on disk since the editor read them (`paths`): nothing was written."""

    def __init__(self, paths: Sequence[str]) -> None:
        self.paths = tuple(paths)
        super().__init__(
            f"changed on disk since you opened {'them' if len(paths) > 1 else 'it'}: "
            + ", ".join(self.paths)
            + " (nothing was saved; reload to see the changes)"
        )


class SaveRefused(GongdanError):
    """The change is invalid or `apply` would refuse it: nothing was written. `proposal`
    holds the errors (or the refusal)."""

    def __init__(self, proposal: Proposal) -> None:
        self.proposal = proposal
        if proposal.refusal is not None:
            detail = f"refused: {proposal.refusal}"
        else:
            errors = proposal.errors
            detail = f"{len(errors)} error{'s' * (len(errors) != 1)}: " + "; ".join(
                str(e) for e in errors[:3]
            )
        super().__init__(detail)


class ConfigEditor:
    """The save pipeline over a process's `LiveConfig` (its database, folder and
    checks). Thread- and process-safe: saves of one folder take turns."""

    def __init__(self, live: LiveConfig) -> None:
        if live.directory is None:
            raise ValueError("the live config has no folder to edit")
        self.live = live
        self.directory: Path = live.directory

    # Reading ---------------------------------------------------------------------------

    def folder_files(self) -> list[tuple[str, bytes]]:
        """Every bundle file of the folder as it is on disk: (path inside, bytes)."""
        folder = read_folder(self.directory)
        if folder.issues:
            raise ConfigError(folder.issues)
        return folder.relative

    def read(self, path: str) -> OpenedFile:
        """A file's text and base (`NotFound` when it does not exist)."""
        path = check_config_path(path)
        target = self.directory / path
        try:
            content = target.read_bytes()
        except FileNotFoundError:
            raise NotFound(f"no config file {path}") from None
        return OpenedFile(path, content.decode("utf-8"), content_hash(content))

    def locate(self, kind: str, doc_id: str) -> tuple[str, int]:
        """The file (inside the folder) and document index that declare `kind` `doc_id`
        (`NotFound` when none does)."""
        for path, content in self.folder_files():
            try:
                documents = parse_documents(content, path)
            except ConfigError:
                continue
            for doc in documents:
                data = doc.data
                if (
                    isinstance(data, dict)
                    and data.get("kind") == kind
                    and str(data.get("id", Path(path).stem)) == doc_id
                ):
                    return path, doc.index
        raise NotFound(f"no {kind} '{doc_id}' in the config folder")

    def open(self, path: str) -> OpenedFile:
        """`read`, with the round-trip YAML to edit (`ConfigError` on a syntax error)."""
        opened = self.read(path)
        yaml = YamlFile.parse(opened.text, path)
        return OpenedFile(opened.path, opened.text, opened.base, yaml)

    def status(self) -> FolderStatus:
        """The folder as it is on disk, for the console's tree: every file with its
        documents (kind, id) and its issues, the folder's version and the active one.

        Checking a large folder takes seconds, so the answer is kept per folder state
        (every file's path, size and modification time, and the active version) and
        checked again only when that changes."""
        state = (_folder_state(self.directory), self.live.bundle.version)
        with _STATUS_LOCK:
            kept = _STATUS.get(self.directory)
        if kept is not None and kept[0] == state:
            return kept[1]
        status = self._status()
        with _STATUS_LOCK:
            _STATUS[self.directory] = (state, status)
        return status

    def _status(self) -> FolderStatus:
        files = self.folder_files()
        proposal = self.check([])
        described = []
        for path, content in files:
            try:
                documents = tuple(
                    (str(d.data.get("kind", "")), str(d.data.get("id", Path(path).stem)))
                    for d in parse_documents(content, path)
                    if isinstance(d.data, dict)
                )
            except ConfigError:
                documents = ()
            issues = tuple(i for i in proposal.issues if i.file == path)
            described.append(FileStatus(path, documents, issues))
        return FolderStatus(
            tuple(described),
            proposal.version,
            self.live.bundle.version,
            tuple(i for i in proposal.issues if i.file not in dict(files)),
        )

    # Checking --------------------------------------------------------------------------

    def check(self, changes: Iterable[FileChange]) -> Proposal:
        """Validate the folder as it would be with `changes` (errors, conflicts, diffs;
        no plan: cheap enough for every edit)."""
        return self._proposal(self.folder_files(), tuple(changes), plan=False)[0]

    def propose(self, changes: Iterable[FileChange], now: datetime | None = None) -> Proposal:
        """`check`, and the plan against the active version with its refusal."""
        return self._proposal(self.folder_files(), tuple(changes), plan=True, now=now)[0]

    def _proposal(
        self,
        files: list[tuple[str, bytes]],
        changes: tuple[FileChange, ...],
        *,
        plan: bool,
        now: datetime | None = None,
    ) -> tuple[Proposal, Candidate]:
        changes = tuple(FileChange(check_config_path(c.path), c.text, c.base) for c in changes)
        conflicts = tuple(c.path for c in changes if base_of(files, c.path) != c.base)
        after = apply_changes(files, changes)
        version = bundle_version(after)
        root = str(self.directory)
        shown = [(os.path.join(root, path), content) for path, content in after]
        bundle, issues = check_bundle_sources(shown, version=version)
        if bundle is not None and self.live.checks is not None:
            issues = [*issues, *self.live.checks(bundle)]
        # As `gongdan check`: the bundle's own tests (tests/, not edited here) must
        # still fit it.
        issues = sorted([*issues, *load_tests(self.directory, bundle)[1]])
        if any(i.severity == "error" for i in issues):
            bundle = None
        texts = dict(after)
        located = tuple(_locate(issue, root, texts) for issue in issues)
        before = dict(files)
        diffs = tuple(
            _diff(c.path, before.get(c.path), texts.get(c.path)) for c in _last_per_path(changes)
        )
        candidate = Candidate(
            bundle,
            tuple(issues),
            tuple((p, c.decode("utf-8")) for p, c in after) if bundle is not None else (),
            version,
        )
        the_plan = None
        if plan and bundle is not None:
            the_plan = plan_against(self.live.db, self.live.bundle, bundle, now)
        proposal = Proposal(
            changes,
            version,
            located,
            tuple(d for d in diffs if d.old != d.new),
            conflicts,
            the_plan,
            the_plan.refusal if the_plan is not None else None,
            candidate.bundle,
        )
        return proposal, candidate

    # Saving ----------------------------------------------------------------------------

    def save(self, changes: Iterable[FileChange], author: Author, message: str = "") -> Saved:
        """Save `changes` (see the module's docstring). Raises `EditConflict` or
        `SaveRefused`; nothing is written then."""
        changes = tuple(changes)
        with _folder_lock(self.directory):
            files = self.folder_files()
            proposal, candidate = self._proposal(files, changes, plan=False)
            if proposal.conflicts:
                raise EditConflict(proposal.conflicts)
            if proposal.errors:
                raise SaveRefused(proposal)
            result = self.live.promote_candidate(candidate, "editor", activated_by=str(author))
            if not result.ok:
                raise SaveRefused(
                    Proposal(
                        proposal.changes,
                        proposal.version,
                        proposal.issues,
                        proposal.diffs,
                        refusal=result.refusal or "the bundle is invalid",
                    )
                )
            paths = tuple(d.path for d in proposal.diffs)
            _write(self.directory, proposal.changes)
        commit, commit_error = None, None
        if paths:
            text = message.strip() or f"Edit {', '.join(paths)} in the admin console"
            try:
                commit = commit_files(self.directory, paths, author.name, author.email, text)
            except OSError as error:
                commit_error = str(error)
        return Saved(result, paths, commit, commit_error, proposal)


_STATUS: dict[Path, tuple[object, FolderStatus]] = {}
_STATUS_LOCK = threading.Lock()


def _folder_state(directory: Path) -> tuple[tuple[str, int, int], ...]:
    """Every file under the folder (the bundle, mail templates, the bundle's tests) by
    path, size and modification time: a change on disk changes it."""
    found: list[tuple[str, int, int]] = []
    for root, dirs, names in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            path = os.path.join(root, name)
            try:
                info = os.stat(path)
            except OSError:
                continue
            found.append((path, info.st_size, info.st_mtime_ns))
    return tuple(found)


def _last_per_path(changes: Sequence[FileChange]) -> list[FileChange]:
    last = {c.path: c for c in changes}
    return list(last.values())


def _diff(path: str, old: bytes | None, new: bytes | None) -> FileDiff:
    before = None if old is None else old.decode("utf-8")
    after = None if new is None else new.decode("utf-8")
    return FileDiff(path, before, after, unified_diff(path, before, after))


def _locate(issue: ConfigIssue, root: str, texts: dict[str, bytes]) -> EditIssue:
    file = issue.file
    prefix = root.rstrip(os.sep) + os.sep
    if file.startswith(prefix):
        file = file[len(prefix) :].replace(os.sep, "/")
    return EditIssue(
        file,
        issue.line,
        issue.column,
        issue.path,
        issue.message,
        issue.severity,
        _document_at(texts.get(file), file, issue.line),
        path_parts(issue.path),
    )


def _document_at(content: bytes | None, file: str, line: int) -> int:
    """The index of the document of `file` that holds `line` (0 when unknown)."""
    if content is None or b"\n---" not in b"\n" + content:
        return 0
    try:
        starts = [d.position[0] for d in parse_documents(content, file)]
    except ConfigError:
        return 0
    return max((n for n, start in enumerate(starts) if start <= line), default=0)


@contextlib.contextmanager
def _folder_lock(directory: Path) -> Iterator[None]:
    """An exclusive lock on the config folder (across threads and processes)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # (closing releases the lock)


def _write(directory: Path, changes: Sequence[FileChange]) -> None:
    """Write each change atomically (a temporary file renamed over the old one)."""
    for change in _last_per_path(changes):
        target = directory / change.path
        if change.text is None:
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.saving")
        temporary.write_bytes(change.text.encode("utf-8"))
        os.replace(temporary, target)
