"""The migrations build exactly the tables the models declare, on both databases: a
column added to a model without a migration (or the reverse) fails here, not in
production."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext

from gongdan.bundle.compiled import Bundle
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import MIGRATIONS, Database
from gongdan.engine.store.models import Base
from gongdan.engine.tickets.attachments import AttachmentStore
from gongdan.errors import NotFound
from tests.factories import make_user


def _differences(db: Database) -> list[object]:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": False, "compare_server_default": False}
        )
        found = compare_metadata(context, Base.metadata)
    # Indexes that only exist in migrations (partial, trigram, GIN) are declared there on
    # purpose; what must agree is every table and column.
    return [
        d for d in found if not (isinstance(d, tuple) and d[0] in {"add_index", "remove_index"})
    ]


def test_migrated_schema_matches_the_models(db: Database) -> None:
    assert _differences(db) == []


def _downgrade(db: Database, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def test_files_stored_before_public_ids_keep_working_under_new_ids(
    tmp_path: Path, example_bundle: Bundle
) -> None:
    """Migration 0013: rows from before get a random public id, and the attachment
    fields that named them by row id name them by that public id now."""
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    db.upgrade()
    service = TicketService(db, example_bundle, attachments=AttachmentStore(tmp_path / "files"))
    requester = make_user(db, "mei@example.com", "requester")
    upload = service.upload(
        requester, "it_incident", "screenshots",
        filename="a.png", content_type="image/png", content=b"png",
    )  # fmt: skip
    created = service.create_ticket(
        requester, "it_incident", title="Old", fields={"category": "software", "impact": "me",
                                                       "screenshots": [upload]},
    ).ticket  # fmt: skip
    _downgrade(db, "0012")  # (drops the column) …
    with db.engine.begin() as connection:  # … and the field names the file as it used to
        row_id = connection.execute(sa.text("SELECT id FROM attachments")).scalar_one()
        data = json.dumps({"category": "software", "impact": "me", "screenshots": [str(row_id)]})
        connection.execute(sa.text("UPDATE tickets SET data = :d"), {"d": data})
    db.upgrade()
    ticket = service.get_ticket(requester, created.key)
    (public_id,) = ticket.data["screenshots"]
    assert public_id != str(row_id) and len(public_id) >= 24
    assert service.read_attachment(requester, public_id)[0] == "a.png"
    with pytest.raises(NotFound):
        service.read_attachment(requester, str(row_id))
    db.dispose()
