"""Which bundle a plan compares with ("the active version"), and a plan read against
a database.

`stored_active_bundle` is the one place that reads the active version from the
database (the files each version was stored with, compiled); before any activation a
plan compares with the config folder the platform runs with.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import inspect

from gongdan.bundle.compiled import Bundle
from gongdan.bundle.loader import load_bundle
from gongdan.engine.plan.plan import Plan, plan_bundle
from gongdan.engine.store.database import Database
from gongdan.engine.unit_of_work import begin_read, utc_now
from gongdan.errors import NotFound
from gongdan.rules.workflow import Actor

__all__ = ["ActiveBundle", "active_bundle_for_plan", "plan_against", "stored_active_bundle"]


@dataclass(frozen=True, slots=True)
class ActiveBundle:
    """The bundle a plan compares with, and where it was read from."""

    bundle: Bundle
    source: str  # "database" or the folder


def stored_active_bundle(db: Database) -> Bundle | None:
    """The bundle the database names as active (its stored files, compiled); None when
    nothing was activated yet, or the database has no Gongdan tables (a SQLite file that
    does not exist is not created)."""
    from gongdan.engine.lifecycle.live import active_bundle  # (lifecycle imports the plan)

    if not _has_table(db, "config_activations"):
        return None
    return active_bundle(db)


def _has_table(db: Database, name: str) -> bool:
    url = db.engine.url
    missing_file = (
        url.get_backend_name() == "sqlite"
        and url.database not in (None, "", ":memory:")
        and not Path(url.database).exists()
    )  # (checked first: connecting would create an empty file)
    return not missing_file and inspect(db.engine).has_table(name)


def active_bundle_for_plan(
    db: Database,
    default_dir: str | os.PathLike[str],
    active_dir: str | os.PathLike[str] | None = None,
) -> ActiveBundle:
    """The bundle to plan against: the folder `active_dir` when given, else the version
    the database stores as active, else the folder `default_dir` (the config the
    platform runs with). Raises `ConfigError` when the folder read is invalid."""
    if active_dir is not None:
        return ActiveBundle(load_bundle(active_dir), str(active_dir))
    stored = stored_active_bundle(db)
    if stored is not None:
        return ActiveBundle(stored, "database")
    return ActiveBundle(load_bundle(default_dir), str(default_dir))


def plan_against(
    db: Database, active: Bundle | None, candidate: Bundle, now: datetime | None = None
) -> Plan:
    """`plan_bundle` over the tickets of `db`, read as the system in one transaction.
    Raises `NotFound` when the database has no tickets table (not migrated yet, or a
    SQLite file that does not exist: none is created)."""
    if not _has_table(db, "tickets"):
        raise NotFound(
            f"the database {db.engine.url.render_as_string()} has no Gongdan tables: "
            "run `gongdan db upgrade` first"
        )
    with begin_read(db, candidate, Actor.system(), now or utc_now()) as ctx:
        return plan_bundle(ctx, active, candidate)
