"""Database: ORM models, engine and session factory, and schema upgrades through Alembic."""
