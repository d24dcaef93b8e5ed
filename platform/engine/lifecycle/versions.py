"""Config versions in the database: which version is active, the log of activations,
the files of a version.

A version is a content hash of the bundle's files (the `version` every ticket records);
`config_versions` keeps each version's files once, `config_activations` one row per
promotion, the newest naming the active version. These functions only read and write
rows; the promotion path that decides what becomes active is `promote.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gongdan.engine.store.database import Database
from gongdan.engine.store.models import ConfigActivation, ConfigVersion
from gongdan.errors import NotFound, ValidationFailed

__all__ = [
    "ActiveVersion",
    "VersionRecord",
    "read_active",
    "record_activation",
    "version_files",
    "version_log",
]


@dataclass(frozen=True, slots=True)
class ActiveVersion:
    """The newest activation: its id (what the next activation replaces) and version."""

    activation_id: int
    version: str


@dataclass(frozen=True, slots=True)
class VersionRecord:
    """One activation, as `gongdan config log` prints it."""

    activation_id: int
    version: str
    activated_at: datetime
    source: str
    activated_by: str
    summary: str
    active: bool


def read_active(session: Session) -> ActiveVersion | None:
    """The active version (None before the first activation). One indexed read: every
    process asks it twice a second."""
    row = session.execute(
        select(ConfigActivation.id, ConfigActivation.version)
        .order_by(ConfigActivation.id.desc())
        .limit(1)
    ).first()
    return None if row is None else ActiveVersion(int(row[0]), str(row[1]))


def record_activation(
    session: Session,
    *,
    version: str,
    files: list[tuple[str, str]],
    summary: str,
    previous: ActiveVersion | None,
    source: str,
    activated_by: str,
    now: datetime,
) -> int:
    """Store `version` (its files, once) and make it active after `previous`. Flushed
    at once: a process promoting from the same `previous` at the same moment waits on
    the unique `previous_id` here and then fails (`IntegrityError`), before it has done
    anything else. Returns the new activation's id."""
    stored = session.get(ConfigVersion, version)
    content: list[Any] = [[path, text] for path, text in files]
    if stored is None:
        session.add(ConfigVersion(version=version, loaded_at=now, summary=summary, content=content))
        session.flush()  # (no relationship orders the two inserts)
    elif stored.content is None:  # recorded before versions kept their files
        stored.content = content
    activation = ConfigActivation(
        version=version,
        previous_id=previous.activation_id if previous is not None else 0,
        activated_at=now,
        source=source,
        activated_by=activated_by[:254],
    )
    session.add(activation)
    session.flush()
    return activation.id


def version_log(db: Database, limit: int = 50) -> list[VersionRecord]:
    """The latest activations, newest first; the first is the active one."""
    with db.reading() as session:
        rows = session.execute(
            select(ConfigActivation, ConfigVersion.summary)
            .join(ConfigVersion, ConfigVersion.version == ConfigActivation.version)
            .order_by(ConfigActivation.id.desc())
            .limit(limit)
        ).all()
    return [
        VersionRecord(
            activation.id,
            activation.version,
            activation.activated_at,
            activation.source,
            activation.activated_by,
            summary,
            active=n == 0,
        )
        for n, (activation, summary) in enumerate(rows)
    ]


def version_files(db: Database, version: str) -> tuple[str, list[tuple[str, str]]]:
    """The full version id and the files of the version `version` names (the whole
    hash or a prefix of at least 4 characters). `NotFound` when no version matches (or
    its files were not kept), `ValidationFailed` when the prefix is ambiguous."""
    wanted = version.strip().lower()
    if len(wanted) < 4 or any(c not in "0123456789abcdef" for c in wanted):
        raise ValidationFailed(
            f"'{version}' is not a version (4 to 16 hexadecimal characters)",
            {"version": "must be a version id or a prefix of one"},
        )
    with db.reading() as session:
        rows = session.execute(
            select(ConfigVersion.version, ConfigVersion.content)
            .where(ConfigVersion.version.startswith(wanted, autoescape=True))
            .limit(2)
        ).all()
    if not rows:
        raise NotFound(f"no config version '{version}'")
    if len(rows) > 1:
        raise ValidationFailed(
            f"'{version}' names more than one version: give more characters",
            {"version": "is ambiguous"},
        )
    found, content = rows[0]
    if content is None:
        raise NotFound(f"config version {found} was recorded before versions kept their files")
    return str(found), [(str(path), str(text)) for path, text in content]
