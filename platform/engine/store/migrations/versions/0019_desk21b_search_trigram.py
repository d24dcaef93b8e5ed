"""The desk's search at a million tickets: trigram indexes (PostgreSQL).

The search box finds tickets whose title, description, comments, searchable custom
fields or requester's name or email contain the words typed, in any language: Chinese
has no spaces between words, so it is a substring search (`ILIKE '%text%'`), which a
B-tree cannot serve. `pg_trgm`'s GIN indexes can, for three characters or more: each
column searched gets one, the custom fields through their JSON text (`data::text`: the
index finds candidates, the query then checks the searchable fields themselves), and
`engine.reads.queries.text_condition` writes the search so that PostgreSQL can combine
them (one bitmap OR on tickets; comments and people first give the ids they match).

`pg_trgm` ships with PostgreSQL (contrib) and is a trusted extension: a database owner
may create it. Where it cannot be had, this migration leaves the indexes out and says
so; the search gives the same answers, by scanning. SQLite keeps no such index: its
search is a scan (README, "Performance").

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)

INDEXES = {
    "ix_tickets_title_trgm": "tickets USING gin (title gin_trgm_ops)",
    "ix_tickets_description_trgm": "tickets USING gin (description gin_trgm_ops)",
    "ix_tickets_data_trgm": "tickets USING gin ((data::text) gin_trgm_ops)",
    "ix_comments_body_trgm": "comments USING gin (body gin_trgm_ops)",
    "ix_users_name_trgm": "users USING gin (name gin_trgm_ops)",
    "ix_users_email_trgm": "users USING gin (email gin_trgm_ops)",
}


def _trigram_available() -> bool:
    bind = op.get_bind()
    if bind.scalar(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")):
        return True
    if not bind.scalar(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")):
        log.warning("pg_trgm is not installed: the desk's search will scan (no trigram index)")
        return False
    # A refusal (no CREATE privilege on the database) must not abort the migration.
    bind.execute(sa.text("SAVEPOINT gongdan_pg_trgm"))
    try:
        bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError as exc:
        bind.execute(sa.text("ROLLBACK TO SAVEPOINT gongdan_pg_trgm"))
        log.warning("cannot create pg_trgm (%s): the desk's search will scan", exc.orig)
        return False
    bind.execute(sa.text("RELEASE SAVEPOINT gongdan_pg_trgm"))
    return True


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql" or not _trigram_available():
        return
    for name, definition in INDEXES.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
