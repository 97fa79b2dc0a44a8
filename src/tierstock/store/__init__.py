"""Persistence: SQLAlchemy 2 tables, the unit of work and Alembic migrations.

Only this package imports ``sqlalchemy``; it hands domain values back to services.
"""
