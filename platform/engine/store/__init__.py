"""Persistence: models, database access and migrations."""
