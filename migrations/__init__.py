"""Alembic migrations of Bazgasht's database, applied on first use by ``open_database``."""
