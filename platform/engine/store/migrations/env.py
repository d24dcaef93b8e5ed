"""Alembic environment: runs on the connection `Database.upgrade` hands over."""

from __future__ import annotations

from alembic import context

from gongdan.engine.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - always called through Database.upgrade
    raise RuntimeError("run migrations with `gongdan db upgrade`")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
