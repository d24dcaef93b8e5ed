"""The one promotion path of a config bundle, whoever starts it (a watched folder
change, `gongdan apply`, start-up, the coming admin editor):

1. load and validate the folder (`load_candidate`): every error, file:line, as
   `gongdan check` prints them; an invalid bundle is never stored;
2. in one transaction (a `UnitOfWork` by the system actor, under the new bundle):
   read the active version, record the new one as active (`versions.record_activation`:
   of two processes promoting the same change at once, one commits, the other finds it
   active), compare with the active version and the live tickets and either refuse or
   move the tickets the workflows' `migrate:` names (`refuse_or_migrate`), and sync the
   teams and their declared members;
3. the processes follow the database's active version (`live.LiveConfig`).

Nothing here changes a process's bundle: that is `LiveConfig`'s job, so every process,
the promoter included, swaps the same way.
"""

from __future__ import annotations

import getpass
import logging
import os
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from gongdan.bundle.compiled import Bundle
from gongdan.bundle.loader import (
    bundle_version,
    check_bundle_sources,
    load_sources,
    relative_sources,
)
from gongdan.engine.accounts.users import sync_teams
from gongdan.engine.lifecycle.versions import ActiveVersion, read_active, record_activation
from gongdan.engine.plan.impacts import state_impacts
from gongdan.engine.plan.migrate import migrate_tickets
from gongdan.engine.plan.plan import refusal_message
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import ConfigVersion
from gongdan.engine.unit_of_work import NO_BUNDLE, UnitOfWork, begin_write, utc_now
from gongdan.errors import ConfigError, ConfigIssue, Conflict
from gongdan.rules.workflow import Actor

__all__ = [
    "SOURCES",
    "Candidate",
    "Checks",
    "Folder",
    "Promotion",
    "compile_files",
    "load_candidate",
    "promote",
    "promote_folder",
    "read_folder",
    "refuse_or_migrate",
    "who_activates",
]

log = logging.getLogger("gongdan.config")

# Where an activation came from (`config_activations.source`).
SOURCES = ("start-up", "file change", "apply", "editor")
# Checks of a compiled bundle that need a layer above the engine (mail templates,
# compiled by Jinja2 in `channels.email`): the caller hands them in.
Checks = Callable[[Bundle], Iterable[ConfigIssue]]
_ATTEMPTS = 5  # promotions lost to a concurrent one before giving up


@dataclass(frozen=True, slots=True)
class Candidate:
    """A folder read and checked: its compiled bundle (None when invalid), every
    issue, its files as (relative path, text) and its version."""

    bundle: Bundle | None
    issues: tuple[ConfigIssue, ...]
    files: tuple[tuple[str, str], ...]
    version: str

    @property
    def errors(self) -> tuple[ConfigIssue, ...]:
        return tuple(i for i in self.issues if i.severity == "error")


@dataclass(frozen=True, slots=True)
class Promotion:
    """What a promotion did: `outcome` is `activated`, `unchanged` (already active),
    `invalid` (errors: nothing stored) or `refused` (`refusal` says why)."""

    outcome: str
    version: str
    bundle: Bundle | None = None
    issues: tuple[ConfigIssue, ...] = ()
    refusal: str | None = None
    activation_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.outcome in ("activated", "unchanged")


@dataclass(frozen=True, slots=True)
class Folder:
    """A config folder's files as read (display name and path inside it) and their
    version, before anything is parsed: enough to tell a folder that is the version
    a process already serves, at the cost of reading the files."""

    directory: str | os.PathLike[str]
    sources: list[tuple[str, bytes]]
    relative: list[tuple[str, bytes]]
    version: str
    issues: tuple[ConfigIssue, ...] = ()


def read_folder(directory: str | os.PathLike[str]) -> Folder:
    """Read the bundle files of `directory` (a missing folder is an issue)."""
    try:
        sources = load_sources(directory)
    except ConfigError as error:
        return Folder(directory, [], [], "", error.issues)
    relative = relative_sources(sources, directory)
    return Folder(directory, sources, relative, bundle_version(relative))


def load_candidate(
    directory: str | os.PathLike[str], checks: Checks | None = None, *, folder: Folder | None = None
) -> Candidate:
    """Read (unless `folder` was) and check the bundle of `directory` (never raises
    `ConfigError`: a missing folder or unreadable file is an issue like any other)."""
    folder = folder or read_folder(directory)
    if folder.issues:
        return Candidate(None, folder.issues, (), "")
    sources, relative, version = folder.sources, folder.relative, folder.version
    bundle, issues = check_bundle_sources(sources, version=version)
    if bundle is not None and checks is not None:
        issues = sorted([*issues, *checks(bundle)])
        if any(i.severity == "error" for i in issues):
            bundle = None
    files: tuple[tuple[str, str], ...] = ()
    if bundle is not None:
        try:
            files = tuple((path, content.decode("utf-8")) for path, content in relative)
        except UnicodeDecodeError as error:  # (the YAML parser takes UTF-8 only)
            issues = [*issues, ConfigIssue(str(directory), 1, 1, "(file)", str(error))]
            bundle = None
    return Candidate(bundle, tuple(issues), files, version)


