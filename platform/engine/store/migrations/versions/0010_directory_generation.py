"""A generation number for the people routing reads: users and team memberships.

Routing reads a team's members (who is active, away, their skills and capacities)
on every create it assigns. These rows change rarely, so each process keeps them in
memory (`engine.automation.routing`) and, at every pick, reads only the members' open-ticket
counts and this generation. Triggers give it a new value in the same transaction as
any change to `memberships` or to staff rows of `users` (INSERT, UPDATE, DELETE, and
on PostgreSQL TRUNCATE), so it moves exactly when the rows routing reads do, whichever
process or tool changed them; a process that sees a generation other than the one it read its copy at reads
the members again. Each new value is random (an UPSERT: the row comes back if the
table was emptied), not the old one plus one: a transaction that changed users and
was rolled back leaves a value no later change will give again, so members read
inside it can never pass for the committed ones.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

import random

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# Routing reads agents and admins only (`engine.automation.routing`): requesters, who come and go
# with every new sender of mail, leave the generation alone unless they become staff.
STAFF = "('agent', 'admin')"
WHEN = {
    ("users", "INSERT"): f"NEW.role IN {STAFF}",
    ("users", "UPDATE"): f"OLD.role IN {STAFF} OR NEW.role IN {STAFF}",
    ("users", "DELETE"): f"OLD.role IN {STAFF}",
    ("memberships", "INSERT"): None,
    ("memberships", "UPDATE"): None,
    ("memberships", "DELETE"): None,
}
TABLES = ("users", "memberships")

PG_BUMP = """
CREATE FUNCTION gongdan_directory_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO directory_generation (id, generation)
    VALUES (1, floor(random() * 4611686018427387903)::bigint)
    ON CONFLICT (id) DO UPDATE SET generation = excluded.generation;
  RETURN NULL;
END $$;
"""
SQLITE_BUMP = (
    "INSERT INTO directory_generation (id, generation) "
    "VALUES (1, random()) ON CONFLICT (id) DO UPDATE SET generation = excluded.generation"
)


def upgrade() -> None:
    op.create_table(
        "directory_generation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_generation")),
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute(PG_BUMP)
    for (table, change), condition in WHEN.items():
        name = f"{table}_directory_bump_{change.lower()}"
        if postgresql:
            when = f" WHEN ({condition})" if condition else ""
            op.execute(
                f"CREATE TRIGGER {name} AFTER {change} ON {table} FOR EACH ROW{when} "
                "EXECUTE FUNCTION gongdan_directory_bump()"
            )
        else:
            when = f" WHEN {condition}" if condition else ""
            op.execute(
                f"CREATE TRIGGER {name} AFTER {change} ON {table}{when} BEGIN {SQLITE_BUMP}; END"
            )
    if postgresql:  # (SQLite has no TRUNCATE: its DELETE fires the row triggers)
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_directory_bump_truncate AFTER TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION gongdan_directory_bump()"
            )
    start = random.randrange(1 << 62)  # noqa: S311 - not a secret: a fresh start
    op.execute(
        sa.text("INSERT INTO directory_generation (id, generation) VALUES (1, :start)").bindparams(
            start=start
        )
    )


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table, change in WHEN:
        name = f"{table}_directory_bump_{change.lower()}"
        op.execute(f"DROP TRIGGER {name} ON {table}" if postgresql else f"DROP TRIGGER {name}")
    if postgresql:
        for table in TABLES:
            op.execute(f"DROP TRIGGER {table}_directory_bump_truncate ON {table}")
        op.execute("DROP FUNCTION gongdan_directory_bump()")
    op.drop_table("directory_generation")
