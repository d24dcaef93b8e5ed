"""On PostgreSQL, tell every web process at once that recognised tokens may be stale.

Each web process keeps the bearer tokens it recognised for a few seconds
(`engine.accounts.tokens`): looking a token up on every request costs a share of a
worker's CPU. A token revoked in another process (`gongdan token revoke`, another
worker) must stop working at once everywhere, so these statement-level triggers send
`NOTIFY gongdan_tokens` in the same transaction as any change that can make a
recognised token wrong: a token revoked or deleted, a user's `active`, `role` or
`email` changed or the user deleted, a team membership changed, and a TRUNCATE of
those tables. PostgreSQL delivers the notification when that transaction commits;
each process's listener (`engine.store.token_events`) then forgets what it kept.
SQLite has no notifications: there, processes keep no tokens.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

FUNCTION = """
CREATE FUNCTION gongdan_tokens_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('gongdan_tokens', TG_TABLE_NAME);
  RETURN NULL;
END $$;
"""
TRIGGERS = {
    "api_tokens_changed": "AFTER UPDATE OF revoked_at OR DELETE ON api_tokens",
    "api_tokens_truncated": "AFTER TRUNCATE ON api_tokens",
    "users_access_changed": "AFTER UPDATE OF active, role, email OR DELETE ON users",
    "users_truncated": "AFTER TRUNCATE ON users",
    "memberships_changed": "AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON memberships",
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTION)
    for name, when in TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER {name} {when} FOR EACH STATEMENT "
            "EXECUTE FUNCTION gongdan_tokens_changed()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, when in TRIGGERS.items():
        table = when.rsplit(" ON ", 1)[1]
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    op.execute("DROP FUNCTION IF EXISTS gongdan_tokens_changed()")
