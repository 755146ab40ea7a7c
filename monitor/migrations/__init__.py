"""Alembic migrations of parkmon's schema (run through ``monitor.schema``, never by hand).

``versions/`` holds one file per revision; ``monitor.models.SCHEMA_VERSION`` names the head and
a test keeps the two equal and checks that the migrated schema is the models' schema.
"""
