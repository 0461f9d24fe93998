"""Collect: the database -- tables, engines, migrations and idempotent frame writes."""
