"""`LiveConfig`: the bundle a process runs, following the database's active version.

Every process that runs the engine (each web worker, the Celery worker, the mail
listener, the in-process runner) keeps one `LiveConfig` and reads "the current bundle"
through it (`live.bundle`, or `live.current` as a callable). A background thread asks
the database for the active version twice a second (`read_active`, one indexed
read); when it changed, the thread compiles the stored files once and swaps the
reference. Nothing is rebuilt per request, and whoever holds the old `Bundle` (a
request in flight) keeps it until it is done.

With `GONGDAN_CONFIG_RELOAD=watch` (the default) the same thread also watches the
config folder: when a file's size or modification time changes it promotes the folder
(`promote.promote_folder`, source `file change`). Several processes may watch the same
folder: the promotion is race-safe, so the change is stored once. An invalid or refused
folder never replaces the active version: the errors are logged and kept on `errors`
(and `refusal`) for admins. With `manual`, only `gongdan apply` (or the editor)
promotes; processes still follow the database.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from gongdan.bundle.compiled import Bundle
from gongdan.bundle.loader import config_files
from gongdan.engine.lifecycle.promote import (
    Candidate,
    Checks,
    Promotion,
    compile_files,
    load_candidate,
    promote,
    read_folder,
)
from gongdan.engine.lifecycle.versions import read_active
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import ConfigVersion
from gongdan.errors import ConfigError, ConfigIssue

__all__ = ["RELOAD_MODES", "LiveConfig", "active_bundle", "reload_mode", "start_config"]

log = logging.getLogger("gongdan.config")

RELOAD_MODES = ("watch", "manual")
POLL_SECONDS = 0.5
# A folder seen changing is read once it has stayed the same this long (an editor or
# `git pull` writing several files).
SETTLE_SECONDS = 0.1
_Fingerprint = tuple[tuple[str, int, int], ...]


def reload_mode(environ: Mapping[str, str] | None = None) -> str:
    """`GONGDAN_CONFIG_RELOAD`: `watch` (default) or `manual`; `ValueError` otherwise."""
    env = os.environ if environ is None else environ
    mode = (env.get("GONGDAN_CONFIG_RELOAD") or "watch").strip().lower()
    if mode not in RELOAD_MODES:
        raise ValueError(f"GONGDAN_CONFIG_RELOAD must be watch or manual, not '{mode}'")
    return mode


def fingerprint(directory: Path) -> _Fingerprint:
    """The bundle files of `directory` with their sizes and modification times."""
    found = []
    for path in config_files(directory):
        try:
            stat = path.stat()
        except OSError:
            continue  # removed while we looked: the next look sees it gone
        found.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(found)


class LiveConfig:
    """The current bundle of this process (see the module's docstring)."""

    def __init__(
        self,
        db: Database,
        bundle: Bundle,
        *,
        directory: str | os.PathLike[str] | None = None,
        watch: bool = False,
        checks: Checks | None = None,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.db = db
        self.bundle = bundle
        self.directory = Path(directory) if directory is not None else None
        self.watch = watch and self.directory is not None
        self.checks = checks
        self.poll_seconds = poll_seconds
        # The errors of the folder as it is now when it is invalid (and why it was
        # refused), for admins; empty once the folder is fine again.
        self.errors: tuple[ConfigIssue, ...] = ()
        self.refusal: str | None = None
        self.reloads = 0
        # CPU seconds (of the reloading thread) the last load, check and swap took.
        self.last_reload_cpu = 0.0
        self._listeners: list[Callable[[Bundle], None]] = []
        self._seen: _Fingerprint | None = (
            fingerprint(self.directory) if self.directory is not None else None
        )
        self._unusable: str | None = None  # an active version this code cannot compile
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def current(self) -> Bundle:
        """The bundle to start a piece of work with (hold on to it until it is done)."""
        return self.bundle

    def subscribe(self, listener: Callable[[Bundle], None]) -> None:
        """Call `listener(bundle)` after every swap (in the swapping thread)."""
        self._listeners.append(listener)

    # Following the database ------------------------------------------------------------

    def follow(self) -> bool:
        """Swap to the database's active version if it is not ours; whether it swapped."""
        started = time.thread_time()
        with self.db.reading() as session:
            active = read_active(session)
            if active is None or active.version in (self.bundle.version, self._unusable):
                return False
            stored = session.get(ConfigVersion, active.version)
            files = [(str(p), str(t)) for p, t in (stored.content or [])] if stored else []
        try:
            bundle = compile_files(files, active.version)
        except ConfigError as error:  # stored by a newer or older release than ours
            log.error("config %s cannot be compiled here: %s", active.version, error)
            self._unusable = active.version  # (not compiled again every round)
            return False
        self._swap(bundle)
        self.last_reload_cpu = time.thread_time() - started
        return True

    def _swap(self, bundle: Bundle) -> None:
        with self._lock:
            if bundle.version == self.bundle.version:
                return
            self.bundle = bundle
            self.reloads += 1
        log.info("config %s is now served by pid %d", bundle.version, os.getpid())
        for listener in self._listeners:
            listener(bundle)

    # Watching the folder ---------------------------------------------------------------

    def look(self) -> Promotion | None:
        """Promote the folder if it changed since the last look (watch mode)."""
        if not self.watch or self.directory is None:
            return None
        seen = fingerprint(self.directory)
        if seen == self._seen:
            return None
        time.sleep(SETTLE_SECONDS)
        settled = fingerprint(self.directory)
        if settled != seen:
            return None  # still being written: look again next time
        self._seen = settled
        started = time.thread_time()
        folder = read_folder(self.directory)
        if folder.version == self.bundle.version:  # (another process promoted it first)
            self.errors, self.refusal = (), None
            return None
        candidate = load_candidate(self.directory, self.checks, folder=folder)
        result = self.promote_candidate(candidate, "file change")
        self.last_reload_cpu = time.thread_time() - started
        return result

    def promote_candidate(
        self, candidate: Candidate, source: str, *, activated_by: str | None = None
    ) -> Promotion:
        """Promote `candidate` and, when it is active, serve it at once."""
        result = promote(
            self.db, candidate, source=source, activated_by=activated_by, current=self.bundle
        )
        self.errors = candidate.errors if result.outcome == "invalid" else ()
        self.refusal = result.refusal
        if result.outcome == "invalid":
            log.error(
                "config %s is invalid, version %s stays active:\n%s",
                self.directory,
                self.bundle.version,
                "\n".join(str(i) for i in candidate.errors),
            )
        if result.ok and result.bundle is not None:
            self._swap(result.bundle)
        return result

    # The thread ------------------------------------------------------------------------

    def step(self) -> None:
        """One round: follow the database, then look at the folder."""
        try:
            self.follow()
            self.look()
        except Exception:  # the database restarting: try again next round
            log.exception("config reload failed; trying again")

    def start(self) -> None:
        """Follow (and watch) in a daemon thread until `stop`."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="gongdan-config", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            self.step()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join(timeout=10)


def active_bundle(db: Database) -> Bundle | None:
    """The compiled bundle of the database's active version (None before the first
    activation): what `gongdan plan` compares a folder with, in a process that does not
    follow the database itself. `ConfigError` if this release cannot compile it."""
    with db.reading() as session:
        active = read_active(session)
        if active is None:
            return None
        stored = session.get(ConfigVersion, active.version)
        files = [(str(p), str(t)) for p, t in (stored.content or [])] if stored else []
    return compile_files(files, active.version)


def start_config(
    db: Database,
    directory: str | os.PathLike[str],
    *,
    mode: str | None = None,
    checks: Checks | None = None,
    poll_seconds: float = POLL_SECONDS,
) -> LiveConfig:
    """The `LiveConfig` of a starting process. With `watch`, the folder is promoted
    first (source `start-up`); with `manual`, only when no version is active yet. The
    process then serves the active version; `ConfigError` when there is none to serve
    (the folder is invalid and nothing was ever activated)."""
    mode = mode or reload_mode()
    candidate = load_candidate(directory, checks)
    with db.reading() as session:
        active = read_active(session)
    errors: tuple[ConfigIssue, ...] = ()
    refusal = None
    if mode == "watch" or active is None:
        result = promote(db, candidate, source="start-up")
        if result.outcome == "invalid":
            if active is None:
                raise ConfigError(candidate.issues)
            errors = candidate.errors
            log.error(
                "config %s is invalid, the active version stays:\n%s",
                directory,
                "\n".join(str(i) for i in candidate.errors),
            )
        refusal = result.refusal
        with db.reading() as session:
            active = read_active(session)
    assert active is not None  # noqa: S101 - promoted above, or already active
    if candidate.bundle is not None and candidate.bundle.version == active.version:
        bundle = candidate.bundle
    else:
        served = active_bundle(db)
        assert served is not None  # noqa: S101 - there is an active version
        bundle = served
    live = LiveConfig(
        db,
        bundle,
        directory=directory,
        watch=mode == "watch",
        checks=checks,
        poll_seconds=poll_seconds,
    )
    live.errors, live.refusal = errors, refusal
    return live
