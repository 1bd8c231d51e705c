"""Persistence: SQLModel tables, engine setup, repositories, Alembic migrations."""
