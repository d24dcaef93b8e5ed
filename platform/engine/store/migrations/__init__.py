"""Alembic migrations of the Gongdan database."""