def compile_files(files: Iterable[tuple[str, str]], version: str) -> Bundle:
    """The bundle of a stored version's files (`ConfigError` if this code finds them
    invalid, which a stored version never was when it was stored)."""
    sources = [(path, text.encode("utf-8")) for path, text in files]
    bundle, issues = check_bundle_sources(sources, version=version)
    if bundle is None:
        raise ConfigError(issues)
    return bundle


def who_activates() -> str:
    """Who or what a promotion is recorded as activated by: user@host and process."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no user name in a bare container
        user = str(os.getuid()) if hasattr(os, "getuid") else "?"
    return f"{user}@{socket.gethostname()} pid {os.getpid()}"


def refuse_or_migrate(ctx: UnitOfWork, active: Bundle | None, candidate: Bundle) -> str | None:
    """Compare `candidate` with the `active` bundle (None on a first activation) and
    the live tickets: return why it is refused (tickets not closed stranded in states
    their workflow no longer has, without a workflow `migrate:`), or move the tickets the
    `migrate:` names, with events, in `ctx` (the promotion's transaction) and return
    None. Only the part of `gongdan plan` that decides runs here (one grouped count of
    the live tickets), not the whole plan: a reload must not cost in proportion to the
    tickets."""
    base = NO_BUNDLE if active is None else active
    stranded = tuple(s for s in state_impacts(ctx, base, candidate) if s.migrate_to is None)
    refusal = refusal_message(stranded)
    if refusal is not None:
        return refusal
    migrate_tickets(ctx, base, candidate)
    return None


class _Refused(Exception):
    """Rolls the promotion's transaction back."""


def promote(
    db: Database,
    candidate: Candidate,
    *,
    source: str,
    activated_by: str | None = None,
    current: Bundle | None = None,
    now: datetime | None = None,
) -> Promotion:
    """Make `candidate` the active version (see the module's docstring). `current` is
    the caller's bundle, used as the active one when it is. Safe to run in several
    processes at once: one activates, the others find it `unchanged`."""
    bundle = candidate.bundle
    if bundle is None:
        return Promotion("invalid", candidate.version, issues=candidate.issues)
    by = activated_by or who_activates()
    last: Conflict | None = None
    for _attempt in range(_ATTEMPTS):
        refusal: str | None = None
        try:
            with begin_write(db, bundle, Actor.system(), now or utc_now()) as ctx:
                active = read_active(ctx.session)
                if active is not None and active.version == bundle.version:
                    return Promotion("unchanged", bundle.version, bundle, candidate.issues)
                activation_id = record_activation(
                    ctx.session,
                    version=bundle.version,
                    files=list(candidate.files),
                    summary=bundle.summary(),
                    previous=active,
                    source=source,
                    activated_by=by,
                    now=ctx.now,
                )
                refusal = refuse_or_migrate(ctx, _active_bundle(ctx, active, current), bundle)
                if refusal is not None:
                    raise _Refused
                sync_teams(ctx)
        except _Refused:
            log.warning("config %s refused: %s", bundle.version, refusal)
            return Promotion(
                "refused", bundle.version, issues=candidate.issues, refusal=str(refusal)
            )
        except Conflict as error:
            log.debug("promotion lost to another: %s", error)
            last = error
            continue  # another process promoted meanwhile: look again
        log.info("config %s is active (%s, by %s)", bundle.version, source, by)
        return Promotion(
            "activated", bundle.version, bundle, candidate.issues, activation_id=activation_id
        )
    raise Conflict("the config changed too often at once; try again") from last


def _active_bundle(
    ctx: UnitOfWork, active: ActiveVersion | None, current: Bundle | None
) -> Bundle | None:
    if active is None:
        return None
    if current is not None and current.version == active.version:
        return current
    stored = ctx.session.get(ConfigVersion, active.version)
    if stored is None or stored.content is None:
        return None
    try:
        return compile_files(((str(p), str(t)) for p, t in stored.content), active.version)
    except ConfigError:
        return None


def promote_folder(
    db: Database,
    directory: str | os.PathLike[str],
    *,
    source: str,
    checks: Checks | None = None,
    activated_by: str | None = None,
    current: Bundle | None = None,
) -> Promotion:
    """Load, check and promote the bundle of `directory`; errors are logged."""
    candidate = load_candidate(Path(directory), checks)
    if candidate.bundle is None:
        log.error(
            "config %s is invalid, the active version stays:\n%s",
            directory,
            "\n".join(str(i) for i in candidate.errors),
        )
        return Promotion("invalid", candidate.version, issues=candidate.issues)
    return promote(db, candidate, source=source, activated_by=activated_by, current=current)
